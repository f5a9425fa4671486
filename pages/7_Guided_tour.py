import streamlit as st

from lab import analysis, charts, pattern_ui, state, ui

ui.page("🧭 Guided tour",
        "Three findings in three charts, each computed on a fresh memory (your workspace is "
        "not touched): noisy cues still recall, W chains associations, and sleep with "
        "replay keeps old memories that would otherwise be pruned away.",
        r"\text{noise} \rightarrow \xi^* = \lim_t X^\top\mathrm{softmax}(\beta X\xi_t);\quad "
        r"A \xrightarrow{W} B \xrightarrow{W} C;\quad W \leftarrow h W + \text{replay}")
auto = st.session_state.pop("tour_autorun", False)
if st.button("▶ Run the tour", type="primary", key="tour_go") or auto:
    bar = st.progress(0.0, "starting…")
    st.session_state["tour"] = analysis.tour(state.encoder(),
                                             progress=lambda f, t: bar.progress(f, t))
    bar.empty()
res = st.session_state.get("tour")
if res is None:
    st.info("Press **Run the tour** (about 10 seconds).")
    st.stop()
steps = [
    ("Step 1 · Noise tolerance",
     "Hopfield settling pulls a noisy cue back onto the stored pattern, so recall stays "
     "high long after the Hebbian code path has lost the memory (plain cosine search "
     "also holds on a set this small).",
     charts.noise_sweep(res["noise"]), res["noise"], "tour_noise"),
    ("Step 2 · Multi-hop",
     "Feeding each recalled code back into W walks a chain (red key → blue box → old map → …) "
     "with code cosine 1.0 at every hop.",
     charts.hop_cosine(res["chain"]), res["chain"], "tour_chain"),
    ("Step 3 · A night of consolidation",
     "Homeostasis shrinks W every night and pruning deletes what falls below θ; replay keeps "
     "the memories it rehearses alive, without it they are gone after two nights.",
     charts.forgetting(res["forgetting"]), res["forgetting"], "tour_forgetting"),
]
for title, sentence, fig, df, name in steps:
    st.subheader(title)
    st.markdown(sentence)
    ui.chart(fig, df, name)
pattern_ui.tour_stop()   # Step 4: corrupt 30 % of a letter and watch it come back
