import numpy as np
import streamlit as st

from lab import analysis, charts, ui
from lab.workspace import controls, frame, memory_rows, state

frame.page("🎯 Recall & noise",
        "Ask with a clean or **noisy** cue and compare three recall paths: **Hopfield** settles "
        "over the top-K stored cues, **Hebbian** pushes the cue's sparse code through W, "
        "**cosine** is plain nearest-neighbour search.",
        r"\tilde q = \frac{q + \sigma n}{\lVert q + \sigma n \rVert},\ n \sim \mathcal N(0, I);"
        r"\qquad \xi_{t+1} = X^\top \mathrm{softmax}(\beta X \xi_t)")
controls.recall_settings()
mem = state.memory()
if len(mem) == 0:
    st.info("The workspace is empty: load a demo set on **Home** or **Memories** first.")
    st.stop()
mode = st.radio("Query", ["Pick a stored memory", "Type a query"], horizontal=True, key="mode")
if mode == "Type a query":
    query = st.text_input("Query text", key="query", max_chars=memory_rows.MAX_TEXT,
                          help="Encoded with the shared MiniLM.")
else:
    ids = analysis.text_memories(mem)
    pick = st.selectbox("Stored memory (its cue is the query)", ids, key="pick",
                        format_func=lambda i: analysis.label(mem, i, 70))
    query = mem.get(pick)["cue"] if pick is not None else ""
sigma = st.slider("Noise σ on the cue", 0.0, 0.25, 0.0, 0.005, key="noise",
                  help=ui.HELP["noise"])
if not query or not query.strip():
    st.warning("Type a query (empty text cannot be recalled).")
    st.stop()
try:
    att, energy, noisy_cos, answer_id = analysis.settle_frames(mem, query, sigma)
    table = analysis.answers(mem, query, sigma)
except (ValueError, KeyError) as exc:
    ui.error(exc)
    st.stop()
st.metric("Cosine of the noisy cue to the clean one", f"{noisy_cos:.3f}",
          help="cos(q̃, q); expected ≈ 1/√(1 + σ²·384)")
cols = st.columns(3)
for col, method in zip(cols, analysis.METHODS):
    col.markdown(f":{charts.METHOD_NAMED_COLORS[method]}[**■ {method}**]")  # fixed text
    top = table[table.method == method]
    col.info(ui.plain(top.answer.iloc[0]) if len(top) else "no answer")
    col.table(top[["rank", "answer", "score"]].assign(answer=top.answer.map(ui.plain)),
              hide_index=True)   # wraps long answers; st.table reads markdown: keep it inert
st.subheader("Hopfield settling, step by step")
c1, c2 = st.columns([3, 2])
with c1:
    ui.chart(charts.attention(att), att, "settling_attention")
with c2:
    ui.chart(charts.energy(energy), energy, "settling_energy")

st.subheader("Noise sweep")
top = st.slider("Largest σ", 0.05, 0.5, 0.25, 0.05, key="sweep_max", help=ui.HELP["noise"])
if st.button("Run noise sweep", key="sweep_go", help="recall@1 of every stored cue (up to "
             "60) at 11 noise levels, each method"):
    bar = st.progress(0.0, "starting…")
    st.session_state["sweep"] = analysis.noise_sweep(
        mem, np.linspace(0, top, 11), progress=lambda f, t: bar.progress(f, t))
    bar.empty()
if "sweep" in st.session_state:
    ui.chart(charts.noise_sweep(st.session_state["sweep"]), st.session_state["sweep"],
             "noise_sweep")
