"""The Conversation memory page (AppTest) and its pure helpers (lab/conversation/)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from lab import limits, ui
from lab.conversation import explain, sources
from nuonuo_core.embed_cache import cached_minilm
from nuonuo_core.retrieval import LIMITS, PRESETS, LabelledQuestion, load_example, recall_records

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "pages" / "11_Conversation_memory.py"
FIXTURE = ROOT / "tests" / "fixtures" / "locomo_dir"
TIMEOUT = 180
CHAT_CSV = (b"speaker,text,time\n"
            b"Maya,We adopted a dog from the shelter last week!,2024-03-02\n"
            b"Leo,No way! What is it called?,2024-03-02\n"
            b"Maya,She's a beagle called Pepper and she steals socks.,2024-03-02\n"
            b"Leo,I started learning the cello in April.,2024-05-10\n"
            b"Maya,How are the lessons going?,2024-05-10\n"
            b"Leo,My teacher says I rush the slow parts.,2024-05-10\n")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    """One embedding cache for the module: the example is embedded once, then read back."""
    return tmp_path_factory.mktemp("embeddings")


@pytest.fixture(autouse=True)
def env(cache_dir, monkeypatch):
    monkeypatch.setenv("NUONUO_CACHE_DIR", str(cache_dir))
    monkeypatch.setenv("NUONUO_DATA_DIR", str(FIXTURE))


@pytest.fixture(scope="module")
def example_memory(cache_dir):
    chat = load_example()
    return chat, chat.memory(encoder=cached_minilm(cache_dir))


def page() -> AppTest:
    return AppTest.from_file(str(PAGE), default_timeout=TIMEOUT)


def unescape(text: str) -> str:
    """Text as the reader sees it (the markdown escapes of user text removed)."""
    return re.sub(r"\\(.)", r"\1", text)


def texts(elements) -> list[str]:
    return [unescape(e.value) for e in elements]


def no_problems(at: AppTest) -> None:
    assert not at.exception, texts(at.exception)
    assert not at.error, texts(at.error)


def figures(at: AppTest) -> dict[str, dict]:
    """Plotly figures on the page by title."""
    out = {}
    for el in at.get("plotly_chart"):
        fig = json.loads(el.proto.spec)
        title = fig["layout"].get("title", {}).get("text", "")
        out[title] = fig
    return out


def channel_names(at: AppTest) -> set[str]:
    fig = next(f for t, f in figures(at).items() if t.startswith("Why each turn ranks"))
    return {tr["name"] for tr in fig["data"] if tr.get("type") == "bar"}


def frame(at: AppTest, column: str) -> pd.DataFrame:
    """The dataframe on the page that has ``column`` (sessions: "opens with", recall table:
    "R@10 95% CI", per question: "evidence (rank)")."""
    for d in at.dataframe:
        if column in d.value.columns:
            return d.value
    raise KeyError(column)


def has_frame(at: AppTest, column: str) -> bool:
    return any(column in d.value.columns for d in at.dataframe)


def hits(at: AppTest) -> pd.DataFrame:
    return at.table[0].value


# --- the page ---------------------------------------------------------------------------------
def test_example_loads_asks_and_explains(example_memory):
    chat, mem = example_memory
    at = page().run()
    no_problems(at)
    assert at.radio(key="cm_kind").value == sources.EXAMPLE
    assert any("148 turns · 8 sessions" in t and "21 labelled questions" in t
               for t in texts(at.markdown))
    sessions = frame(at, "opens with")
    assert list(sessions.session) == [f"session {i}" for i in range(1, 9)]
    assert sessions.date.iloc[0] == "3 March 2024" and sessions.turns.sum() == 148
    # a fresh session asks the first suggested question: a paraphrase about April's turn
    first = explain.suggestions(chat.questions, 1)[0]
    assert at.text_input(key="cm_question").value == first.question
    top = hits(at).iloc[0]
    assert (top.turn, top.when) == ("S3:10", "session 3, 6 April 2024")
    assert "Biscuit" in texts(at.success)[0]
    assert any("S3:10 at #1" in t for t in texts(at.caption))
    # a question in other words than the turn (which says "Her name is Biscuit")
    at.text_input(key="cm_question").set_value("How is Priya's greyhound called?").run()
    no_problems(at)
    assert hits(at).iloc[0].turn == "S3:10"
    assert len(hits(at)) == 5 and list(hits(at)["rank"]) == [1, 2, 3, 4, 5]
    reference = mem.search("How is Priya's greyhound called?", k=5)
    assert list(hits(at).turn) == [h.id for h in reference]      # the engine's own ranking
    story = texts(at.markdown)
    assert any(t.startswith("#1 is S3:10, said by Priya in session 3 on 6 April 2024, 20 "
                            "weeks before the last session") for t in story)
    # every channel of the default configuration has its bar, the W hop included
    assert {"dense cue", "BM25", "tokens", "context before", "context after", "speaker",
            "W hop (question → reply)"} <= channel_names(at)
    assert any(h for h in hits(at)["W link from"]), "no hit shows the W link that lifted it"
    titles = figures(at)
    assert "Hopfield energy while settling" in titles
    att = next(f for t, f in titles.items() if t.startswith("Attention over the 20"))
    assert len(att["data"][0]["y"]) == 20                          # stage-1 candidates
    assert any(t.startswith("The engine's Hopfield stage took the 20 turns closest")
               for t in story)
    at.number_input(key="cm_k").set_value(limits.CHAT_HITS[1]).run()
    no_problems(at)
    assert len(hits(at)) == limits.CHAT_HITS[1]


def test_suggested_questions_and_the_labelled_list():
    at = page().run()
    suggested = sorted((b for b in at.button if b.key and b.key.startswith("cm_suggest_")),
                       key=lambda b: int(b.key.rsplit("_", 1)[1]))
    assert len(suggested) == 6
    chat = load_example()
    picks = explain.suggestions(chat.questions, 6)
    assert [unescape(b.label) for b in suggested] == [q.question for q in picks]
    at.button(key="cm_suggest_1").click().run()          # "When did Priya adopt Biscuit?"
    no_problems(at)
    assert at.text_input(key="cm_question").value == picks[1].question
    assert hits(at).iloc[0].turn == picks[1].evidence[0] == "S4:7"
    assert any(t.startswith(f"Labelled evidence ({picks[1].category}): S4:7 at #1")
               for t in texts(at.caption))
    assert hits(at).iloc[0].evidence == "✓"
    box = next(s for s in at.selectbox if s.key and s.key.startswith("cm_pick:"))
    cup = next(i for i, q in enumerate(chat.questions) if "cup" in q.question)
    box.set_value(cup).run()
    no_problems(at)
    assert at.text_input(key="cm_question").value == chat.questions[cup].question
    assert hits(at).iloc[0].turn == "S5:16" and "kiln" in texts(at.success)[0]


def test_recall_table_equals_the_engine(example_memory):
    chat, mem = example_memory
    at = page().run()
    no_problems(at)
    table = frame(at, "R@10 95% CI")
    ref = {(r["category"], r["at_k"]): r["value"] for r in
           recall_records(mem, chat.questions, at_k=(1, 5, 10))}
    base = {(r["category"], r["at_k"]): r["value"] for r in
            recall_records(mem, chat.questions, at_k=(10,),
                           configs={"cosine": PRESETS["cosine"]})}
    assert list(table.index) == ["overall", "list", "temporal", "multi-hop", "paraphrase",
                                 "single-hop"]
    for cat in table.index:
        for k in (1, 5, 10):
            assert table.loc[cat, f"R@{k}"] == pytest.approx(ref[(cat, k)], abs=5e-4)
        assert table.loc[cat, "cosine R@10"] == pytest.approx(base[(cat, 10)], abs=5e-4)
    assert table.loc["overall", "questions"] == 21
    lo, hi = map(float, table.loc["overall", "R@10 95% CI"].split("–"))
    assert lo < table.loc["overall", "R@10"] < hi
    per_q = frame(at, "evidence (rank)")
    assert len(per_q) == 21 and per_q["found in top 10"].iloc[0] == "3 of 3"
    assert "cosine: found in top 10" in per_q.columns
    # another configuration: the table follows it, the baseline stays
    at.selectbox(key="cm_config").set_value("bm25").run()
    no_problems(at)
    t2 = frame(at, "R@10 95% CI")
    bm = {r["at_k"]: r["value"] for r in recall_records(
        mem, chat.questions, at_k=(10,), configs={"bm25": PRESETS["bm25"]})
        if r["category"] == "overall"}
    assert t2.loc["overall", "R@10"] == pytest.approx(bm[10], abs=5e-4)
    assert t2.loc["overall", "cosine R@10"] == pytest.approx(base[("overall", 10)], abs=5e-4)


def test_upload_a_small_csv_then_hostile_files():
    at = page().run()
    at.radio(key="cm_kind").set_value(sources.UPLOAD).run()
    no_problems(at)
    assert any("Upload a chat" in t for t in texts(at.info))
    at.file_uploader(key="cm_upload").set_value(("chat.csv", CHAT_CSV, "text/csv")).run()
    no_problems(at)
    assert any("6 turns · 2 sessions" in t for t in texts(at.markdown))
    assert at.text_input(key="cm_question").value == ""        # no labels: nothing asked
    assert any("Type a question" in t for t in texts(at.info))
    assert not has_frame(at, "R@10 95% CI")   # nothing to score
    at.text_input(key="cm_question").set_value("What is the name of Maya's pet?").run()
    no_problems(at)
    assert hits(at).iloc[0].turn == "T3" and "Pepper" in texts(at.success)[0]
    assert hits(at).iloc[0].when == "2 March 2024"         # its day is its session: once
    at.text_input(key="cm_question").set_value("What does Leo's music teacher think?").run()
    assert hits(at).iloc[0].turn == "T6"
    bad = [
        (b"name,message\nMaya,hi\n", "the CSV header must name some of"),
        (b"speaker,text,time\nMaya,hello,31 February 2024\n", "T1"),
        (b"speaker,text\nMaya,hi,extra\n", "CSV row 2 has 3 cells"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"speaker,text\n" + b"x" * limits.CHAT_UPLOAD_BYTES, "this page takes chats up to 1 MB"),
        (b"text\n" + b"hi\n" * (limits.CHAT_TURNS + 1), "the chat has 2,001 turns"),
        (b"text\n" + (b"!" * 300 + b"\n") * 240, "MiniLM wordpieces; this page takes up to"),
        (b"text\n", "the file holds no turns"),
    ]
    for data, message in bad:
        at.file_uploader(key="cm_upload").set_value(("chat.csv", data, "text/csv")).run()
        assert not at.exception, (message, texts(at.exception))
        assert at.error and message in texts(at.error)[0], (message, texts(at.error))
        assert not at.table and not at.get("plotly_chart"), message   # nothing else drawn
    for name, data, message in (
            ("chat.json", b'{"turns": [{"text": "hi", "mood": "x"}]}', "unknown fields"),
            ("chat.json", b"[" * 100 + b"]" * 100, "at most 16 levels"),
            ("chat.json", b'{"turns": [{"text": "a"}, {"text": "b", "id": "T1"}]}', "twice")):
        at.file_uploader(key="cm_upload").set_value((name, data, "application/json")).run()
        assert not at.exception and message in texts(at.error)[0], (message, texts(at.error))


def test_user_text_is_never_markdown():
    nasty = "**bold** [link](http://x.test) <b>tag</b> `code` # head"
    csv = ("speaker,text\nAda,\"" + nasty + "\"\nBo,Fine.\n").encode()
    at = page().run()
    at.radio(key="cm_kind").set_value(sources.UPLOAD).run()
    at.file_uploader(key="cm_upload").set_value(("x.csv", csv, "text/csv")).run()
    at.text_input(key="cm_question").set_value("bold link tag code head").run()
    no_problems(at)
    raw = at.success[0].value
    assert r"\*\*bold\*\*" in raw and r"\[link\]\(http://x\.test\)" in raw and r"\<b\>" in raw
    assert hits(at).iloc[0].said == ui.plain("Ada: " + nasty)  # st.table reads markdown
    fig = next(f for t, f in figures(at).items() if t.startswith("Attention"))
    assert not any("<" in y or ">" in y for y in fig["data"][0]["y"])


def test_hostile_questions_get_answers_or_messages():
    at = page().run()
    for q in ("Priya", "🙂🙂", "<script>alert(1)</script>", "\x00", "x" * 2000, "   "):
        at.text_input(key="cm_question").set_value(q).run()
        assert not at.exception and not at.error, (q[:20], texts(at.error))
        assert len(hits(at)) == 5 if q.strip() else texts(at.info) == [
            "Type a question, or click a suggested one."]


def test_locomo_from_the_data_folder_and_without_it(tmp_path, monkeypatch):
    at = page().run()
    at.radio(key="cm_kind").set_value(sources.LOCOMO).run()
    no_problems(at)
    assert at.selectbox(key="cm_locomo").options == ["conv-test"]
    assert any("LoCoMo conv-test: Anna and Ben: 7 turns" in t for t in texts(at.markdown))
    q = at.text_input(key="cm_question").value
    assert q == "What did Biscuit chew?"           # a temporal one first: no paraphrases here
    assert hits(at).iloc[0].turn == "D2:2"
    table = frame(at, "R@10 95% CI")
    assert table.loc["overall", "questions"] == 4
    monkeypatch.setenv("NUONUO_DATA_DIR", str(tmp_path / "empty"))
    at = page().run()
    at.radio(key="cm_kind").set_value(sources.LOCOMO).run()
    no_problems(at)
    info = texts(at.info)[0]
    assert "snap-research/locomo" in info and "data/locomo10.json" in info
    assert at.code[0].value == str(tmp_path / "empty")
    assert not at.table and not at.main.text_input


def test_home_opens_the_example_conversation():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    at.session_state["cm_kind"] = sources.UPLOAD       # even after another source was picked
    at.button(key="start_conversation").click().run()
    no_problems(at)
    assert at.title[0].value.endswith("Conversation memory")
    assert at.radio(key="cm_kind").value == sources.EXAMPLE
    assert hits(at).iloc[0].turn == "S3:10"


# --- pure helpers -----------------------------------------------------------------------------
def test_page_limits_lie_inside_the_engines():
    """The page's bounds are the engine's rows narrowed (tests/test_limits_table.py checks
    every lab range); the constants the page reads are those rows' ends."""
    page = limits.CONVERSATION
    for name in ("chat_bytes", "chat_turns", "hits"):
        assert page[name].parent is LIMITS[name] and page[name].inside(LIMITS[name]), name
    assert 0 < limits.CHAT_UPLOAD_BYTES == page["chat_bytes"].hi < LIMITS["chat_bytes"].hi
    assert 0 < limits.CHAT_TURNS == page["chat_turns"].hi < LIMITS["chat_turns"].hi
    assert limits.CHAT_HITS == (page["hits"].lo, page["hits"].hi) == (1, 20)
    assert limits.CHAT_WORDPIECES == page["wordpieces"].hi and page["wordpieces"].parent is None


