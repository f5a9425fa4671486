"""Per-session state: each browser session owns one workspace (a HybridMemory) in
``st.session_state``; only the read-only embedding model is shared (``st.cache_resource``)."""
from __future__ import annotations

import streamlit as st

from nuonuo_core import HybridMemory, MemoryConfig, get_minilm_encoder

MEM_KEY = "nuonuo_workspace"
NAME_KEY = "nuonuo_workspace_name"
FLASH_KEY = "nuonuo_flash"
DEFAULT_CODE_DIM = 16384
DEFAULT_K = 20


@st.cache_resource(show_spinner="Loading the shared embedding model (all-MiniLM-L6-v2)…")
def encoder():
    """The one MiniLM encoder every session shares (thread-safe, read-only)."""
    return get_minilm_encoder()


def new_memory(code_dim: int = DEFAULT_CODE_DIM, k: int = DEFAULT_K, seed: int = 0,
               beta: float = 16.0) -> HybridMemory:
    cfg = MemoryConfig(code_dim=int(code_dim), k=int(k), top_k=20, beta=float(beta),
                       seed=int(seed), device="auto")
    return HybridMemory(cfg, encoder=encoder())


def memory() -> HybridMemory:
    """This session's workspace (created empty on first use)."""
    if MEM_KEY not in st.session_state:
        st.session_state[MEM_KEY] = new_memory()
        st.session_state[NAME_KEY] = "untitled"
    return st.session_state[MEM_KEY]


def name() -> str:
    memory()
    return st.session_state[NAME_KEY]


def set_memory(mem: HybridMemory, workspace_name: str) -> None:
    st.session_state[MEM_KEY] = mem
    st.session_state[NAME_KEY] = workspace_name


def flash(kind: str, message: str) -> None:
    """Queue a message to show after the next rerun (kind: success, info, warning, error)."""
    st.session_state.setdefault(FLASH_KEY, []).append((kind, message))


def show_flash() -> None:
    for kind, message in st.session_state.pop(FLASH_KEY, []):
        getattr(st, kind)(message)
