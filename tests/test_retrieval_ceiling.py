"""Issue 18's additions to conversation retrieval: the day channel, the list-question
detector, the session stage, sequential suppression of list answers (diversity) and the
engine's sequential attractor recall (hopfield-seq)."""
import datetime as dt

import numpy as np
import pytest

from nuonuo_core import HashingEncoder
from nuonuo_core.retrieval import PRESETS, ConversationMemory, RetrievalConfig, load_example
from nuonuo_core.retrieval import channels as ch
from nuonuo_core.retrieval import engine as eng

ENC = HashingEncoder(384)


def _ord(y, m, d):
    return dt.date(y, m, d).toordinal()


# --- the day a question names ------------------------------------------------------------
def test_question_days_in_every_form_and_impossible_dates_left_out():
    assert ch.question_days("What did Maria share on 16 June, 2023?") == [(2023, 6, 16)]
    assert ch.question_days("What happened on June 16th 2023?") == [(2023, 6, 16)]
    assert ch.question_days("What happened on Sept 3, 2022?") == [(2022, 9, 3)]
    assert ch.question_days("on the 3rd of March") == [(None, 3, 3)]
    assert ch.question_days("on 2023-06-16 and 2023/6/17") == [(2023, 6, 16), (2023, 6, 17)]
    assert ch.question_days("Both 1 May, 2023 and 1 May, 2023") == [(2023, 5, 1)]  # once
    # a month without a day, a time of day, impossible dates and the verb "may": no day
    for q in ("What did she do in May 2023?", "What happened at June 12:30?",
              "on 31 February, 2023", "on 2023-13-01", "You may 3 times ask", "in 2023"):
        assert ch.question_days(q) == [], q
    assert ch.question_days("on 29 February") == [(None, 2, 29)]        # some year has it


def test_day_match_hand_case():
    days = np.array([_ord(2023, 6, 16), _ord(2023, 6, 17), _ord(2022, 6, 16), -1,
                     _ord(2023, 6, 16)])
    c = ch.Corpus(["p"] * 5, list("abcde"), np.array([0, 1, 2, 3, 0]), ["A"] * 5, [], day=days)
    m = ch.day_match(c, ["What did A share on 16 June, 2023?", "What happened on 16 June?",
                         "What did A say in June 2023?", "on 16 June, 2023 or 17 June, 2023"])
    assert m.dtype == np.float32 and m.shape == (4, 5)
    assert m[0].tolist() == [1, 0, 0, 0, 1]
    assert m[1].tolist() == [1, 0, 1, 0, 1]           # no year: that day of any year
    assert not m[2].any()                             # a month is the time channel's
    assert m[3].tolist() == [1, 1, 0, 0, 1]
    with pytest.raises(ValueError, match="day must have shape"):
        ch.Corpus(["p"], ["a"], np.arange(1), ["A"], [], day=np.array([1, 2]))


def test_memory_day_channel_from_turn_times():
    mem = ConversationMemory(encoder=ENC, config=PRESETS["hybrid+day"])
    mem.add_turns([{"id": "a", "text": "we went hiking", "time": "1:56 pm on 8 May, 2023"},
                   {"id": "b", "text": "we went hiking", "time": "2023-05-09"},
                   {"id": "c", "text": "we went hiking"}])
    assert mem.corpus().day.tolist() == [_ord(2023, 5, 8), _ord(2023, 5, 9), -1]
    hits = mem.search("Where did they hike on 9 May, 2023?", k=3, explain=True)
    assert hits[0].id == "b" and hits[0].raw["day"] == 1.0 and hits[0].channels["day"] == 4.0
    assert {h.raw["day"] for h in hits[1:]} == {0.0}


# --- list questions ----------------------------------------------------------------------
@pytest.mark.parametrize("q", [
    "What activities does Melanie partake in?", "What books has Melanie read?",
    "Where has Maria made friends?", "Which cities has Jon visited?",
    "What subject have Caroline and Melanie both painted?",
    "What types of yoga has Maria practiced?",
    "What kind of pets does she keep?"])
def test_list_questions(q):
    assert ch.is_list_question(q)


@pytest.mark.parametrize("q", [
    "What did Caroline research?", "When did Melanie paint a sunrise?",
    "What is Gina's favorite style of dance?", "Why did Jon shut down his bank account?",
    "How does she feel?", "What was Melanie's reaction?", "Has she gone?", "", "?"])
