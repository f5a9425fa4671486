import pandas as pd
import streamlit as st

from lab import analysis, charts, limits, ui
from lab.workspace import controls, demos, frame, state

frame.page("🔗 Multi-hop chains",
        "When a memory's target is the next memory's cue, W links them: feeding a recalled "
        "code back into W walks the chain A → B → C without any text in between.",
        r"c^{(h+1)} = \mathrm{kWTA}_k\!\left(W c^{(h)}\right),\qquad "
        r"\text{hop } h \text{ answers } \arg\max_m \cos\!\left(c^{(h)}, c_{t(m)}\right)")
mem = state.memory()
with st.expander("Build or load chains", expanded=len(mem) == 0):
    text = st.text_area("Chains, one per line (items separated by commas or →)",
                        "sun, light, leaf, sugar", key="chain_text", max_chars=50_000,
                        help="'A, B, C' stores A → B and B → C.")
    c1, c2 = st.columns(2)
    if c1.button("Add these chains", key="chain_add"):
        try:
            rows = demos.chain_rows(text)
        except ValueError as exc:
            ui.error(exc)
        else:
            if frame.add_rows(rows, "chains"):
                st.rerun()
    if c2.button("Load the demo chain set", key="chain_demo"):
        if frame.add_rows(demos.load("chains"), "demo chains"):
            st.rerun()
ids = analysis.text_memories(mem)
if not ids:
    st.info("No memories yet: add a chain above.")
    st.stop()
state.ui_keep_choice("chain_start", ids)
state.ui_default("hops", 4)
c1, c2, c3 = st.columns([3, 1, 1])
start = c1.selectbox("Start from", ids, key="chain_start",
                     format_func=lambda i: analysis.label(mem, i, 70))
hop_lim = limits.PAGE["hops"]
hops = c2.slider("Hops", hop_lim.lo, hop_lim.hi, key="hops", help=ui.HELP["hops"])
controls.live_slider("chain_min_support", "Link needed (support)", c3)
try:
    df, res = analysis.chain_frame(mem, start, hops)
except (ValueError, KeyError) as exc:
    ui.error(exc)
    st.stop()
refused = analysis.refused_frame(mem, res, len(df) - 1)
st.markdown("**Path:** " + " → ".join(ui.plain(t[:30]) for t in df.recalled))
(st.info if res.stop == "hops" else st.warning)(ui.plain(analysis.chain_stop(mem, res, hops)))
nodes, edges = analysis.graph_data(mem)      # full width each: labels need the room
path = [t for t in df.recalled if t in nodes]
pos = analysis.layered_layout(nodes, edges)
ui.chart(charts.graph(nodes, edges, path, pos), analysis.edges_frame(edges), "chain_graph")
hop_data = df.assign(counted=True)
if len(refused):
    hop_data = pd.concat([hop_data, refused.assign(counted=False)], ignore_index=True)
ui.chart(charts.hop_cosine(df, refused), hop_data, "chain_hops")
st.caption("Code cosine: overlap of the code W gives back with the decoded memory's target "
           "code, / k. Support: the share of the k × k W links from the previous memory's "
           "target code to this memory's target code that are stored (1.0 = a stored link "
           "A → B). A hop counts only with support ≥ the slider's value.")
