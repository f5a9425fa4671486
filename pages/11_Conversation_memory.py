import streamlit as st

from lab.conversation import view
from lab.workspace import frame

frame.page("💬 Conversation memory",
        "A memory for an LLM's conversations: every turn is stored with its speaker, session "
        "and date, and a question, in any words, finds the turns that answer it. Each turn's "
        "score sums channels (dense cue, BM25, MiniLM tokens, its context, the speaker and "
        "date the question names, a turn prior), then one hop through the engine's **Hebbian "
        "W** lifts the reply to a matching question. Below: the top turns, each channel's "
        "part, the W link, the engine's **Hopfield settling**, and recall against labels.",
        r"s(t) = \sum_c w_c\, z_c(q, t) \;+\; w_W \max_i \mathrm{relu}(s_i)\,"
        r"\mathrm{W\text{-}recall}(i \to t)")
source = view.choose()
rec = view.memory(source)
view.overview(rec)
st.subheader("Ask the conversation")
question, config, shown = view.ask(rec)
view.answer(rec, question, config, shown)
view.recall_panel(rec, config)
