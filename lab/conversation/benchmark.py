"""LoCoMo retrieval benchmark for the lab: run it with progress, pivot the records."""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from nuonuo_core.bench.conversation_eval import evaluate_locomo
from nuonuo_core.datasets.locomo import load_locomo, parse_locomo

from .. import limits

DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "locomo"
KS = (1, 5, 10, 25, 50)
# the flat baseline, the engine alone, then channels added up to the engine's default row
DEFAULT_METHODS = ("cosine", "hopfield", "bm25", "+speaker", "hybrid", "hybrid+time",
                   "hybrid+lists")
MAX_UPLOAD_BYTES = 20 * 2**20          # locomo10.json is ~2.8 MB
SOURCE_REPO = "https://github.com/snap-research/locomo"
SOURCE_FILE = "data/locomo10.json"


def data_dir() -> Path:
    """The configured LoCoMo folder: $NUONUO_DATA_DIR, else the shared LoCoMo folder.
    Only this folder is read; visitors never type server paths."""
    env = os.environ.get("NUONUO_DATA_DIR")
    return Path(env).expanduser() if env else DEFAULT_DATA


def where_to_get() -> str:
    """What to do when no data is there (plain text, no markdown)."""
    return (f"No LoCoMo data found. LoCoMo (Maharana et al., ACL 2024) is published in the "
            f"snap-research/locomo repository ({SOURCE_REPO}) as the file {SOURCE_FILE}. "
            f"Download that file, then upload it here, or put it (or its conv-*.json files) "
            f"in the folder below and reload; set NUONUO_DATA_DIR to use another folder.")


def folder_conversations(folder: Path | None = None):
    """Conversations in the configured folder; None when it holds no .json data. Errors do
    not reveal the files' contents."""
    path = folder or data_dir()
    if not path.is_dir() or not any(path.glob("*.json")):
        return None
    try:
        return load_locomo(path)
    except (ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError):
        raise ValueError("the LoCoMo data in the configured folder could not be read: it is "
                         "not in LoCoMo's format") from None


def upload_conversations(data: bytes, name: str):
    """Conversations from an uploaded locomo10.json (bounded size and nesting)."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValueError(f"the uploaded file is {len(data) / 2**20:.1f} MB; the limit is "
                         f"{MAX_UPLOAD_BYTES // 2**20} MB")
    try:
        parsed = limits.load_json(data.decode("utf-8-sig"))
        convs = parse_locomo(parsed, "locomo10.json")
    except UnicodeDecodeError:
        raise ValueError("the uploaded file is not UTF-8 text") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"the uploaded file is not LoCoMo's {SOURCE_FILE} "
                         f"({str(exc)[:160]})") from None
    if not convs:
        raise ValueError("the uploaded file holds no conversations")
    return convs


def run(convs, methods, encoder=None, progress=None) -> pd.DataFrame:
    """Recall@k records (method, metric, category, at_k, value, n) as a DataFrame; each
    method is a named RetrievalConfig. ``encoder``: as ConversationMemory takes it (default:
    cached MiniLM)."""
    if not methods:
        raise ValueError("choose at least one method")
    if not convs:
        raise ValueError("choose at least one conversation")
    return pd.DataFrame(evaluate_locomo(convs, list(methods), list(KS), encoder,
                                        progress=progress))


def table(df: pd.DataFrame, category: str) -> pd.DataFrame:
    """Methods × k for one category (rows in the order the methods were run)."""
    d = df[(df.category == category) & (df.metric == "recall")]
    order = list(dict.fromkeys(d.method))
    t = d.pivot(index="method", columns=_cut(d), values="value").loc[order]
    t.columns = [f"R@{k}" for k in t.columns]
    return t.round(3)


def _cut(df: pd.DataFrame) -> str:
    """The recall-cutoff column: ``at_k`` (``k`` in records from before the rename)."""
    return "at_k" if "at_k" in df.columns else "k"


def chart(df: pd.DataFrame, category: str) -> go.Figure:
    from ..charts import METHOD_COLORS, template_kw

    d = df[(df.category == category) & (df.metric == "recall")]
    fig = go.Figure()
    for method in dict.fromkeys(d.method):
        m = d[d.method == method].sort_values(_cut(d))
        fig.add_scatter(x=m[_cut(d)], y=m.value, mode="lines+markers", name=method,
                        line=dict(color=METHOD_COLORS.get(method), width=3))
    fig.update_layout(**template_kw(), height=380, title=f"Turn recall@k — {category}",
                      legend=dict(orientation="h", y=-0.25), margin=dict(l=55, r=20, t=50, b=50))
    cutoffs = sorted(set(d[_cut(d)]))
    fig.update_xaxes(title_text="at_k: turns read (recall cutoff)", type="log",
                     tickvals=cutoffs, ticktext=[str(k) for k in cutoffs])
    fig.update_yaxes(title_text="recall@k (fraction of evidence turns found)", range=[0, 1])
    return fig
