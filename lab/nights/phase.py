"""The sleep phase map (experiment ``sleep_phase``): day-1 survival after N nights over
homeostasis h × prune threshold θ, one panel per (arm, epochs a night), with the seed's
setting and ours marked. Pure: no Streamlit."""
from __future__ import annotations

from typing import Callable

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from nuonuo_core.experiments import run_experiment
from nuonuo_core.experiments.sleep_phase import OUR_POINTS, SEED_POINT

GRID: dict = {}  # overrides of sleep_phase's default grid (empty: the documented defaults)
COMMAND = "python -m nuonuo_core.experiments sleep_phase"
Progress = Callable[[float, str], None] | None


def run(progress: Progress = None) -> pd.DataFrame:
    """The sleep_phase records (every night) on the default grid; progress(fraction, text)."""
    def tell(done: int, total: int) -> None:
        if progress is not None:
            progress(done / max(total, 1), f"run {done} of {total}")
    return run_experiment("sleep_phase", progress=tell,
                          **{"arms": ("replay", "no_replay"), **GRID})  # the panels drawn


def at_night(df: pd.DataFrame, night: int) -> pd.DataFrame:
    """The rows of one night (the last one when ``night`` is past the end)."""
    night = min(int(night), int(df.night.max()))
    cols = ["arm", "epochs", "homeostasis", "prune_threshold", "night", "survival",
            "code_cos", "rate", "w_nnz", "unreplayed_pruned"]
    return df[df.night == night][cols].reset_index(drop=True)


MARKS = [("seed", SEED_POINT, "#E45756", "solid")] + [
    (name, p, "#F58518" if "(c)" in name else "#17BECF", "dash")
    for name, p in OUR_POINTS.items()]


def _mark_name(name: str, p: dict) -> str:
    return f"{name}: h {p['homeostasis']:g}, θ {_label(p['prune_threshold'])}"


def _label(thr: float) -> str:
    return "0" if thr == 0 else f"{thr:g}"


def heatmap(df: pd.DataFrame, night: int, metric: str = "survival") -> go.Figure:
    """Panels (rows: arm, columns: epochs a night) of ``metric`` over (θ, h) after ``night``
    nights; the seed's (h, θ) and ours outlined, each on the panels of its epochs a night.
    θ and h are categorical axes (θ = 0 included)."""
    d = at_night(df, night)
    arms = [a for a in ("replay", "no_replay") if a in set(d.arm)]
    epochs = sorted(d.epochs.unique())
    fig = make_subplots(rows=len(arms), cols=len(epochs), shared_xaxes=True,
                        shared_yaxes=True, horizontal_spacing=0.06, vertical_spacing=0.12,
                        subplot_titles=[f"{a.replace('_', ' ')} · {e} epoch"
                                        f"{'s' if e != 1 else ''} a night"
                                        for a in arms for e in epochs])
    for r, arm in enumerate(arms, start=1):
        for c, e in enumerate(epochs, start=1):
            cell = d[(d.arm == arm) & (d.epochs == e)]
            grid = cell.pivot(index="homeostasis", columns="prune_threshold", values=metric)
            xs, ys = [_label(t) for t in grid.columns], [f"{h:g}" for h in grid.index]
            fig.add_heatmap(z=grid.values, x=xs, y=ys, zmin=0, zmax=1, colorscale="Viridis",
                            showscale=(r, c) == (1, 1), colorbar=dict(title=metric),
                            text=grid.round(2).values, texttemplate="%{text}",
                            hovertemplate="h=%{y}<br>θ=%{x}<br>" + metric +
                            "=%{z:.2f}<extra></extra>", row=r, col=c)
            for _name, p, color, dash in MARKS:
                x, y = _label(p["prune_threshold"]), f"{p['homeostasis']:g}"
                if x in xs and y in ys and e in p["epochs"]:
                    i, j = xs.index(x), ys.index(y)  # categorical axes: cells sit at 0, 1, …
                    fig.add_shape(type="rect", x0=i - 0.46, x1=i + 0.46, y0=j - 0.44,
                                  y1=j + 0.44, line=dict(color=color, width=3, dash=dash),
                                  row=r, col=c)
    for name, p, color, _dash in MARKS:  # legend entries for the outlines
        fig.add_scatter(x=[None], y=[None], mode="markers", name=_mark_name(name, p),
                        marker=dict(symbol="square-open", size=14, color=color,
                                    line=dict(width=3)), row=1, col=1)
    what = ("survival: strict recall@1 of day-1 memories (-1 = miss)" if metric == "survival"
            else f"the seed's {metric} (code cosine)")
    fig.update_layout(template="plotly_white", height=260 * len(arms) + 170,
                      title=dict(text=f"After {min(int(night), int(df.night.max()))} nights: "
                                 f"{what}", x=0.0, font=dict(size=15)),
                      margin=dict(l=60, r=20, t=80, b=110),
                      legend=dict(orientation="h", y=-0.16, x=0.0),
                      font=dict(size=12))
    fig.update_xaxes(title_text="prune threshold θ", type="category", row=len(arms))
    fig.update_yaxes(title_text="homeostasis h", type="category", col=1)
    return fig
