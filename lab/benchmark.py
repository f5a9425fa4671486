"""LoCoMo retrieval benchmark for the lab: run it with progress, pivot the records."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from nuonuo_core.bench.conversation_eval import RetrievalConfig, evaluate_locomo
from nuonuo_core.datasets.locomo import load_locomo

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "locomo"
KS = (1, 5, 10, 25, 50)
DEFAULT_METHODS = ("cosine", "hopfield", "bm25", "+speaker", "hybrid", "hybrid+time")


def conversations(data: str | Path):
    """All conversations under ``data`` (a folder of conv-*.json or a locomo10.json file)."""
    path = Path(data).expanduser()
    if not path.exists():
        raise ValueError(f"no LoCoMo data at {str(path)!r}")
    return load_locomo(path)


def run(convs, methods, embed, progress=None, token_embed=None) -> pd.DataFrame:
    """Recall@k records (method, metric, category, k, value, n) as a DataFrame.
    ``token_embed``: token vectors for the late-interaction channel (default: exact words)."""
    if not methods:
        raise ValueError("choose at least one method")
    if not convs:
        raise ValueError("choose at least one conversation")
    return pd.DataFrame(evaluate_locomo(convs, list(methods), list(KS), embed,
                                        RetrievalConfig(), progress=progress,
                                        token_embed=token_embed))


def table(df: pd.DataFrame, category: str) -> pd.DataFrame:
    """Methods × k for one category (rows in the order the methods were run)."""
    d = df[(df.category == category) & (df.metric == "recall")]
    order = list(dict.fromkeys(d.method))
    t = d.pivot(index="method", columns="k", values="value").loc[order]
    t.columns = [f"R@{k}" for k in t.columns]
    return t.round(3)


def chart(df: pd.DataFrame, category: str) -> go.Figure:
    from .charts import METHOD_COLORS, TEMPLATE

    d = df[(df.category == category) & (df.metric == "recall")]
    fig = go.Figure()
    for method in dict.fromkeys(d.method):
        m = d[d.method == method].sort_values("k")
        fig.add_scatter(x=m.k, y=m.value, mode="lines+markers", name=method,
                        line=dict(color=METHOD_COLORS.get(method), width=3))
    fig.update_layout(template=TEMPLATE, height=380, title=f"Turn recall@k — {category}",
                      legend=dict(orientation="h", y=-0.25), margin=dict(l=55, r=20, t=50, b=50))
    ks = sorted(set(d.k))
    fig.update_xaxes(title_text="k (turns retrieved)", type="log", tickvals=ks,
                     ticktext=[str(k) for k in ks])
    fig.update_yaxes(title_text="recall@k (fraction of evidence turns found)", range=[0, 1])
    return fig