def test_upload_bounds_at_the_edges():
    def count(texts):
        return sum(len(t.split()) for t in texts)

    head = b"text\n"
    row = b"word\n"
    n = limits.CHAT_TURNS
    assert len(sources.upload(head + row * n, "c.csv", count).turns) == n
    with pytest.raises(ValueError, match="2,001 turns"):
        sources.upload(head + row * (n + 1), "c.csv", count)
    room = limits.CHAT_UPLOAD_BYTES - len(head)           # rows of 600 bytes, then the rest
    fill = head + (b"a" * 599 + b"\n") * (room // 600) + b"b" * (room % 600 - 1) + b"\n"
    assert len(fill) == limits.CHAT_UPLOAD_BYTES
    assert len(sources.upload(fill, "c.csv", lambda t: 1).turns) == room // 600 + 1
    with pytest.raises(ValueError, match="1.0 MB; this page takes chats up to 1 MB"):
        sources.upload(fill + b"a", "c.csv", lambda t: 1)
    budget = limits.CHAT_WORDPIECES
    assert sources.upload(head + row, "c.csv", lambda t: budget).turns
    with pytest.raises(ValueError, match="60,001 MiniLM wordpieces"):
        sources.upload(head + row, "c.csv", lambda t: budget + 1)
    with pytest.raises(ValueError, match="no turns"):
        sources.upload(head, "c.csv", count)
    a = sources.upload(CHAT_CSV, "a.csv", count)
    assert a.private and a.key == sources.upload(CHAT_CSV, "b.csv", count).key
    assert a.key != sources.upload(CHAT_CSV + b"Leo,ok,2024-05-10\n", "a.csv", count).key


def test_wordpiece_budget_counts_what_the_memory_keeps(minilm):
    """The page's count equals the token vectors MiniLM gives the memory (truncated at 254)."""
    turns = ["Hi!", "She's a three-year-old greyhound called Biscuit.", "!" * 400,
             "supercalifragilisticexpialidocious " * 40]
    kept = sum(len(v) for _, v in minilm.token_vectors(turns))
    assert sources.minilm_wordpieces(turns) == kept
    assert sources.minilm_wordpieces(["!" * 400]) == sources.MAX_PIECES


def test_suggestions_round_robin_and_labelled_lookup():
    qs = [LabelledQuestion(f"q{i}?", ("a",), c) for i, c in
          enumerate(["list", "list", "paraphrase", "temporal", "paraphrase", "odd"])]
    got = [q.question for q in explain.suggestions(qs, 5)]
    assert got == ["q2?", "q3?", "q0?", "q5?", "q4?"]     # paraphrase, temporal, list, other…
    assert [q.question for q in explain.suggestions(qs, 99)] == \
        ["q2?", "q3?", "q0?", "q5?", "q4?", "q1?"]
    assert explain.suggestions([], 3) == []
    assert explain.labelled(qs, "  Q3? ").question == "q3?"
    assert explain.labelled(qs, "q3") is None


def test_channel_parts_sum_to_the_score_and_frames_are_tidy(example_memory):
    _, mem = example_memory
    hs = mem.search("When did Tomás fly to Lisbon?", k=8, explain=True)
    frame = explain.channel_frame(hs)
    sums = frame.groupby("rank").contribution.sum()
    assert np.allclose(sums.values, [h.score for h in hs], atol=1e-3)
    assert set(frame.channel) == set(hs[0].channels)
    table = explain.hits_table(hs, evidence=("S5:11",))
    assert list(table.columns)[-1] == "evidence" and table.evidence.tolist().count("✓") == 1
    assert "evidence" not in explain.hits_table(hs).columns


def test_recall_records_match_the_engine_and_intervals(example_memory):
    chat, mem = example_memory
    per_q = explain.ranks(mem, chat.questions, {"hybrid+time": PRESETS["hybrid+time"],
                                                "cosine": PRESETS["cosine"]})
    mine = explain.recall_records(per_q, at_k=(1, 5, 10, 50))
    ref = recall_records(mem, chat.questions, at_k=(1, 5, 10, 50),
                         configs={"hybrid+time": PRESETS["hybrid+time"],
                                  "cosine": PRESETS["cosine"]})
    assert len(mine) == len(ref)
    for r in ref:
        m = mine[(mine.config == r["method"]) & (mine.category == r["category"]) &
                 (mine.at_k == r["at_k"])]
        assert len(m) == 1 and m.value.iloc[0] == pytest.approx(r["value"], abs=1e-12)
        assert m.n.iloc[0] == r["n"] and m.lo.iloc[0] <= r["value"] <= m.hi.iloc[0]
    assert explain.interval([0.5]) == (0.5, 0.5)
    assert explain.interval([1.0] * 7) == (1.0, 1.0)
    lo, hi = explain.interval([0.0, 1.0] * 50)
    assert 0.38 < lo < 0.5 < hi < 0.62                   # ≈ 0.5 ± 1.96·0.05


def test_sessions_summary_dates_and_inert_labels():
    src = sources.example()
    s = sources.sessions(src.turns)
    assert len(s) == 8 and s.turns.tolist()[:2] == [19, 20] and s.speakers.iloc[0] == "Tomás, Priya"
    assert sources.summary(src).startswith("148 turns · 8 sessions · Tomás, Priya · "
                                           "3 March 2024 to 24 August 2024")
    assert sources.day("2023/05/20 (Sat) 02:21") == "20 May 2023" and sources.day(None) == ""
    assert list(sources.session_turns(src.turns, "session 2").id)[:2] == ["S2:1", "S2:2"]
    no_time = [{"id": "a", "text": "x"}, {"id": "b", "text": "y", "session": "s"}]
    assert sources.sessions(no_time).session.tolist() == ["(no session)", "s"]
    assert explain.inert("<a href='x'>&</a>") == "‹a href='x'›＆‹/a›"
    back = sources.upload(sources.template_csv(src), "example.csv", lambda t: 1)
    for field in ("id", "speaker", "text", "time", "session"):   # the template reads back
        assert [t[field] for t in back.turns] == [t[field] for t in src.turns], field
