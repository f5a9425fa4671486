"""The lab's bottom layer of Streamlit widgets: parameter help, inert user text, errors,
two-step confirmations, download buttons and charts with a CSV download. It imports nothing
of the lab, so every other module may use it (the page frame is ``lab.workspace.frame``)."""
from __future__ import annotations

import re

import pandas as pd
import streamlit as st

HELP = {
    "noise": "σ: the query is normalise(x + σ·n), n ~ N(0, I). "
             "Expected cosine to the clean cue ≈ 1/√(1 + σ²·d), d = 384.",
    "importance": "Replay weight: each night the memory is replayed with weight lr·importance "
                  "(ceil(importance) noisy replays). > 1 marks a priority memory.",
    "code_dim": "D: size of the sparse code space. code = kWTA(P·x), P a fixed random "
                "D×d projection. W is D×D (sparse).",
    "k": "k active units per code: kWTA keeps the k largest of P·x. Sparsity = k/D.",
    "beta": "β: inverse temperature of ξ ← Xᵀ softmax(β X ξ). Small β mixes patterns, "
            "large β picks one.",
    "hops": "Each hop: c ← kWTA(W·c), then decode to the memory whose target code overlaps most.",
}


EQUATION_WIDTH = 60   # TeX characters that fit one line at 1024 px


def stack_equation(tex: str, width: int = EQUATION_WIDTH) -> str:
    """A long equation of parts joined by ``\\qquad`` or ``;\\quad`` shown one part a line
    (KaTeX does not wrap: a long line is cut at 1024 px); short ones stay as they are."""
    parts = [p.strip() for p in re.split(r";?\\qquad|;\\quad", tex) if p.strip()]
    if len(tex) <= width or len(parts) < 2:
        return tex
    return r"\begin{gathered}" + r" \\ ".join(parts) + r"\end{gathered}"


def count(n: int, one: str = "memory", many: str = "memories") -> str:
    return f"{n} {one if n == 1 else many}"


def plain(text: str) -> str:
    """User text made inert for st.markdown: every markdown control character escaped."""
    return "".join("\\" + ch if ch in "\\`*_{}[]()#+-.!|<>~$" else ch for ch in str(text))


def error(exc: Exception, where=st) -> None:
    msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    where.error(f"⚠️ {plain(msg)}")   # messages may quote user text: keep it inert


def ask(key: str, payload=True) -> None:
    """Start a two-step confirmation (see :func:`confirmed`); ``payload`` is kept until then."""
    st.session_state[f"ask_{key}"] = payload
    st.rerun()


def confirmed(key: str, question, yes: str = "Yes"):
    """While :func:`ask` is pending for ``key``: show the question (a callable gets the
    payload) with *yes* / *Cancel*; returns the payload once confirmed, else None."""
    payload = st.session_state.get(f"ask_{key}")
    if payload is None:
        return None
    st.warning(plain(question(payload) if callable(question) else question))
    a, b = st.columns(2)
    if a.button(yes, key=f"ask_{key}_yes", type="primary"):
        return st.session_state.pop(f"ask_{key}")
    if b.button("Cancel", key=f"ask_{key}_no"):
        st.session_state.pop(f"ask_{key}")
        st.rerun()
    return None


def download(label: str, make, file_name: str, mime: str, key: str, version=None) -> None:
    """A download button with eager data from ``make()``, rebuilt only when ``version``
    changes. Eager, content-addressed files keep their id across reruns, so a click during a
    rerun still finds its file (deferred callables get a new id each run: "Export JSON" right
    after "Export CSV" failed with MediaFileStorageError); on_click="ignore": no rerun."""
    slot = f"dl_cache_{key}"
    cached = st.session_state.get(slot)
    if cached is None or version is None or cached[0] != version:
        cached = (version, make())
        st.session_state[slot] = cached
    st.download_button(label, cached[1], file_name=file_name, mime=mime, key=key,
                       on_click="ignore")


def chart(fig, df: pd.DataFrame, name: str) -> None:
    """A Plotly chart and a button that downloads its data as CSV."""
    st.plotly_chart(fig, key=f"chart_{name}", config={"displaylogo": False})
    st.download_button("⬇ Chart data (CSV)", df.to_csv(index=False).encode("utf-8"),
                       file_name=f"nuonuo_{name}.csv", mime="text/csv", key=f"dl_{name}",
                       on_click="ignore")
