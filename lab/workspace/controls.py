"""Researcher controls for the Recall page: live recall settings (β, top-K, max_steps, ε via
``HybridMemory.set_recall_params``) and a rebuild for settings that change codes or W (lr, D,
k, seed), which re-encodes the workspace's memories into a new engine; nothing is wiped."""
from __future__ import annotations

import streamlit as st

from lab import limits
from lab.ui import HELP, count, error

from . import files, state

_HELP = {
    "beta": HELP["beta"],
    "top_k": "K: stored cues taken by stage 1 (nearest by cosine) before settling.",
    "max_steps": "Most settling steps ξ ← Xᵀ softmax(β X ξ) of stage 2.",
    "eps": "Settling stops once ‖ξ_new − ξ‖ < ε.",
    "lr": "η: W += η · c_target c_cueᵀ for every stored cue row.",
    "code_dim": HELP["code_dim"],
    "k": HELP["k"],
    "seed": "Seeds the random projection P (same seed, same codes).",
}
_FORMAT = {"beta": "%.4g", "eps": "%.1e", "lr": "%.4g"}


def _field(col, table: dict, key: str, value):
    integer = table[key].integer
    return col.number_input(key if key != "beta" else "β", value=int(value) if integer else
                            float(value), step=1 if integer else None,
                            format=None if integer else _FORMAT.get(key, "%.4g"),
                            key=f"rc_{key}", help=_HELP[key] + " " + table[key].help())


def recall_settings() -> None:
    """The "Recall settings" expander; applies or rebuilds, then reruns with a message."""
    mem = state.memory()
    cfg = mem.config
    with st.expander(f"⚙️ Recall settings: β = {cfg.beta:g}, top-K = {cfg.top_k}, "
                     f"steps = {cfg.max_steps}, ε = {cfg.eps:g}; lr = {cfg.lr:g}, "
                     f"D = {cfg.code_dim}, k = {cfg.k}, seed = {cfg.seed}"):
        with st.form("recall_live"):
            st.caption("Change recall on the live workspace (stored memories are kept as is).")
            cols = st.columns(4)
            values = {key: _field(col, limits.RECALL, key, getattr(cfg, key))
                      for col, key in zip(cols, limits.RECALL)}
            if st.form_submit_button("Apply recall settings"):
                _apply(mem, values)
        with st.form("recall_rebuild"):
            st.caption("lr, D, k and seed change the stored codes and W: the workspace is "
                       "rebuilt by re-encoding its memories (cues, targets, paraphrases, "
                       "importance). Nights already slept start over at day 0.")
            cols = st.columns(4)
            values = {"lr": _field(cols[0], limits.REBUILD, "lr", cfg.lr)}
            dims = list(limits.CODE_DIMS)
            values["code_dim"] = cols[1].selectbox(
                "D", dims, index=dims.index(cfg.code_dim) if cfg.code_dim in dims else 3,
                key="rc_code_dim", help=_HELP["code_dim"])
            values["k"] = _field(cols[2], limits.REBUILD, "k", cfg.k)
            values["seed"] = _field(cols[3], limits.REBUILD, "seed", cfg.seed)
            if st.form_submit_button("Rebuild with these settings"):
                _rebuild(mem, values)


def _apply(mem, values: dict) -> None:
    try:
        checked = limits.check_params(limits.RECALL, values)
        mem.set_recall_params(**checked)
    except ValueError as exc:
        error(exc)
        return
    state.flash("success", "Recall settings applied: " +
                ", ".join(f"{k} = {v:g}" for k, v in checked.items()) + ".")
    state.changed()
    st.rerun()


