import numpy as np
import streamlit as st

from lab import analysis, charts, limits, ui
from lab.workspace import controls, frame, memory_rows, state
from nuonuo_core import DEFAULT_MIN_SCORE
from nuonuo_core.config import DEFAULT_MIN_SCORE_WORDS

frame.page("🎯 Recall & noise",
        "Ask with a clean or **noisy** cue and compare three recall paths: **Hopfield** settles "
        "over the top-K stored cues, **Hebbian** pushes the cue's sparse code through W, "
        "**cosine** is plain nearest-neighbour search. Each answers only when its match score "
        "reaches its threshold; otherwise it says **no memory matches**.",
        r"\tilde q = \frac{q + \sigma n}{\lVert q + \sigma n \rVert},\ n \sim \mathcal N(0, I);"
        r"\qquad \xi_{t+1} = X^\top \mathrm{softmax}(\beta X \xi_t)")
controls.recall_settings()
mem = state.memory()
if len(mem) == 0:
    st.info("The workspace is empty: load a demo set on **Home** or **Memories** first.")
    st.stop()
for key, value in (("mode", "Pick a stored memory"), ("query", ""), ("noise", 0.0),
                   ("sweep_max", 0.25), ("sweep_seeds", 5)):
    state.ui_default(key, value)          # saved with the workspace: a reload brings them back
mode = st.radio("Query", ["Pick a stored memory", "Type a query"], horizontal=True, key="mode")
if mode == "Type a query":
    query = st.text_input("Query text", key="query", max_chars=memory_rows.MAX_TEXT,
                          help="Encoded with the shared MiniLM.")
else:
    ids = analysis.text_memories(mem)
    state.ui_keep_choice("pick", ids)
    pick = st.selectbox("Stored memory (its cue is the query)", ids, key="pick",
                        format_func=lambda i: analysis.label(mem, i, 70))
    query = mem.get(pick)["cue"] if pick is not None else ""
noise = limits.PAGE["noise"]
n1, n2 = st.columns([3, 1])
sigma = n1.slider("Noise σ on the cue", noise.lo, noise.hi, step=0.005, key="noise",
                  help=ui.HELP["noise"])
cosine_slot = n2.empty()                  # filled once the noisy cue is known
if not query or not query.strip():
    st.warning("Type a query (empty text cannot be recalled).")
    st.stop()
words = {m: mem.word_match_applies(m) for m in analysis.METHODS}
if any(words.values()):
    st.caption(analysis.WORDS_LINE)
cols = st.columns(3)
for col, method in zip(cols, analysis.METHODS):      # thresholds first: answers follow them
    col.markdown(f":{charts.METHOD_NAMED_COLORS[method]}[**■ {method}**]")  # fixed text
    if words[method]:
        controls.live_slider("min_score_words", f"{method} threshold (word match)", col,
                             slot=method, shared=True)
    else:
        controls.live_slider(f"min_score_{method}", f"{method} threshold", col)
try:
    att, energy, trace = analysis.settle_frames(mem, query, sigma)
    table = analysis.answers(mem, query, sigma)
except (ValueError, KeyError) as exc:
    ui.error(exc)
    st.stop()
cosine_slot.metric("Cosine of the noisy cue to the clean one", f"{trace.noisy_cosine:.3f}",
                   help="cos(q̃, q); expected ≈ 1/√(1 + σ²·384)")
for col, method in zip(cols, analysis.METHODS):
    rows = table[table.method == method]
    ok, head, evidence = analysis.verdict(rows, method)
    (col.success if ok else col.warning)(("" if ok else "∅ ") + ui.plain(head))
    col.caption(ui.plain(evidence))
    if len(rows):
        shown = rows.assign(memory=rows.answer.map(ui.plain), match=rows.score.round(3),
                            verdict=np.where(rows.answered, "answer", "below"))
        col.table(shown[["memory", "match", "verdict"]], hide_index=True)   # best first
with st.expander("⚖️ When to answer: what each threshold trades"):
    st.markdown("A higher threshold answers fewer paraphrased questions but stays silent on "
                "more questions the memory does not hold. Measured on the hand-written "
                "calibration questions of the demo sets (each set alone in a default memory; "
                "README, *When to answer*), whatever this workspace holds.")
    th = {m: mem.text_min_score(m) for m in analysis.METHODS}
    if any(words.values()):
        st.caption("Hopfield and cosine: the word-match score (one threshold for both).")
    with st.spinner("Scoring the calibration questions (once per server)…"):
        trade = analysis.tradeoff(state.encoder(), word_match=any(words.values()))
    if trade is None:
        st.info("The calibration questions (tests/fixtures/calibration.json) are not in this "
                "installation.")
    else:
        ui.chart(charts.tradeoff(trade, th), trade, "threshold_tradeoff")
        for m in analysis.METHODS:
            st.markdown("- " + ui.plain(analysis.tradeoff_sentence(trade, m, th[m])))
    defaults = {f"min_score_{m}": DEFAULT_MIN_SCORE[m] for m in analysis.METHODS}
    defaults["min_score_words"] = DEFAULT_MIN_SCORE_WORDS
    if st.button("Reset the thresholds to the calibrated defaults", key="th_reset",
                 disabled=all(getattr(mem.config, k) == v for k, v in defaults.items())):
        controls.reset_thresholds(defaults)

st.subheader("Hopfield settling, step by step")
st.caption(ui.plain(
    f"Settling reached {analysis.label(mem, trace.settled_id, 50)}: the query's match score "
    f"{trace.match_score:.2f} against the threshold {trace.min_score:.2f} "
    f"({'an answer' if trace.answer_id >= 0 else 'not an answer: no memory matches'}); the "
    f"settled state's self-similarity {trace.settled_similarity:.3f} only says settling "
    f"converged."))
c1, c2 = st.columns([3, 2])
with c1:
    ui.chart(charts.attention(att), att, "settling_attention")
with c2:
    ui.chart(charts.energy(energy), energy, "settling_energy")
    st.caption(ui.plain(analysis.energy_sentence(energy, mem.config.beta)))

st.subheader("Noise sweep")
top_lim, seeds_lim = limits.PAGE["sweep_max"], limits.PAGE["sweep_seeds"]
a, b = st.columns(2)
top = a.slider("Largest σ", top_lim.lo, top_lim.hi, step=0.05, key="sweep_max",
               help=ui.HELP["noise"])
draws = b.slider("Noise draws (seeds)", seeds_lim.lo, seeds_lim.hi, key="sweep_seeds",
                 help="Each level is measured once per noise draw; the band is the 95 % "
                      "t-interval of the mean over the draws.")
if st.button("Run noise sweep", key="sweep_go", help="recall@1 of every stored cue (up to "
             "60) at 11 noise levels, each method, once per noise draw"):
    bar = st.progress(0.0, "starting…")
    st.session_state["sweep"] = analysis.noise_sweep(
        mem, np.linspace(0, top, 11), seeds=int(draws),
        progress=lambda f, t: bar.progress(f, t))
    bar.empty()
if "sweep" in st.session_state:
    summary = analysis.noise_summary(st.session_state["sweep"])
    ui.chart(charts.noise_sweep(summary), st.session_state["sweep"], "noise_sweep")
    st.caption(analysis.band_note(summary) + " What the store holds: recalled without the "
               "answer threshold (every method answers).")
