"""The Conversation memory page's panels (Streamlit): choose a conversation, build its memory
in the session, ask it a question, see why each turn was found, and recall against labels.

State: the session holds one conversation memory at a time (``st.session_state[MEM_KEY]``: the
source, its ``ConversationMemory`` and the evaluations computed on it); choosing another
conversation replaces it. The only thing shared between sessions is the MiniLM model (and,
for the example and LoCoMo, the engine's on-disk embedding cache of those shipped texts).
"""
from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from lab import limits, ui
from lab import charts as lab_charts
from lab.workspace import state
from nuonuo_core.retrieval import PRESETS

from . import benchmark, charts, explain, sources

MEM_KEY = "cm_memory"
QUESTION = "cm_question"


def _current() -> dict | None:
    return st.session_state.get(MEM_KEY)


def _ask(question: str) -> None:
    st.session_state[QUESTION] = question


def _picked(key: str, questions) -> None:
    i = st.session_state.get(key)
    if i is not None:
        _ask(questions[i].question)


def open_example() -> None:
    """Open the page on the example conversation (the Home page's button)."""
    st.session_state["cm_kind"] = sources.EXAMPLE
    st.switch_page("pages/11_Conversation_memory.py")


def tour_link() -> None:
    """The guided tour's last line: where the same engine serves as an LLM's memory."""
    st.divider()
    st.markdown("**Next: the same engine as a conversation's memory.** Two friends talked for "
                "six months; ask what was said weeks ago, in your own words, and see which "
                "channels and which W link found each turn.")
    if st.button("💬 Ask the example conversation", key="tour_conversation"):
        open_example()


def choose() -> sources.Source:
    """The conversation the visitor picked (example, LoCoMo, upload); stops the page with a
    message when there is none to load."""
    kind = st.radio("Conversation", sources.KINDS, horizontal=True, key="cm_kind",
                    help="The example is written for this project (no data needed). LoCoMo "
                         "reads the benchmark's data folder. Your own chat stays in your "
                         "session: nothing of it is written to disk.")
    rec = _current()
    if kind == sources.EXAMPLE:
        return rec["source"] if rec and rec["key"] == ("example",) else sources.example()
    if kind == sources.LOCOMO:
        return _locomo(rec)
    return _upload(rec)


def _locomo(rec) -> sources.Source:
    where = str(benchmark.data_dir())
    cached = st.session_state.get("cm_locomo_names")
    if cached is None or cached[0] != where:
        try:
            cached = (where, sources.locomo_names())
        except ValueError as exc:
            ui.error(exc)
            st.stop()
        st.session_state["cm_locomo_names"] = cached
    if cached[1] is None:
        st.info(sources.where_to_get())
        st.code(where, language=None)
        st.stop()
    pick = st.selectbox("LoCoMo conversation", cached[1], key="cm_locomo",
                        help="Its evidence-labelled questions come with it.")
    if rec and rec["key"] == ("locomo", where, pick):
        return rec["source"]
    try:
        return sources.locomo(pick)
    except ValueError as exc:
        ui.error(exc)
        st.stop()


