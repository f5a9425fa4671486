"""The page frame every page starts with, and adding memories from a page.

:func:`page` puts the workspace sidebar (``lab.workspace.sidebar``) beside the page's title,
idea and equation, after autosaving what the previous run changed; :func:`add_rows` adds
validated rows to the session's workspace with a spinner and queues its messages
(``lab.workspace.lookalikes`` warnings included)."""
from __future__ import annotations

import streamlit as st

from lab.ui import count, error, plain, stack_equation

from . import lookalikes, memory_rows, state
from .sidebar import workspace_sidebar


def page(title: str, idea: str, equation: str) -> None:
    """Title, the idea in one paragraph, its equation; the workspace sidebar; queued messages.
    Autosaves first: the previous run may have changed the workspace and then rerun."""
    st.session_state.pop(state.HEADER_KEY, None)    # the last run's sidebar line is gone
    state.memory()
    state.autosave()
    state.ui_sync()
    workspace_sidebar()
    st.title(title)
    st.markdown(idea)
    st.latex(stack_equation(equation))
    state.show_flash()


def add_rows(rows, what: str) -> bool:
    """Add validated rows to the workspace, with a spinner; errors shown, nothing lost."""
    try:
        with st.spinner(f"Encoding {len(rows)} memories…"):
            ids = memory_rows.add_rows(state.memory(), rows)
    except (ValueError, KeyError) as exc:
        error(exc)
        return False
    state.flash("success", f"Added {count(len(ids))} ({what}).")
    state.changed()
    for msg in lookalikes.check(state.memory(), ids):   # quotes user text: keep it inert
        state.flash("warning", "⚠️ " + plain(msg))
    return True
