import streamlit as st

from lab.conversation import view as conversation
from lab.workspace import demos, frame, state

frame.page("🧠 NuoNuo Lab",
        "A memory for language models that **recalls a whole memory from a noisy or "
        "paraphrased cue** (modern Hopfield attention over stored cue embeddings) and "
        "**follows associations** (a sparse Hebbian matrix W over k-WTA codes). At night it "
        "**consolidates**: replay, homeostatic down-scaling and pruning.",
        r"\xi \leftarrow X^\top \mathrm{softmax}(\beta X \xi) \qquad "
        r"W \mathrel{+}= \eta\, c_{\mathrm{target}}\, c_{\mathrm{cue}}^\top,\ "
        r"c = \mathrm{kWTA}_k(Px)")
mem = state.memory()
tour, chat = st.columns(2, border=True)
tour.markdown("**How the memory works**: noise, chains, nights and a corrupted letter, one "
              "chart and one sentence each.")
if tour.button("🧭 Start the guided tour", type="primary", key="start_tour",
               help="Runs the three key findings in one click."):
    st.session_state["tour_autorun"] = True
    st.switch_page("pages/7_Guided_tour.py")
chat.markdown("**It remembers a conversation**: two friends talked for six months; ask what "
              "was said weeks ago in your own words and see why each turn was found.")
if chat.button("💬 Ask the example conversation", type="primary", key="start_conversation",
               help="Opens Conversation memory with a question about a turn from April."):
    conversation.open_example()
st.image(str(demos.ASSETS / "architecture.svg"), caption="Architecture: encode → separate → "
         "store (Hopfield patterns + Hebbian W) → recall / chain → consolidate at night")

st.subheader("Engine status")
s = mem.stats()
cols = st.columns(3) + st.columns(3)   # two rows: values stay whole at 1024 px
cols[0].metric("Device", s["device"])
cols[1].metric("Memories", s["n_memories"], help=f"{s['n_cues']} cue rows incl. paraphrases")
cols[2].metric("‖W‖", f"{s['w_norm']:.1f}", help="Frobenius norm √Σ w_ij²")
cols[3].metric("W sparsity", f"{100 * s['w_sparsity']:.2f} %",
               help=f"1 − nnz(W)/D²; nnz = {s['w_nnz']:,} of D² = {s['code_dim'] ** 2:,}")
cols[4].metric("Memory used", f"{s['bytes'] / 2**20:.1f} MB",
               help="cue embeddings + W + projection P + codes")
cols[5].metric("Day", s["day"], help="nights slept so far")

st.subheader("One-click demo sets")
cols = st.columns(len(demos.DEMOS))
for col, (key, (title, _, about)) in zip(cols, demos.DEMOS.items()):
    col.markdown(f"**{title}**  \n{about}")
    if col.button(f"Load {title.lower()}", key=f"demo_{key}"):
        if frame.add_rows(demos.load(key), f"demo set: {title}"):
            st.rerun()

st.subheader("Where to go next")
links = [("pages/2_Memories.py", "Memories: add, import, search, export"),
         ("pages/3_Recall_and_noise.py", "Recall & noise: three methods side by side"),
         ("pages/4_Consolidation_nights.py", "Consolidation nights: sleep and forgetting"),
         ("pages/5_Multi-hop_chains.py", "Multi-hop chains: follow W"),
         ("pages/6_Inside_the_network.py", "Inside the network: W, codes, β"),
         ("pages/11_Conversation_memory.py", "Conversation memory: ask a chat, see why each "
          "turn was found")]
for path, text in links:
    try:
        st.page_link(path, label=text)
    except Exception:  # running this page alone (tests): no navigation registered
        st.markdown(f"- {text}")
