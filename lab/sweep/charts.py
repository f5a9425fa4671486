"""Sweep results as charts: mean and spread over seeds along one axis (lines) or two (heatmap).

Columns of the records play one of four roles: an *axis* (a swept parameter's column), the
*metric* (a measured number), a *dimension* (anything else that labels rows: method, night,
a noise level passed whole ...; each is shown as colours or picked in a filter), or another
measurement (ignored for this chart). Seeds are what the mean and spread are taken over.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from nuonuo_core.experiments import get_experiment
from nuonuo_core.sweep import Grid

HIDDEN = ("experiment", "seed", "task")


def axis_columns(grid: Grid, df: pd.DataFrame) -> list[str]:
    """The record column of each swept parameter (noise_stds -> noise_std)."""
    out = []
    for name, values in grid.axes:
        flat = {v[0] if isinstance(v, tuple) else v for v in values}
        for cand in (name, name[:-1] if name.endswith("s") else name):
            if cand in df.columns:
                out.append(cand)
                break
        else:
            match = [c for c in df.columns if c not in HIDDEN and set(df[c]) == flat]
            if match:
                out.append(match[0])
    return out


def roles(grid: Grid, df: pd.DataFrame) -> tuple[list[str], list[str], list[str]]:
    """(axes, metrics, varying dimensions) of a sweep's records. A float column that is no
    parameter is a metric; any other column that varies is a dimension."""
    axes = axis_columns(grid, df)
    names = set(get_experiment(grid.experiment).config_cls.__dataclass_fields__)
    rest = [c for c in df.columns if c not in HIDDEN and c not in axes]

    def label(c: str) -> bool:
        return not pd.api.types.is_float_dtype(df[c]) or c in names or f"{c}s" in names

    metrics = [c for c in rest if not label(c)]
    if not metrics:
        metrics = [c for c in rest if pd.api.types.is_numeric_dtype(df[c])
                   and not pd.api.types.is_bool_dtype(df[c])]
    dims = [c for c in rest if c not in metrics and label(c) and df[c].nunique() > 1]
    return axes, metrics, dims


def default_metric(metrics: list[str]) -> int:
    pick = [i for i, m in enumerate(metrics) if "recall" in m]
    return pick[0] if pick else 0


def summary(df: pd.DataFrame, by: list[str], metric: str) -> pd.DataFrame:
    """Mean, standard deviation and count of ``metric`` over seeds, per ``by`` group."""
    g = df.groupby(by, sort=False, dropna=False)[metric]     # groups in record order
    out = g.agg(mean="mean", std="std", n="count").reset_index()
    out["std"] = out["std"].fillna(0.0)
    return out


def lines(s: pd.DataFrame, x: str, metric: str, colour: str | None) -> go.Figure:
    fig = go.Figure()
    groups = s.groupby(colour, sort=False) if colour else [(None, s)]
    for key, part in groups:
        key = key[0] if isinstance(key, tuple) else key
        if pd.api.types.is_numeric_dtype(part[x]):
            part = part.sort_values(x)
        fig.add_trace(go.Scatter(
            x=part[x], y=part["mean"], mode="lines+markers", name=str(key) if colour else metric,
            error_y=dict(type="data", array=part["std"], visible=True),
            hovertemplate=f"{x}=%{{x}}<br>{metric}=%{{y:.4g}} ± %{{error_y.array:.3g}}"
                          "<extra></extra>"))
    fig.update_layout(xaxis_title=x, yaxis_title=f"{metric} (mean ± sd over seeds)",
                      legend_title=colour or "", margin=dict(t=30, b=40))
    if pd.api.types.is_numeric_dtype(s[x]) and s[x].min() > 0 and s[x].max() / s[x].min() > 20:
        fig.update_xaxes(type="log")
    return fig


def heatmap(s: pd.DataFrame, x: str, y: str, metric: str,
            facet: str | None = None) -> go.Figure:
    """Mean ± sd per cell; one panel per value of ``facet`` on one shared colour scale
    (0..1 when every value lies in [0, 1])."""
    keys = list(dict.fromkeys(s[facet])) if facet else [None]
    lo, hi = float(s["mean"].min()), float(s["mean"].max())
    lo, hi = (0.0, 1.0) if lo >= 0 and hi <= 1 else (lo, hi if hi > lo else lo + 1)
    fig = make_subplots(rows=1, cols=len(keys), shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=[f"{facet} = {k}" for k in keys] if facet else None)
    for i, key in enumerate(keys, start=1):
        part = s[s[facet] == key] if facet else s
        mean = part.pivot(index=y, columns=x, values="mean")
        sd = part.pivot(index=y, columns=x, values="std").reindex_like(mean)
        text = [[f"{m:.2f}±{d:.2f}" for m, d in zip(rm, rd)]
                for rm, rd in zip(mean.to_numpy(), sd.to_numpy())]
        fig.add_trace(go.Heatmap(
            z=mean.to_numpy(), x=[str(v) for v in mean.columns], y=[str(v) for v in mean.index],
            text=text, texttemplate="%{text}", textfont=dict(size=12), colorscale="Viridis",
            zmin=lo, zmax=hi,
            showscale=i == len(keys), colorbar=dict(title=metric),
            hovertemplate=f"{x}=%{{x}}<br>{y}=%{{y}}<br>{metric}=%{{text}}<extra></extra>"),
            row=1, col=i)
        fig.update_xaxes(title_text=x, type="category", row=1, col=i)
    fig.update_yaxes(title_text=y, type="category", row=1, col=1)
    fig.update_yaxes(type="category")
    fig.update_layout(margin=dict(t=40, b=40), height=420)
    return fig
