"""Page frame shared by every page: explanation + equation, workspace sidebar, charts with a
CSV download, error display. Pages stay thin: read widgets, call a helper, draw."""
from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from . import io, lint, state, workspaces

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


def page(title: str, idea: str, equation: str) -> None:
    """Title, the idea in one paragraph, its equation; the workspace sidebar; queued messages."""
    workspace_sidebar()
    st.title(title)
    st.markdown(idea)
    st.latex(stack_equation(equation))
    state.show_flash()


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


def error(exc: Exception) -> None:
    msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    st.error(f"⚠️ {plain(msg)}")   # messages may quote user text: keep it inert


def chart(fig, df: pd.DataFrame, name: str) -> None:
    """A Plotly chart and a button that downloads its data as CSV."""
    st.plotly_chart(fig, key=f"chart_{name}", config={"displaylogo": False})
    st.download_button("⬇ Chart data (CSV)", df.to_csv(index=False).encode("utf-8"),
                       file_name=f"nuonuo_{name}.csv", mime="text/csv", key=f"dl_{name}")


def add_rows(rows, what: str) -> bool:
    """Add validated rows to the workspace, with a spinner; errors shown, nothing lost."""
    try:
        with st.spinner(f"Encoding {len(rows)} memories…"):
            ids = io.add_rows(state.memory(), rows)
    except (ValueError, KeyError) as exc:
        error(exc)
        return False
    state.flash("success", f"Added {count(len(ids))} ({what}).")
    for msg in lint.check(state.memory(), ids):   # quotes user text: keep it inert
        state.flash("warning", "⚠️ " + plain(msg))
    return True


def workspace_sidebar() -> None:
    mem = state.memory()
    sb = st.sidebar
    n = len(mem)
    sb.markdown(f"**Workspace** `{state.name()}`  \n{count(n)} · day {mem.day} · "
                f"D = {mem.config.code_dim}, k = {mem.config.k}")
    with sb.expander("Save, open, download, upload"):
        save_name = st.text_input("Save as", value=state.name(), key="ws_save_name",
                                  help="Letters, digits, space, _ - . (max 64). Saved under "
                                       "$NUONUO_WORKSPACES (default ./workspaces).")
        if st.button("💾 Save workspace", key="ws_save"):
            try:
                workspaces.save(mem, save_name)
                state.set_memory(mem, workspaces.check_name(save_name))
                st.success(f"Saved workspace {save_name.strip()!r}.")
            except (ValueError, OSError) as exc:
                error(exc)
        names = workspaces.list_names()
        pick = st.selectbox("Saved workspaces", names, index=None, key="ws_pick",
                            placeholder="none saved yet" if not names else "choose one")
        if st.button("📂 Open", key="ws_open", disabled=pick is None):
            try:
                state.set_memory(workspaces.open_named(pick, state.encoder()), pick)
                state.flash("success", f"Opened workspace {pick!r} "
                                       f"({count(len(state.memory()))}).")
                st.rerun()
            except (ValueError, OSError) as exc:
                error(exc)
        st.download_button("⬇ Download workspace file", mem.to_bytes,   # built on click
                           file_name=f"{state.name()}.nuonuo", key="ws_download",
                           mime="application/octet-stream")
        up = st.file_uploader("Upload a workspace file (.nuonuo)", type=["nuonuo"],
                              max_upload_size=workspaces.UPLOAD_LIMIT // 2**20,
                              key="ws_upload")
        if st.button("📤 Open uploaded file", key="ws_open_upload", disabled=up is None):
            try:
                new = workspaces.from_bytes(up.getvalue(), state.encoder(),
                                            source=f"uploaded file {up.name!r}",
                                            limit=workspaces.UPLOAD_LIMIT)
                stem = up.name.rsplit(".", 1)[0]
                try:
                    stem = workspaces.check_name(stem)
                except ValueError:
                    stem = "uploaded"
                state.set_memory(new, stem)
                state.flash("success", f"Opened {plain(up.name)} ({count(len(new))}).")
                st.rerun()
            except (ValueError, OSError) as exc:
                error(exc)
    with sb.expander("New empty workspace"):
        code_dim = st.selectbox("code_dim D", [16384, 4096, 1024, 256], key="ws_new_dim",
                                help=HELP["code_dim"])
        k = st.number_input("k (winners)", 1, 256, state.DEFAULT_K, key="ws_new_k",
                            help=HELP["k"])
        if st.button("🆕 Start empty workspace", key="ws_new",
                     help="Replaces this session's workspace (save it first to keep it)."):
            try:
                state.set_memory(state.new_memory(code_dim, int(k)), "untitled")
                st.rerun()
            except ValueError as exc:
                error(exc)
