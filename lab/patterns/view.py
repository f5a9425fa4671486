"""Streamlit pieces of the pattern-completion sandbox: your own patterns (draw / upload), the
session's hybrid memory, the guided-tour stop. The maths lives in ``lab.patterns.completion``."""
from __future__ import annotations

import hashlib
import re

import numpy as np
import streamlit as st

from nuonuo_core import pattern_sets as ps
from nuonuo_core import patterns as pt
from nuonuo_core.blas import one_blas_thread
from nuonuo_core.pattern_hybrid import HybridPatterns

from lab import ui
from lab.workspace import state

from . import canvas
from . import charts as pc
from . import completion as lp

OWN_KEY, HYBRID_KEY, TOUR_KEY = "pc_own", "pc_hybrid", "pc_tour"
CANVAS_KEY, CANVAS_VERSION, CANVAS_ERROR = "pc_canvas_bits", "pc_canvas_version", "pc_canvas_error"
LABEL = re.compile(r"^[A-Za-z0-9 _\-]{1,12}$")


def own_patterns() -> list[tuple[str, np.ndarray]]:
    """This session's own patterns (label, (N,) ±1), restored from the owner's saved page
    settings on the session's first use (drawings survive a reload)."""
    if OWN_KEY not in st.session_state:
        st.session_state[OWN_KEY] = [(label, lp.pattern_of_hex(bits)) for label, bits
                                     in state.ui_get("pc_own", [])][:lp.MAX_OWN]
    return st.session_state[OWN_KEY]


def _save_own() -> None:
    state.ui_put("pc_own", [[label, lp.hex_of_ink(p)] for label, p in own_patterns()])


def _add_own(label: str, pattern: np.ndarray) -> str:
    own = own_patterns()
    label = label.strip() or next(f"mine {i}" for i in range(1, 2 * lp.MAX_OWN + 2)
                                  if f"mine {i}" not in {lbl for lbl, _ in own})
    if not LABEL.match(label):
        raise ValueError(f"label {label!r} must be 1-12 letters, digits, spaces, _ or -")
    if label in ps.GLYPHS or label in {lbl for lbl, _ in own}:
        whose = "a letter of the set" if label in ps.GLYPHS else "another of your patterns"
        raise ValueError(f"label {label!r} is taken (by {whose}); choose another, e.g. "
                         f"'my {label}'")
    if len(own) >= lp.MAX_OWN:
        raise ValueError(f"you have {len(own)} patterns; the most is {lp.MAX_OWN} "
                         "(clear them to start again)")
    own.append((label, pattern))
    st.session_state.pop(HYBRID_KEY, None)
    _save_own()
    return label


def _canvas_bits() -> str:
    """The canvas's drawing as the server keeps it (checked hex), restored after a reload."""
    if CANVAS_KEY not in st.session_state:
        st.session_state[CANVAS_KEY] = state.ui_get("pc_canvas", lp.BLANK)
        st.session_state[CANVAS_VERSION] = st.session_state.get(CANVAS_VERSION, 0) + 1
    return st.session_state[CANVAS_KEY]


def on_stroke() -> None:
    """A stroke ended in the browser: check what it sent, keep it, save it."""
    try:
        bits = lp.hex_of_ink(lp.ink_of_hex(canvas.sent()))
    except ValueError as exc:
        st.session_state[CANVAS_ERROR] = f"The drawing from the browser was refused: {exc}"
        return
    st.session_state.pop(CANVAS_ERROR, None)
    st.session_state[CANVAS_KEY] = bits
    state.ui_put("pc_canvas", bits)


def own_editor() -> None:
    """Paint a pattern on a 32×32 canvas or upload a small image; add it to your set."""
    own = own_patterns()
    with st.expander(f"✏️ Your own patterns ({len(own)} of {lp.MAX_OWN})", expanded=not own):
        st.caption(f"Press and drag on the canvas to paint the {lp.SIDE}×{lp.SIDE} pixels "
                   "(✏️ Ink or 🧽 Erase, a brush of 1-3 pixels), or upload a picture (dark = "
                   "ink). Your drawings and the canvas are kept for this browser's link.")
        left, right = st.columns([3, 2])
        bits = _canvas_bits()
        state.ui_put("pc_canvas", bits)          # kept for a reload (nothing written if saved)
        with left:
            canvas.canvas(bits, st.session_state.get(CANVAS_VERSION, 1), on_stroke)
        if st.session_state.get(CANVAS_ERROR):
            st.error(ui.plain(st.session_state[CANVAS_ERROR]))
        label = right.text_input("Label", key="pc_label", max_chars=12,
                                 help="1-12 letters, digits, spaces, _ or -; not a letter of "
                                      "the set (A-Z, 0-9) and not one of yours.")
        if right.button("➕ Add drawing", key="pc_add_draw"):
            _add(label, lambda: lp.drawing_pattern(lp.ink_of_hex(_canvas_bits())), "drawing")
        up = right.file_uploader("Image", type=["png", "jpg", "jpeg"], key="pc_upload",
                                 max_upload_size=2,
                                 help=f"At most {ps.MAX_IMAGE_BYTES // 2**20} MB and "
                                      f"{ps.MAX_IMAGE_SIDE} pixels a side; resized to 32×32 and "
                                      "thresholded at its mean grey.")
        if right.button("➕ Add image", key="pc_add_image", disabled=up is None):
            _add(label, lambda: ps.image_pattern(up.getvalue(), lp.SIDE), "image")
        if own and right.button("🗑 Clear mine", key="pc_clear"):
            own.clear()
            st.session_state.pop(HYBRID_KEY, None)
            _save_own()
            st.rerun()
        if own:
            st.plotly_chart(pc.gallery(np.array([p for _, p in own]), [lbl for lbl, _ in own],
                                       (lp.SIDE, lp.SIDE), per_row=6),
                            key="pc_own_gallery", config={"displaylogo": False})