def test_not_list_questions(q):
    assert not ch.is_list_question(q)


# --- the session stage -------------------------------------------------------------------
def _session_ref(first, session):
    keys = sorted(set(session.tolist()))
    best = np.array([[first[q, session == k].max() for k in keys] for q in range(len(first))])
    z = (best - best.mean(1, keepdims=True)) / (best.std(1, keepdims=True) + 1e-9)
    return np.stack([[z[q, keys.index(s)] for s in session.tolist()] for q in range(len(first))])


def test_session_scores_equal_the_slow_reference():
    rng = np.random.default_rng(0)
    session = np.array([0, 0, 3, 1, 3, 1, 1, 2, 0, 3])      # not contiguous, gaps in keys
    first = rng.standard_normal((4, 10)).astype(np.float32)
    first[1] = 0.5                                            # one question: all tied
    got = ch.session_scores(first, session)
    assert got.dtype == np.float32 and got.shape == (4, 10)
    assert np.allclose(got, _session_ref(first, session), atol=1e-5)
    assert not got[1].any()
    assert not ch.session_scores(first, np.zeros(10, int)).any()     # one session: 0
    # a turn's value is its session's best: equal within a session
    for k in set(session.tolist()):
        assert np.ptp(got[:, session == k], axis=1).max() == 0


# --- sequential suppression (diversity) --------------------------------------------------
def _mmr_ref(sc, unit, lam, depth):
    chosen, left = [], list(range(len(sc)))
    for _ in range(min(depth, len(sc))):
        pen = [max([0.0] + [float(unit[i] @ unit[j]) for j in chosen]) for i in left]
        vals = [sc[i] - lam * p for i, p in zip(left, pen)]
        chosen.append(left.pop(int(np.argmax(vals))))
    return chosen


def test_diversity_ranks_as_the_greedy_reference_and_only_flagged_rows():
    rng = np.random.default_rng(1)
    n = 30
    unit = rng.standard_normal((n, 8))
    unit[10:15] = unit[3] + 0.05 * rng.standard_normal((5, 8))     # near-copies of turn 3
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    total = rng.standard_normal((3, n)).astype(np.float32)
    total[:, 10:15] = total[:, [3]] - 0.01                          # they score next to it
    rows = np.array([True, False, True])
    for lam, depth in ((2.0, 8), (0.5, 40), (5.0, n)):
        pen = ch.diversity_penalty(total, unit, lam, depth, rows)
        assert (pen >= 0).all() and not pen[1].any()
        adj = total - lam * pen
        for q in (0, 2):
            ref = _mmr_ref(total[q], unit, lam, depth)
            order = np.argsort(-adj[q], kind="stable").tolist()
            assert order[:len(ref)] == ref, (lam, depth, q)
            assert pen[q, ref[0]] == 0.0
    # strong suppression pushes the near-copies of the first pick down
    q = 0
    pen = ch.diversity_penalty(total, unit, 5.0, n, rows)
    order = np.argsort(-(total[q] - 5.0 * pen[q]), kind="stable").tolist()
    plain = np.argsort(-total[q], kind="stable").tolist()
    copies = set(range(10, 15)) | {3}
    assert sum(o in copies for o in order[:8]) < sum(o in copies for o in plain[:8]) or \
        sum(o in copies for o in plain[:8]) <= 1
    assert not ch.diversity_penalty(total, unit, 2.0, 5, np.zeros(3, bool)).any()


def test_ungated_configuration_diversifies_every_question_and_gates_nothing():
    mem = ConversationMemory(encoder=ENC)
    mem.add_turns(load_example().turns)
    q = ["What is the name of Priya's pet?"]                  # not a list question
    gated = mem.scores(q, PRESETS["hybrid+lists"])
    free = mem.scores(q, PRESETS["hybrid+lists"].replace(list_gate=False))
    assert not gated.terms["diversity"].any() and free.terms["diversity"].min() < 0
    q = ["What hobbies and activities has Priya taken up?"]   # a list question
    assert not mem.scores(q, PRESETS["hybrid+session"]).terms["session"].any()
    assert mem.scores(q, PRESETS["hybrid+session-all"]).terms["session"].any()


