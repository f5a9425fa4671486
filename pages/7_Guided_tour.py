import streamlit as st

from lab import charts, tour, ui
from lab.conversation.view import tour_link
from lab.patterns.view import tour_stop
from lab.workspace import frame, state

frame.page("🧭 Guided tour",
           "Four findings in four charts, each computed on a fresh memory (your workspace is "
           "not touched): noise on the cue, chains through W, nights of consolidation and a "
           "corrupted letter settling back. "
           "The sentence under each heading is computed from the chart beside it.",
           r"\text{noise} \rightarrow \xi^* = \lim_t X^\top\mathrm{softmax}(\beta X\xi_t);\quad "
           r"A \xrightarrow{W} B \xrightarrow{W} C;\quad W \leftarrow h W + \text{replay}")
auto = st.session_state.pop("tour_autorun", False)
if st.button("▶ Run the tour", type="primary", key="tour_go") or auto:
    bar = st.progress(0.0, "starting…")
    st.session_state["tour"] = tour.run(state.encoder(),
                                        progress=lambda f, t: bar.progress(f, t))
    bar.empty()
res = st.session_state.get("tour")
if res is None:
    st.info("Press **Run the tour** (about 10 seconds).")
    st.stop()
said = tour.sentences(res)
steps = [
    ("Step 1 · Noise tolerance", said["noise"], charts.noise_sweep(res["noise"]),
     res["noise_records"], "tour_noise"),
    ("Step 2 · Multi-hop", said["chain"],
     charts.hop_cosine(res["chain"], res["chain_refused"]), res["chain"], "tour_chain"),
    ("Step 3 · Nights of consolidation", said["forgetting"],
     charts.forgetting(res["forgetting"]), res["forgetting"], "tour_forgetting"),
]
for title, sentence, fig, df, name in steps:
    st.subheader(title)
    st.markdown(ui.plain(sentence))
    ui.chart(fig, df, name)
tour_stop()   # Step 4: corrupt 30 % of a letter and watch it come back
tour_link()   # next: the Conversation memory page