def _add(label: str, make, what: str) -> None:
    try:
        name = _add_own(label, make())
    except ValueError as exc:
        ui.error(exc)
        return
    st.session_state["pc_t_own"] = name          # the selector names what was just added
    state.flash("success", f"Added your {what} as {name!r}; it is the pattern to corrupt now.")
    st.rerun()


def networks(pset: ps.PatternSet, seed: int) -> tuple[np.ndarray, HybridPatterns]:
    """The session's classical W and hybrid memory over the stored set, rebuilt only when
    the set or the seed changes (one pair per session)."""
    key = (pset.name, len(pset.patterns), seed,
           hashlib.sha1(pset.patterns.tobytes()).hexdigest())
    cached = st.session_state.get(HYBRID_KEY)
    if cached is None or cached[0] != key:
        with one_blas_thread():
            cached = (key, pt.hebbian_weights(pset.patterns),
                      HybridPatterns(pset.patterns, seed=seed))
        st.session_state[HYBRID_KEY] = cached
    return cached[1], cached[2]


def final_images(c: lp.Completion, step: int | None = None, height: int = 260):
    """The probe and each model's image at ``step`` (default: the last), titled."""
    step = c.max_step if step is None else step
    titles = [f"Input: {c.pset.labels[c.target]}, corrupted"]
    imgs = [c.probe]
    for model in c.runs:
        imgs.append(c.image(model, step))
        titles.append(lp.MODEL_TITLES[model])
    return pc.images(imgs, titles, c.pset.shape, height=height)


def follow_last_step(c: lp.Completion, inputs: tuple) -> None:
    """Show the last step whenever an input changes; keep the chosen step in range."""
    inputs = inputs + (c.pset.labels,)
    if st.session_state.get("pc_inputs") != inputs or "pc_step" not in st.session_state:
        st.session_state["pc_inputs"] = inputs
        st.session_state["pc_step"] = c.max_step
    elif st.session_state.get("pc_step", 0) > c.max_step:
        st.session_state["pc_step"] = c.max_step


def captions(c: lp.Completion, step: int) -> None:
    """Under the images: what was corrupted, and each model's named state at ``step``."""
    cols = st.columns(len(c.runs) + 1)
    flipped = int((c.probe != c.pset.patterns[c.target]).sum())
    cols[0].caption(f"{flipped} of {c.probe.size} pixels differ from the stored pattern")
    for col, model in zip(cols[1:], c.runs):
        rows = c.frame[c.frame.model == model]
        row = rows.iloc[min(step, len(rows) - 1)]
        col.markdown(f"**Step {row.step}: {ui.plain(row.state)}** · overlap {row.overlap:.3f}")


def strips(c: lp.Completion, step: int) -> None:
    """Every step of every model as an image strip, the shown step outlined."""
    for model, run in c.runs.items():
        st.plotly_chart(pc.strip([s[0] for s in run.states], c.pset.shape,
                                 f"{lp.MODEL_TITLES[model]}: every step", step),
                        key=f"pc_strip_{model}", config={"displaylogo": False})


def capacity_section(update: str, seed: int, beta: float) -> None:
    """The capacity chart: computed on request with progress, kept in the session."""
    st.subheader("Capacity: where the classical network breaks")
    if st.button("▶ Run the capacity chart (random patterns, N = 1024)", key="pc_capacity"):
        bar = st.progress(0.0, "settling…")
        st.session_state["pc_capacity_df"] = lp.capacity_frame(
            update, seed, beta, progress=lambda i, t: bar.progress(i / t, f"{i}/{t}"))
        bar.empty()
    cap = st.session_state.get("pc_capacity_df")
    if cap is None:
        return
    r = cap.iloc[0]
    st.caption(f"Random ±1 patterns, N = {r.n_units}, {r.flip_fraction:.0%} of pixels flipped, "
               f"{r.n_probes} probes per point, seed {r.seed}; classical: {r['update']} "
               f"updates, at most {r.max_steps} steps; modern: β = {r.beta:g}. Overlap = "
               "fraction of pixels equal to the stored pattern after settling.")
    ui.chart(pc.capacity(cap), cap, "pc_capacity")


def tour_stop(title: str = "Step 4 · Pattern completion") -> None:
    """Guided tour: corrupt 30 % of a letter and watch it come back (computed here, ~1 s)."""
    st.subheader(title)
    if TOUR_KEY not in st.session_state:
        st.session_state[TOUR_KEY] = lp.tour_letter()
    c, sentence = st.session_state[TOUR_KEY]
    st.markdown(sentence)
    ui.chart(final_images(c), c.frame, "tour_patterns")
    st.plotly_chart(pc.strip([s[0] for s in c.runs["modern"].states], c.pset.shape,
                             "Modern Hopfield, step by step"),
                    key="tour_patterns_strip", config={"displaylogo": False})