def _rebuild(mem, values: dict) -> None:
    try:
        code_dim = int(values.pop("code_dim"))
        if code_dim not in limits.CODE_DIMS:
            raise ValueError(f"D must be one of {list(limits.CODE_DIMS)}, got {code_dim}")
        checked = limits.check_params(limits.REBUILD, values)
        if checked["k"] > code_dim:
            raise ValueError(f"k must be in [1, D = {code_dim}], got {checked['k']}")
        checked["code_dim"] = code_dim
        if all(getattr(mem.config, k) == v for k, v in checked.items()):
            st.info("These are the current settings: nothing to rebuild.")
            return
        with st.spinner(f"Re-encoding {count(len(mem))}…"):
            new, dropped = files.rebuild(mem, state.encoder(), **checked)
    except ValueError as exc:
        error(exc)
        return
    state.set_memory(new, state.name())
    note = f" {count(dropped, 'vector memory', 'vector memories')} had no text and could " \
           f"not be re-encoded." if dropped else ""
    state.flash("success", f"Rebuilt the workspace with lr = {checked['lr']:g}, "
                           f"D = {code_dim}, k = {checked['k']}, seed = {checked['seed']}: "
                           f"{count(len(new))} re-encoded.{note}")
    state.changed()
    st.rerun()


THRESHOLD_HELP = {
    "hopfield": "Answer only when the query's cosine with the answered memory's best cue row "
                "reaches this; below it the method says “no memory matches”. −1 answers "
                "everything.",
    "cosine": "Answer only when the query's cosine with the nearest memory's best cue row "
              "reaches this. −1 answers everything.",
    "words": "Word match (hopfield and cosine, one threshold for both): answer only when the "
             "query's cosine with the memory's best cue row × word coverage reaches this; "
             "word coverage is the weakest match, among the cue's content words, of a word "
             "with its best counterpart in the query. −1 answers everything.",
    "hebbian": "Answer only when support × overlap reaches this: support = share of the "
               "k × k W links between the query's code and the memory's target code that are "
               "stored; overlap = decoded overlap / k. −1 answers everything.",
    "chain_min_support": "A hop counts only when at least this share of the k × k W links "
                         "from the previous memory's target code to this memory's target code "
                         "is stored (1.0 for a stored link A → B). 0 follows any decoded "
                         "memory (cross-talk included).",
}


def live_slider(name: str, label: str, where=st, step: float = 0.01, slot: str = "",
                shared: bool = False) -> float:
    """A slider bound to one live setting of the workspace's config (a threshold), bounded
    by the limits table: moving it changes the workspace (saved with it, autosaved); opening
    another workspace shows that one's value. ``slot`` tells apart several sliders of one
    setting on a page; ``shared``: moving one reruns the page, so the others show it too.
    Returns the value in force."""
    mem = state.memory()
    lim = limits.FORMS[name]
    now = float(getattr(mem.config, name))
    # A slider starts at the value in force (value=now), and a new key draws a new slider:
    # after a reset, in another workspace, or when a run did not draw it (Streamlit drops a
    # hidden widget's state, the browser remounts it at its default). Keys never repeat, so
    # no widget state a run left behind can come back.
    drawn = f"live_{name}{slot}_drawn"
    key, shown, owner = st.session_state.get(drawn, (None, None, None))
    if key is None or shown != now or owner != id(mem) or key not in st.session_state:
        serial = st.session_state.get("live_serial", 0) + 1
        st.session_state["live_serial"] = serial
        key = f"live_{name}{slot}#{serial}"
    value = where.slider(label, float(lim.lo), float(lim.hi), value=now, step=step, key=key,
                         help=THRESHOLD_HELP.get(name.removeprefix("min_score_"), "")
                         + " " + lim.help())
    if value != now:
        try:
            mem.set_recall_params(**{name: lim.parse(value)})
        except ValueError as exc:
            error(exc, where)
            return now
        state.changed()
        if shared:
            st.session_state[drawn] = (key, float(getattr(mem.config, name)), id(mem))
            st.rerun()
    st.session_state[drawn] = (key, float(getattr(mem.config, name)), id(mem))
    return float(getattr(mem.config, name))


def reset_thresholds(names: dict[str, float]) -> None:
    """Put the named live settings back to the given values (the calibrated defaults)."""
    mem = state.memory()
    mem.set_recall_params(**names)
    state.flash("success", "Thresholds back to their calibrated defaults: " +
                ", ".join(f"{k.removeprefix('min_score_')} {v:g}" for k, v in names.items())
                + ".")
    state.changed()
    st.rerun()
