import streamlit as st

from lab import limits, ui
from lab.patterns import charts as pc, completion as lp, view
from lab.workspace import frame, state

frame.page("🧩 Pattern completion",
        "Store ±1 pixel images, corrupt one, and watch three memories settle the **same** "
        "corrupted input: the classical Hopfield net (Hebbian W, sign updates, energy "
        "−½sᵀWs never rises under asynchronous updates, capacity ≈ 0.138 N), the modern "
        "Hopfield net (one softmax over the stored patterns, β sharpens it) and the "
        "project's hybrid (k-WTA codes and W; it returns a stored pattern or nothing).",
        r"\begin{gathered}W=\tfrac1N\textstyle\sum_\mu \xi^\mu\xi^{\mu\top},\ "
        r"s_i\leftarrow\mathrm{sign}(Ws)_i,\ E=-\tfrac12 s^\top W s\\"
        r"\xi\leftarrow X^\top\mathrm{softmax}(\beta X\xi);\quad "
        r"c\leftarrow\mathrm{kWTA}(Wc)\end{gathered}")
for key, value in (("pc_set", "glyphs"), ("pc_n_glyphs", 10), ("pc_n_random", 100),
                   ("pc_n_own", 10), ("pc_flip", 0.3), ("pc_occlude", False), ("pc_beta", 64),
                   ("pc_update", "async"), ("pc_seed", 0)):
    state.ui_default(key, value)          # saved for this browser's link: a reload keeps them
a, b, c, d = st.columns(4)
kind = a.selectbox("Pattern set", list(lp.SETS), format_func=lp.SETS.get, key="pc_set",
                   help="Letters: A-Z and 0-9, 32×32. Random: ±1 pixels. Your own: your "
                        "drawings and images first, then letters.")
n = a.slider("Stored patterns", 1, lp.MAX_STORED[kind], key=f"pc_n_{kind}",
             help="P patterns in W; the classical limit is 0.138·N ≈ 141.")
flip_lim, seed_lim = limits.PAGE["pc_flip"], limits.PAGE["pc_seed"]
flip = b.slider("Flip fraction", flip_lim.lo, flip_lim.hi, step=0.01, key="pc_flip",
                help="Exactly round(f·N) pixels, chosen at random (seeded), are flipped.")
occlude = b.checkbox("Erase half", key="pc_occlude",
                     help="Set the bottom half of the image to -1 (blank) before flipping.")
beta = c.select_slider("β (modern)", [1, 2, 4, 8, 16, 32, 64, 128, 256, 1024],
                       key="pc_beta", help="Softmax over X ξ / N (the cosine, for ±1 patterns); "
                            "large β = the nearest stored pattern.")
update = c.radio("Classical updates", ["async", "sync"], key="pc_update", horizontal=True,
                 help="async: one unit at a time, seeded order (energy never rises); "
                      "sync: all at once (may cycle between two states).")
seed = d.number_input("Seed", seed_lim.lo, seed_lim.hi, key="pc_seed")
if kind == "own":
    view.own_editor()
try:
    pset = lp.stored_set(kind, n, int(seed), view.own_patterns())
    state.ui_keep_choice(f"pc_t_{kind}", pset.labels)   # a pattern no longer stored: the first
    chosen = d.selectbox("Pattern to corrupt", pset.labels, key=f"pc_t_{kind}",
                         help="Kept when the stored count changes, as long as it is stored.")
    target = pset.labels.index(chosen)
    w, hybrid = view.networks(pset, int(seed))
    res = lp.complete(pset, target, flip, occlude, float(beta), update, int(seed), hybrid, w=w)
except ValueError as exc:
    ui.error(exc)
    st.stop()
if st.toggle(f"Show the {len(pset.labels)} stored patterns"
             + (" (the first 48)" if len(pset.labels) > 48 else ""), key="pc_show_stored"):
    st.plotly_chart(pc.gallery(pset.patterns[:48], pset.labels, pset.shape), key="pc_gallery")
view.follow_last_step(res, (kind, n, flip, occlude, beta, update, seed, target))
step = st.slider("Show step", 0, res.max_step, key="pc_step",
                 help="Every model at this step (a model that stopped stays put).")
st.plotly_chart(view.final_images(res, int(step)), key="pc_images")
view.captions(res, int(step))
st.info(ui.plain(lp.story(res)))
view.strips(res, int(step))
left, right = st.columns(2)
with left:
    ui.chart(pc.energy(res.frame), res.frame, "pc_energy")
    for line in lp.energy_lines(res).values():
        st.caption(line)
with right:
    ui.chart(pc.overlap(res.frame), res.frame, "pc_overlap")
view.capacity_section(update, int(seed), float(beta))
