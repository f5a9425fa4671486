"""Plotly figures for the pattern-completion sandbox: pixel images, step strips, energy,
overlap and capacity. Pixels: +1 black (ink), -1 white, 0 (nothing recalled) grey."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lab.charts import ACCENT, METHOD_COLORS, template_kw

MODEL_COLORS = {"classical": ACCENT, "modern": METHOD_COLORS["hopfield"],
                "hybrid": METHOD_COLORS["hebbian"]}
PIXELS = [[0.0, "#ffffff"], [0.5, "#bdbdbd"], [1.0, "#111111"]]


def _frame(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(**template_kw(), height=height, font=dict(size=13),
                      title=dict(text=title, x=0.0, font=dict(size=15)),
                      margin=dict(l=10, r=10, t=40 if title else 10, b=10))
    return fig


def _tiled(imgs: list[np.ndarray], shape, gap: int) -> tuple[go.Figure, list[float]]:
    """One heatmap of images side by side (``gap`` white columns between them), square
    pixels; returns the figure and each image's centre on the x axis. One trace is far
    cheaper to build and draw than a subplot per image."""
    h, w = shape
    space = np.full((h, gap), np.nan, dtype=np.float32)
    tiles = []
    for img in imgs:
        tiles += [np.asarray(img, np.float32).reshape(h, w), space]
    fig = go.Figure(go.Heatmap(z=np.hstack(tiles[:-1]), zmin=-1, zmax=1, colorscale=PIXELS,
                               showscale=False, hoverinfo="skip"))
    fig.update_xaxes(showgrid=False, zeroline=False)
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    fig.update_layout(plot_bgcolor="#ffffff")
    return fig, [(w + gap) * i + (w - 1) / 2 for i in range(len(imgs))]


def images(imgs: list[np.ndarray], titles: list[str], shape, height: int = 230) -> go.Figure:
    """Images side by side, each titled above."""
    fig, centers = _tiled(imgs, shape, gap=max(2, shape[1] // 3))
    fig.update_xaxes(side="top", tickvals=centers, ticktext=titles, ticks="",
                     tickfont=dict(size=13))
    _frame(fig, "", height)
    fig.update_layout(margin=dict(l=10, r=10, t=30, b=5))
    return fig


def strip(states: list[np.ndarray], shape, title: str, current: int | None = None,
          height: int = 150) -> go.Figure:
    """Every step of one probe as a row of images; the shown step is outlined."""
    h, w = shape
    fig, centers = _tiled(states, shape, gap=1)
    fig.update_xaxes(tickvals=centers, ticktext=[str(i) for i in range(len(states))],
                     title_text="step")
    if current is not None:
        x0 = (w + 1) * min(current, len(states) - 1) - 0.5
        fig.add_shape(type="rect", x0=x0, x1=x0 + w, y0=-0.5, y1=h - 0.5,
                      line=dict(color="#E45756", width=3))
    _frame(fig, title, height)
    fig.update_layout(margin=dict(l=10, r=10, t=35, b=40))
    return fig


def _lines(fig: go.Figure, df: pd.DataFrame, x: str, y: str, col: int | None = None,
           only: str | None = None) -> None:
    for model, color in MODEL_COLORS.items():
        d = df[df.model == model]
        if len(d) and only in (None, model):
            fig.add_scatter(x=d[x], y=d[y], mode="lines+markers", name=model,
                            line=dict(color=color, width=3), showlegend=col in (None, 1),
                            hovertemplate=f"{x}=%{{x}}<br>{y}=%{{y:.4g}}<extra>{model}</extra>",
                            **({} if col is None else {"row": 1, "col": col}))


def energy(df: pd.DataFrame) -> go.Figure:
    """df: model, step, energy -> one panel per model (each model's energy has its own
    units: -½sᵀWs, -lse + ½ξᵀξ, -½Σ(c·c_μ)²)."""
    models = [m for m in MODEL_COLORS if m in set(df.model)]
    fig = make_subplots(1, len(models), subplot_titles=models, horizontal_spacing=0.12)
    for i, model in enumerate(models, start=1):
        _lines(fig, df, "step", "energy", col=i, only=model)
        fig.update_xaxes(title_text="step", row=1, col=i)
    fig.update_yaxes(title_text="energy", row=1, col=1)
    fig.update_layout(showlegend=False)
    _frame(fig, "Energy per step", 300)
    fig.update_layout(margin=dict(l=60, r=20, t=60, b=50))
    return fig


def _line_chart(df: pd.DataFrame, x: str, y: str, title: str, x_title: str, y_title: str,
                y_min: float, height: int) -> go.Figure:
    fig = go.Figure()
    _lines(fig, df, x, y)
    fig.update_yaxes(range=[y_min, 1.03], title_text=y_title)
    fig.update_xaxes(title_text=x_title)
    fig.update_layout(legend=dict(orientation="h", y=-0.3))
    _frame(fig, title, height)
    fig.update_layout(margin=dict(l=60, r=20, t=50, b=50))
    return fig


def overlap(df: pd.DataFrame) -> go.Figure:
    """df: model, step, overlap (fraction of pixels equal to the stored pattern)."""
    return _line_chart(df, "step", "overlap", "Overlap per step", "step",
                       "overlap with the stored pattern", -0.02, 300)


def capacity(df: pd.DataFrame) -> go.Figure:
    """df: model, load (P/N), overlap -> overlap vs load, with the 0.138 N line."""
    fig = _line_chart(df, "load", "overlap", "Capacity: overlap vs load",
                      "stored patterns / N  (N = 1024 units)", "overlap after settling",
                      min(0.45, float(df.overlap.min()) - 0.03), 340)
    fig.add_vline(x=0.138, line_dash="dash", line_color="#888",
                  annotation_text="0.138 N", annotation_position="bottom left")
    return fig


def gallery(patterns: np.ndarray, labels, shape, per_row: int = 12) -> go.Figure:
    """The stored patterns tiled in rows of ``per_row``, each labelled underneath."""
    h, w = shape
    n = len(patterns)
    rows = -(-n // per_row)
    z = np.full((rows * (h + 3), per_row * (w + 1)), np.nan, dtype=np.float32)
    xs, ys = [], []
    for i, p in enumerate(patterns):
        r, c = divmod(i, per_row)
        z[r * (h + 3):r * (h + 3) + h, c * (w + 1):c * (w + 1) + w] = p.reshape(h, w)
        xs.append(c * (w + 1) + w / 2)
        ys.append(r * (h + 3) + h + 1.2)
    fig = go.Figure(go.Heatmap(z=z, zmin=-1, zmax=1, colorscale=PIXELS, showscale=False,
                               hoverinfo="skip"))
    fig.add_scatter(x=xs, y=ys, text=[str(v) for v in labels[:n]], mode="text",
                    textfont=dict(size=11), hoverinfo="skip", showlegend=False)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    fig.update_layout(plot_bgcolor="#ffffff")
    _frame(fig, "", 40 + 95 * rows)
    return fig
