import streamlit as st

from lab import analysis, charts, ui
from lab.workspace import demos, frame, state

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
c1, c2 = st.columns([3, 1])
start = c1.selectbox("Start from", ids, key="chain_start",
                     format_func=lambda i: analysis.label(mem, i, 70))
hops = c2.slider("Hops", 1, 10, 4, key="hops", help=ui.HELP["hops"])
try:
    df = analysis.chain_frame(mem, start, hops)
except (ValueError, KeyError) as exc:
    ui.error(exc)
    st.stop()
st.markdown("**Path:** " + " → ".join(ui.plain(t[:30]) for t in df.recalled))
nodes, edges = analysis.graph_data(mem)      # full width each: labels need the room
path = [t for t in df.recalled if t in nodes]
pos = analysis.layered_layout(nodes, edges)
ui.chart(charts.graph(nodes, edges, path, pos), analysis.edges_frame(edges), "chain_graph")
ui.chart(charts.hop_cosine(df), df, "chain_hops")