def test_new_config_fields_are_checked():
    with pytest.raises(ValueError, match=r"w_diversity must be >= 0 .* got -1"):
        RetrievalConfig(w_diversity=-1.0)
    with pytest.raises(ValueError, match="list_gate must be True or False"):
        RetrievalConfig(list_gate=1)
    with pytest.raises(ValueError, match=r"diversity_depth must be an int in \[1, 10000\]"):
        RetrievalConfig(diversity_depth=0)
    with pytest.raises(ValueError, match="at least one channel other than session"):
        RetrievalConfig(**{f"w_{c}": 0.0 for c in ("cue", "bm25", "tokens", "context",
                                                    "reply", "speaker", "question", "length",
                                                    "time", "day")})
    assert "words" in RetrievalConfig(w_cue=0.0).needs()        # diversity reads the words


# --- the engine's sequential attractors --------------------------------------------------
def _ranker(beta):
    rng = np.random.default_rng(2)
    emb = rng.standard_normal((40, 384)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    return emb, eng.EngineRanker(emb, RetrievalConfig(beta=beta))


def test_sequential_attractors_recall_each_candidate_once_and_converge_to_cosine():
    emb, r = _ranker(1e4)
    rng = np.random.default_rng(5)
    Q = emb[[0, 7]] + 0.3 * rng.standard_normal((2, 384)).astype(np.float32)
    Q /= np.linalg.norm(Q, axis=1, keepdims=True)
    pos = np.vectorize(lambda i: r.pos[int(i)])
    got = pos(r.sequential(Q, 10))
    cosine = np.argsort(-(Q @ emb.T), axis=1, kind="stable")[:, :10]
    assert np.array_equal(got, cosine)            # large β: each settles to the nearest one
    _, soft = _ranker(2.0)
    ids = soft.sequential(Q, 10)
    assert all(len(set(row.tolist())) == 10 for row in ids)
    assert {int(i) for i in ids[0]} == {int(i) for i in r.sequential(Q, 10)[0]}  # same stage 1
    # more asked than stored: padded with -1, every turn once
    small = eng.EngineRanker(emb[:5], RetrievalConfig(beta=64.0))
    out = small.sequential(Q, 8)
    assert (out[:, 5:] == -1).all() and all(sorted(row[:5].tolist()) == sorted(small.pos)
                                            for row in out)


def test_hopfield_seq_row_ranks_through_the_engine():
    mem = ConversationMemory(encoder=ENC)
    mem.add_turns(load_example().turns)
    qs = [q.question for q in load_example().questions]
    sc = mem.scores(qs, PRESETS["hopfield-seq"])
    assert sc.engine is not None and sc.engine.shape == (len(qs), 50)
    order = np.argsort(-sc.total, axis=1, kind="stable")[:, :50]
    assert np.array_equal(order, sc.engine)        # the engine's order comes first
    hits = mem.search(qs[0], k=3, config=PRESETS["hopfield-seq"])
    assert [h.engine_rank for h in hits] == [1, 2, 3]


# --- the ideas that did not become rows (bench ideas) ------------------------------------
def test_ideas_bench_runs_every_idea_on_a_fixture():
    from pathlib import Path

    from nuonuo_core.bench import ideas
    from nuonuo_core.datasets.locomo import load_locomo
    conv = load_locomo(Path(__file__).parent / "fixtures" / "locomo_dir")[0]
    cases = [ideas.Case(conv, ENC) for _ in range(3)]
    case = cases[0]
    for cfg in (ideas.B, ideas.S, PRESETS["hybrid+lists"]):   # no extra: the row itself
        assert np.allclose(ideas.with_extra(case, cfg, 0.0), case.scores(cfg).total,
                           atol=1e-5)
    for name, idea in ideas.IDEAS.items():
        if name == "wordllama":
            continue                      # a second model; run by the command
        tune, held = ideas.evaluate(idea, cases, cases[:1])
        assert set(tune) == set(held) == {(5, "overall"), (10, "overall"), (5, "multi-hop"),
                                          (10, "multi-hop")}, name
        assert all(0.0 <= v <= 1.0 for v in list(tune.values()) + list(held.values())), name
    for space in ("paper", "words"):
        r = ideas.settling(cases[:1], space, 1e4, top=5)      # large β: the cosine top-1
        assert r["same_top1"] == 1.0 and r["rank_by_q"] >= 1
    assert ideas.main(["--ideas", "nope"]) == 2
    assert ideas.main(["--data", str(Path(__file__).parent / "fixtures" / "locomo_dir"),
                       "--ideas", "reweighted"]) == 2          # lacks the named conversations
