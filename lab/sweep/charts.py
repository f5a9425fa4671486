"""Sweep results as charts: the mean over seeds with its 95 % confidence interval, as lines
(one varied parameter, or two: the second one as a family of lines) or a heatmap.

Columns of the records play one of four roles: an *axis* (a swept parameter's column), the
*metric* (a measured number), a *dimension* (anything else that labels rows: method, arm,
model, a noise level passed whole ...; shown as colours or picked in a filter), or another
measurement (ignored for this chart). Seeds are what the mean and interval are taken over.

Intervals come from :func:`nuonuo_core.experiments.summarize` (Student's t over seeds by
default, or the percentile bootstrap). Colours are the lab's (:func:`lab.charts.series_color`):
a method, model or arm keeps its colour on every page; a second varied parameter is drawn as
shades of that colour (lighter = smaller value) with its own dash and marker. Lines that
would sit on top of each other are pulled a little apart along x (the hover shows the true
x), so no line hides another.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.colors as pc
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lab.charts import ACCENT, series_color, shade, template_kw
from nuonuo_core.experiments import get_experiment, summarize
from nuonuo_core.sweep import Grid

HIDDEN = ("experiment", "seed", "task")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
SYMBOLS = ("circle", "diamond", "square", "triangle-up", "x", "star")
INTERVALS = {"t": "Student's t", "bootstrap": "percentile bootstrap"}


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


def default_x(df: pd.DataFrame, axes: list[str]) -> int:
    """Which varied parameter goes on x: a float one (a noise level, a cosine) before an
    integer size, then the one with more values; the other one becomes the line family."""
    def rank(i: int) -> tuple:
        col = df[axes[i]]
        return (pd.api.types.is_float_dtype(col), col.nunique(), -i)
    return max(range(len(axes)), key=rank) if axes else 0


def summary(df: pd.DataFrame, by: list[str], metric: str, method: str = "t") -> pd.DataFrame:
    """Mean, 95 % CI (``method``: "t" or "bootstrap") and seed count of ``metric`` per ``by``
    group (groups in record order; groups without a value left out), with ``plus`` /
    ``minus``: the interval's distance above and below the mean (0 where there is no
    interval: one seed)."""
    s = summarize(df, metric, by, method=method)
    s = s[s["n"] > 0].reset_index(drop=True)        # a group with no value (all NaN)
    s["plus"] = (s["ci_high"] - s["mean"]).fillna(0.0).clip(lower=0.0)
    s["minus"] = (s["mean"] - s["ci_low"]).fillna(0.0).clip(lower=0.0)
    return s


def interval_text(method: str, seeds: int) -> str:
    """What the bars mean, for the caption under a chart."""
    if seeds < 2:
        return ("One seed: no interval can be drawn. Run ≥ 3 seeds to see how much the "
                "result moves from seed to seed.")
    if method == "bootstrap":
        how = ("the percentile bootstrap of the seeds' mean (10 000 resamples; no normal "
               "assumption, but too narrow below ~10 seeds)")
    else:
        how = "Student's t over seeds, mean ± t₀.₉₇₅,ₙ₋₁ · sd / √n"
    return (f"Each point: the mean over {seeds} seeds. Bar: its 95 % confidence interval, "
            f"{how}; rerun with new seeds and 95 % of such bars hold the true mean. No bar: "
            "the same value in every seed. A fraction's bar is cut at 0 and 1 (the table "
            "and the CSV keep it whole).")


def _is_fraction(values: pd.Series) -> bool:
    v = values.dropna()
    return bool(len(v)) and float(v.min()) >= 0.0 and float(v.max()) <= 1.0


def _log_axis(x: pd.Series) -> bool:
    return (pd.api.types.is_numeric_dtype(x) and len(x) > 0 and float(x.min()) > 0
            and float(x.max()) / float(x.min()) > 20)


def _ordered(values) -> list:
    """Distinct values: numbers ascending, anything else in first-seen order."""
    uniq = list(dict.fromkeys(values))
    try:
        return sorted(uniq) if all(isinstance(v, (int, float, np.number)) for v in uniq) \
            else uniq
    except TypeError:
        return uniq


def family_styles(base: str | None, n: int) -> list[dict]:
    """Line / marker styles of the ``n`` values of a line family, smallest first: shades of
    ``base`` (lighter = smaller; the largest at full strength), or a sequential scale when
    there is no base colour; dashes and markers differ too, so print and colour-blind
    readers can tell them apart."""
    if base is None:
        cols = pc.sample_colorscale("Viridis", list(np.linspace(0.0, 0.8, n)) if n > 1
                                    else [0.0])
    else:
        cols = [shade(base, -0.55 * (n - 1 - j) / max(n - 1, 1)) for j in range(n)]
    return [{"color": cols[j], "dash": DASHES[(n - 1 - j) % len(DASHES)],
             "symbol": SYMBOLS[(n - 1 - j) % len(SYMBOLS)]} for j in range(n)]


def _same(col: pd.Series, value) -> np.ndarray:
    """Rows of ``col`` equal to ``value`` (NaN matches NaN: a series without that value)."""
    if isinstance(value, float) and value != value:
        return col.isna().to_numpy()
    return (col == value).to_numpy()


def _fmt(v) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{v:g}"
    return f"{v:,}" if isinstance(v, (int, np.integer)) and not isinstance(v, bool) else str(v)


def _spread(xs: list, numeric: bool, log: bool, m: int) -> float:
    """How far apart (in x units; log10 units on a log axis; category steps otherwise) the
    ``m`` lines are pulled so that equal points stay visible: at most 2 % of the axis and
    half the smallest gap between x values, shared out among the lines."""
    if m < 2:
        return 0.0
    if numeric and len(xs) > 1:
        coords = np.log10(np.asarray(xs, float)) if log else np.asarray(xs, float)
        return min(0.02 * float(coords[-1] - coords[0]),
                   0.5 * float(np.min(np.diff(coords))) / m)
    return min(0.08, 0.5 / m)


def lines(s: pd.DataFrame, x: str, metric: str, colour: str | None = None,
          family: str | None = None, interval: str = "t", x_title: str | None = None,
          y_title: str | None = None, reverse_x: bool = False,
          family_label: str | None = None) -> go.Figure:
    """One line per (``colour`` value, ``family`` value) of a :func:`summary` frame, each
    point the mean with its CI as an error bar. ``colour``: a dimension drawn in the lab's
    colours (method, model, arm …); ``family``: a second varied parameter, drawn as shades,
    dashes and markers of that colour (a colour value whose rows have no family value, NaN,
    is one plain line)."""
    fig = go.Figure()
    keys = _ordered(s[colour]) if colour else [None]
    numeric = pd.api.types.is_numeric_dtype(s[x])
    log = numeric and _log_axis(s[x])
    xs = _ordered(s[x])
    pos = {v: i for i, v in enumerate(xs)}
    traces = []                        # (key, family value, style)
    for i, key in enumerate(keys):
        mine = s[_same(s[colour], key)] if colour else s
        fams = _ordered(mine[family]) if family else [None]
        fams = [f for f in fams if not (isinstance(f, float) and f != f)] + \
            ([float("nan")] if family and mine[family].isna().any() else [])
        base = series_color(key, i) if colour else (None if family else ACCENT)
        real = [f for f in fams if not (isinstance(f, float) and f != f)]
        styles = family_styles(base, len(real)) if family and real else []
        for f in fams:
            if family and f in real:
                style = styles[real.index(f)]
            else:
                style = {"color": base or ACCENT, "dash": "solid",
                         "symbol": SYMBOLS[i % len(SYMBOLS)]}
            traces.append((key, f, style))
    step = _spread(xs, numeric, log, len(traces))
    fraction = _is_fraction(s["mean"])    # a fraction's bars are cut at 0 and 1
    for t, (key, fam, style) in enumerate(traces):
        mask = np.ones(len(s), bool)
        if colour:
            mask &= _same(s[colour], key)
        if family:
            mask &= _same(s[family], fam)
        part = s[mask]
        part = part.iloc[np.argsort([pos[v] for v in part[x]], kind="stable")]
        off = (t - (len(traces) - 1) / 2) * step
        if numeric:
            raw = part[x].astype(float).to_numpy()
            shown = raw * 10 ** off if log else raw + off
        else:
            shown = np.asarray([pos[v] for v in part[x]], float) + off
        has_fam = family and not (isinstance(fam, float) and fam != fam)
        name = " · ".join(b for b in (str(key) if colour else "",
                                      f"{family_label or family} {_fmt(fam)}" if has_fam
                                      else "") if b) \
            or metric
        ci = [f"[{lo:.3g}, {hi:.3g}]" if n > 1 and lo == lo else "none (one seed)"
              for lo, hi, n in zip(part["ci_low"], part["ci_high"], part["n"])]
        fig.add_trace(go.Scatter(
            x=shown, y=part["mean"], mode="lines+markers", name=name,
            legendgroup=str(key), line=dict(color=style["color"], width=2.5,
                                            dash=style["dash"]),
            marker=dict(symbol=style["symbol"], size=8, color=style["color"]),
            error_y=dict(type="data", symmetric=False,
                         array=np.minimum(part["plus"], 1 - part["mean"]).to_numpy()
                         if fraction else part["plus"].to_numpy(),
                         arrayminus=np.minimum(part["minus"], part["mean"]).to_numpy()
                         if fraction else part["minus"].to_numpy(), visible=True, thickness=1.6,
                         width=5, color=style["color"]),
            customdata=np.stack([[_fmt(v) for v in part[x]], ci,
                                 part["n"].astype(int).astype(str)], axis=-1),
            hovertemplate=(f"<b>{name}</b><br>{x} = %{{customdata[0]}}<br>{metric} = "
                           "%{y:.4g}<br>95 % CI %{customdata[1]} · %{customdata[2]} seeds"
                           "<extra></extra>")))
    how = INTERVALS.get(interval, interval)
    fig.update_layout(**template_kw(), xaxis_title=x_title or x, height=460,
                      yaxis_title=(y_title or metric) +
                      f"<br><sup>mean over seeds, 95 % CI ({how})</sup>",
                      legend=dict(orientation="h", y=-0.2, x=0, title_text=""),
                      margin=dict(t=20, b=40, l=70, r=20), font=dict(size=13))
    if log:
        fig.update_xaxes(type="log")
    if not numeric:
        fig.update_xaxes(tickmode="array", tickvals=list(range(len(xs))),
                         ticktext=[str(v) for v in xs])
    elif len(xs) <= 12:
        fig.update_xaxes(tickmode="array", tickvals=xs, ticktext=[_fmt(v) for v in xs])
    if reverse_x:
        fig.update_xaxes(autorange="reversed")
    if _is_fraction(s["mean"]):
        fig.update_yaxes(range=[-0.03, 1.05])
    return fig


def heatmap(s: pd.DataFrame, x: str, y: str, metric: str,
            facet: str | None = None) -> go.Figure:
    """Mean ± CI half-width per cell of a :func:`summary` frame; one panel per value of
    ``facet`` on one shared colour scale (0..1 when every value lies in [0, 1])."""
    keys = list(dict.fromkeys(s[facet])) if facet else [None]
    lo, hi = float(s["mean"].min()), float(s["mean"].max())
    lo, hi = (0.0, 1.0) if lo >= 0 and hi <= 1 else (lo, hi if hi > lo else lo + 1)
    fig = make_subplots(rows=1, cols=len(keys), shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=[f"{facet} = {k}" for k in keys] if facet else None)
    for i, key in enumerate(keys, start=1):
        part = s[s[facet] == key] if facet else s
        mean = part.pivot(index=y, columns=x, values="mean")
        half = part.pivot(index=y, columns=x, values="half_width").reindex_like(mean)
        text = [[f"{m:.2f}" + ("" if not math.isfinite(h) else f"±{h:.2f}")
                 for m, h in zip(rm, rh)]
                for rm, rh in zip(mean.to_numpy(), half.to_numpy())]
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
    fig.update_layout(**template_kw(), margin=dict(t=40, b=40), height=420)
    return fig
