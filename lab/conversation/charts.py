"""Plotly figures of the Conversation memory page: why each turn ranks where it does, and
recall@k against the labels (pure)."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .. import charts as lab_charts
from ..charts import ACCENT, METHOD_COLORS, template_kw

#: one colour per channel (dense ones blue, lexical orange, context teal, priors grey, the
#: engine's W hop red)
CHANNEL_COLORS = {"paper": "#9ecae9", "cue": "#4C78A8", "bm25": "#F58518", "tokens": "#FFBF79",
                  "context": "#72B7B2", "reply": "#54A24B", "speaker": "#B279A2",
                  "question": "#BAB0AC", "length": "#79706E", "time": "#EECA3B",
                  "day": "#C9A227", "session": "#17BECF", "links": "#E45756",
                  "diversity": "#8C6D31"}
CONFIG_COLORS = {"cosine": METHOD_COLORS["cosine"]}


def channels(df: pd.DataFrame) -> go.Figure:
    """df: :func:`~lab.conversation.explain.channel_frame`. One bar per hit, best on top,
    split into its channels' contributions (negative ones to the left); ◆ the total score."""
    fig = go.Figure()
    hits = list(dict.fromkeys(df.hit))
    for ch in dict.fromkeys(df.channel):
        d = df[df.channel == ch]
        if not (d.contribution.abs() > 1e-9).any():
            continue
        name = d.name.iloc[0]
        fig.add_bar(y=d.hit, x=d.contribution, orientation="h", name=name,
                    marker_color=CHANNEL_COLORS.get(ch), customdata=d[["label", "raw"]],
                    hovertemplate="%{y}<br>" + name + ": %{x:+.2f}<br>%{customdata[0]}"
                                  "<br>value before weighting: %{customdata[1]:.3f}<extra></extra>")
    total = df.groupby("hit", sort=False).contribution.sum().reindex(hits)
    fig.add_scatter(y=hits, x=total.values, mode="markers", name="score (sum)",
                    marker=dict(symbol="diamond", size=10, color="#222"),
                    hovertemplate="%{y}: score %{x:.2f}<extra></extra>")
    fig.update_layout(**template_kw(), barmode="relative",
                      height=max(120 + 34 * len(hits), 400),   # room for the legend's rows
                      title=dict(text="Why each turn ranks where it does: each channel's part "
                                      "of its score", x=0.0, font=dict(size=15)),
                      legend=dict(orientation="v", x=1.02, y=1.0, yanchor="top",
                                  font=dict(size=12)),
                      margin=dict(l=10, r=10, t=50, b=50), font=dict(size=13))
    fig.update_yaxes(autorange="reversed", automargin=True, categoryorder="array",
                     categoryarray=hits)
    fig.update_xaxes(title_text="contribution to the score (weight × z-scored channel)",
                     zeroline=True, zerolinecolor="#888", automargin=True)
    return fig


def recall(records: pd.DataFrame, category: str = "overall") -> go.Figure:
    """df: :func:`~lab.conversation.explain.recall_records`. Recall@k of each configuration
    with its 95 % bootstrap interval over questions."""
    d = records[records.category == category]
    fig = go.Figure()
    for i, (name, part) in enumerate(d.groupby("config", sort=False)):
        fig.add_bar(x=[f"top {k}" for k in part.at_k], y=part.value, name=name,
                    marker_color=CONFIG_COLORS.get(name, ACCENT if i == 0 else "#999"),
                    error_y=dict(type="data", symmetric=False,
                                 array=(part.hi - part.value).values,
                                 arrayminus=(part.value - part.lo).values),
                    customdata=part[["lo", "hi", "n"]],
                    hovertemplate=name + ", %{x}: %{y:.3f} (95% CI %{customdata[0]:.2f}–"
                                  "%{customdata[1]:.2f}, %{customdata[2]} questions)"
                                  "<extra></extra>")
    n = int(d.n.iloc[0]) if len(d) else 0
    fig.update_layout(**template_kw(), barmode="group", height=320,
                      title=dict(text=f"Evidence turns found ({category}, {n} questions)",
                                 x=0.0, font=dict(size=15)),
                      legend=dict(orientation="h", y=-0.2), margin=dict(l=55, r=20, t=50, b=50),
                      font=dict(size=13))
    fig.update_yaxes(title_text="recall@k (fraction of evidence turns)", range=[0, 1.05])
    fig.update_xaxes(title_text="turns read")
    return fig


def attention(df: pd.DataFrame) -> go.Figure:
    """The Recall page's settling heatmap (``lab.charts.attention``) over candidate turns; the
    labels name the turns, so the axis title goes (it collided with them at 1024 px)."""
    fig = lab_charts.attention(df)
    n = df.candidate.nunique()
    fig.update_layout(title_text=lab_charts.wrap_title(
        f"Attention over the {n} candidate turns at each step (★ the top hit)"))
    fig.update_yaxes(title_text=None)
    return fig