def _upload(rec) -> sources.Source:
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    up = left.file_uploader("Your chat (JSON or CSV)", type=["json", "csv"], key="cm_upload",
                            max_upload_size=max(1, limits.CHAT_UPLOAD_BYTES // 2**20),
                            help=sources.CSV_HELP)
    with right:
        ui.download("⬇ Example chat (CSV)", lambda: sources.template_csv(sources.example()),
                    "nuonuo_example_chat.csv", "text/csv", "cm_template", version=1)
    st.caption(ui.plain(f"Up to {limits.CHAT_UPLOAD_BYTES // 2**20} MB, "
                        f"{limits.CHAT_TURNS:,} turns and {limits.CHAT_WORDPIECES:,} MiniLM "
                        f"wordpieces. " + sources.CSV_HELP))
    if up is None:
        st.info("Upload a chat to ask it questions (a CSV with the columns speaker, text, "
                "time is enough).")
        st.stop()
    seen = st.session_state.get("cm_upload_seen")
    if rec and seen and seen[0] == up.file_id and seen[1] == rec["key"]:
        return rec["source"]
    try:
        with st.spinner("Checking your chat…"):
            src = sources.upload(up.getvalue(), up.name, sources.minilm_wordpieces)
    except ValueError as exc:
        ui.error(exc)
        st.stop()
    st.session_state["cm_upload_seen"] = (up.file_id, src.key)
    return src


def memory(source: sources.Source) -> dict:
    """The session's memory of ``source`` (built once, with a progress bar; a new
    conversation replaces the old one and puts its first suggested question in the box)."""
    rec = _current()
    if rec is not None and rec["key"] == source.key:
        return rec
    st.session_state.pop(MEM_KEY, None)          # free the previous conversation first
    state.encoder()                               # the shared model, loaded once per process
    bar = st.progress(0.0, f"Building the memory of {len(source.turns):,} turns…")
    t0 = time.perf_counter()
    try:
        mem = sources.build(source, progress=lambda done, total, what: bar.progress(
            min(done / max(total, 1), 1.0), f"{what} ({len(source.turns):,} turns)…"))
    except (ValueError, OSError) as exc:
        bar.empty()
        ui.error(exc)
        st.stop()
    bar.empty()
    rec = {"key": source.key, "source": source, "memory": mem, "ranks": {},
           "seconds": time.perf_counter() - t0}
    st.session_state[MEM_KEY] = rec
    first = explain.suggestions(source.questions, 1)
    st.session_state[QUESTION] = first[0].question if first else ""
    return rec


def overview(rec: dict) -> None:
    """One line about the conversation, its sessions, and a reader for one session."""
    src = rec["source"]
    st.markdown(ui.plain(f"{src.title}: {sources.summary(src)}. Memory built in "
                         f"{rec['seconds']:.1f} s."))
    table = sources.sessions(src.turns)
    st.dataframe(table, hide_index=True, key="cm_sessions", height=rows_height(len(table), 9),
                 column_config={"turns": st.column_config.NumberColumn(width="small"),
                                "opens with": st.column_config.TextColumn(width="large")})
    with st.expander("Read a session"):
        pick = st.selectbox("Session", list(table.session), key="cm_session")
        st.dataframe(sources.session_turns(src.turns, pick), hide_index=True,
                     key="cm_session_turns",
                     column_config={"text": st.column_config.TextColumn(width="large")})


def ask(rec: dict) -> tuple[str, str, int]:
    """Suggested questions, the question box and the settings: (question, configuration
    name, turns to show)."""
    qs = rec["source"].questions
    if qs:
        st.markdown("**Suggested questions** — labelled: their evidence turns are known. "
                    "Click one to ask it.")
        cols = st.columns(3)
        for i, q in enumerate(explain.suggestions(qs, 6)):
            cols[i % 3].button(ui.plain(q.question), key=f"cm_suggest_{i}", on_click=_ask,
                               args=(q.question,), width="stretch", wrap=True,
                               help=ui.plain(f"{q.category or 'labelled'} question; "
                                             f"evidence: {', '.join(q.evidence)}"))
        pick = f"cm_pick:{rec['key']}"
        st.selectbox(f"…or any of the {len(qs)} labelled questions", range(len(qs)),
                     index=None, key=pick, placeholder="Pick a question",
                     format_func=lambda i: f"{qs[i].category}: {qs[i].question}"
                     if qs[i].category else qs[i].question,
                     on_change=_picked, args=(pick, qs))
    a, b, c = st.columns([3, 2, 1.4])
    question = a.text_input("Your question, in your own words", key=QUESTION,
                            max_chars=int(limits.CONVERSATION["question_chars"].hi),
                            placeholder="e.g. What does Priya do on Thursday evenings?")
    names = list(PRESETS)
    config = b.selectbox("Configuration", names, index=names.index(explain.default_config()),
                         key="cm_config", help="A named row of docs/retrieval.md; the default "
                         "is the engine's default configuration.")
    shown = limits.CONVERSATION["hits"]
    top = c.number_input("Turns shown", shown.lo, shown.hi, 5, key="cm_k",
                         help=f"The best turns for the question. {shown.help()}")
    return question or "", config, int(top)


def answer(rec: dict, question: str, config: str, shown: int) -> None:
    """The top ``shown`` turns, why each is there, and the Hopfield settling of the question
    (the last answer is kept in the session record: a rerun that asks nothing new recomputes
    nothing)."""
    mem, src = rec["memory"], rec["source"]
    if not question.strip():
        st.info("Type a question, or click a suggested one.")
        return
    got = rec.get("answer")
    if got is None or got["key"] != (question, config, shown):
        try:
            got = _answer(mem, question, config, shown)
        except ValueError as exc:
            ui.error(exc)
            return
        rec["answer"] = got
    hits = got["hits"]
    if not hits:
        st.info("The conversation holds no turns.")
        return
    lab = explain.labelled(src.questions, question)
    evidence = lab.evidence if lab else ()
    top = hits[0]
    st.success(ui.plain(f"#1 {top.speaker + ': ' if top.speaker else ''}{top.text}"))
    st.markdown(ui.plain(explain.story(question, top, explain.last_date(src.turns))))
    if lab:
        where = {h.id: h.rank for h in hits}
        found = [f"{e} at #{where[e]}" if e in where else f"{e} below #{shown}" for e in evidence]
        st.caption(ui.plain(f"Labelled evidence ({lab.category}): " + ", ".join(found)))
    table = explain.hits_table(hits, evidence)
    st.table(table.assign(**{c: table[c].map(ui.plain) for c in table.columns
                             if not pd.api.types.is_numeric_dtype(table[c])}),
             hide_index=True)   # st.table wraps long turns and reads markdown: keep it inert
    ui.chart(got["channels_fig"], got["channels"], "conversation_channels")
    st.subheader("Hopfield settling of the question")
    left, right = st.columns([3, 2])
    with right:
        st.markdown(ui.plain(explain.settle_story(got["trace"], top.id)))
        ui.chart(got["energy_fig"], got["energy"], "conversation_energy")
    with left:
        ui.chart(got["attention_fig"], got["attention"], "conversation_attention")


def _answer(mem, question: str, config: str, shown: int) -> dict:
    """Search and settle one question; the frames and figures the page draws of them."""
    hits = mem.search(question, k=shown, explain=True, config=PRESETS[config])
    trace = mem.settle(question, config=PRESETS[config])
    out = {"key": (question, config, shown), "hits": hits, "trace": trace}
    if hits:
        att, energy = explain.settle_frames(trace, mem, hits[0].id)
        frame = explain.channel_frame(hits)
        out.update(channels=frame, channels_fig=charts.channels(frame), attention=att,
                   attention_fig=charts.attention(att), energy=energy,
                   energy_fig=lab_charts.energy(energy))
    return out


def recall_panel(rec: dict, config: str) -> None:
    """Recall@k against the conversation's labelled questions, beside the cosine baseline,
    and where each question's evidence turns rank."""
    src, mem = rec["source"], rec["memory"]
    if not src.questions:
        return
    st.subheader("Recall against the labelled questions")
    names = [config] + ([explain.BASELINE] if explain.BASELINE in PRESETS
                        and explain.BASELINE != config else [])
    missing = [n for n in names if n not in rec["ranks"]]
    if missing:
        with st.spinner(f"Ranking the {len(src.questions)} labelled questions…"):
            got = explain.ranks(mem, src.questions, {n: PRESETS[n] for n in missing})
        for n in missing:
            rec["ranks"][n] = got[got.config == n]
    got = rec.setdefault("tables", {}).get(config)
    if got is None:
        per_q = pd.concat([rec["ranks"][n] for n in names], ignore_index=True)
        records = explain.recall_records(per_q)
        got = rec["tables"][config] = {
            "records": records, "table": explain.recall_table(records, config),
            "figure": charts.recall(records), "questions": explain.question_table(per_q, config)}
    st.caption(f"Recall@k: the fraction of a question's evidence turns among the k best, "
               f"averaged over questions; 95 % bootstrap interval over the "
               f"{len(src.questions)} questions; {explain.BASELINE} is the flat baseline "
               f"(question vs turn embedding).")
    table, per = got["table"], got["questions"]
    st.dataframe(table, key="cm_recall_table", column_config={
        c: st.column_config.NumberColumn(format="%.2f") for c in table.columns
        if c.startswith("R@") and "CI" not in c or c.endswith(f"R@{explain.KS[-1]}")})
    ui.chart(got["figure"], got["records"], "conversation_recall")
    st.dataframe(per, hide_index=True, key="cm_questions", height=rows_height(len(per), 25),
                 column_config={"question": st.column_config.TextColumn(width="large"),
                                "category": st.column_config.TextColumn(width="small"),
                                "evidence (rank)": st.column_config.TextColumn(width="medium")})


def rows_height(n: int, most: int) -> int:
    """Pixels for a dataframe showing ``n`` rows (at most ``most``, then it scrolls)."""
    return 35 * (min(n, most) + 1) + 3
