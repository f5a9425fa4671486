"""Answers you can believe (issue 17): every recall's score measures how well the query matches
the answered memory, and below the method's threshold the answer is "no memory matches"
(id -1, score 0), on both the numpy single-query path and the torch batch path."""
import json
from pathlib import Path

import numpy as np
import pytest

from nuonuo_core import (DEFAULT_MIN_SCORE, NO_ABSTENTION, HybridMemory, MemoryConfig,
                         RecallResult)
from nuonuo_core.bench import calibration
from nuonuo_core.index import SCORE_TOLERANCE
from conftest import unit_rows

CPU = dict(device="cpu")
METHODS = ("hopfield", "hebbian", "cosine")
ROOT = Path(__file__).resolve().parents[1]
ISSUE_QUESTIONS = {"assistant": ["What's my favourite football team?"],
                   "teaching": ["What is the capital of Italy?", "What's the internet password?"]}


# --- the data ---------------------------------------------------------------------------
def test_calibration_data_is_hand_written_new_words_for_every_demo_set():
    data = calibration.load()
    assert set(data["sets"]) == {"assistant", "teaching", "chains"}
    total = 0
    for name, s in data["sets"].items():
        rows = json.loads((ROOT / "assets" / s["asset"]).read_text())
        cues = {r["cue"] for r in rows}
        stored = {t.lower() for r in rows for t in [r["cue"], r["target"], *r["paraphrases"]]}
        held, unheld = s["held"], s["unheld"]
        assert len(held) >= 2 * len(rows) and len(unheld) >= 25, name
        assert {it["cue"] for it in held} == cues, name  # every memory is asked about
        for it in held + unheld:  # new words: never a stored text
            assert it["q"].lower() not in stored, (name, it["q"])
        qs = [it["q"] for it in held + unheld]
        assert len(set(qs)) == len(qs), name  # no duplicates
        for group in (held, unheld):
            splits = [it["split"] for it in group]
            assert 0.4 <= splits.count("tune") / len(splits) <= 0.6, name
        for q in ISSUE_QUESTIONS.get(name, []):
            assert q in [it["q"] for it in unheld]
        total += len(held) + len(unheld)
    assert total >= 250


# --- calibrated defaults on real MiniLM ---------------------------------------------------
@pytest.fixture(scope="module")
def enc(minilm):
    """MiniLM with a memo: each text is embedded once for the whole module."""
    memo: dict = {}

    def encode(texts):
        missing = [t for t in dict.fromkeys(texts) if t not in memo]
        if missing:
            memo.update(zip(missing, minilm(missing)))
        return np.stack([memo[t] for t in texts]).astype(np.float32)
    return encode


@pytest.fixture(scope="module")
def records(minilm):
    """Every calibration question recalled as a text with default settings (word match on:
    hopfield and cosine score cue cosine × word coverage, hebbian support × overlap)."""
    return calibration.score(calibration.load(), minilm)


@pytest.fixture(scope="module")
def plain_records(enc):
    """The same by the cue cosine alone (an encoder without token vectors: no word match)."""
    return calibration.score(calibration.load(), enc)


def test_default_settings_meet_85_85_on_the_held_out_half(records):
    """Issue 17's acceptance, with MemoryConfig's defaults, on the test half (never used to
    choose a threshold): hopfield and cosine answer >= 85 % of the paraphrases right and
    abstain on >= 85 % of the unheld questions; hebbian abstains on >= 85 % of all unheld
    questions (held-out half: 83 %, README)."""
    cfg = MemoryConfig()
    assert cfg.word_match and cfg.text_min_score("cosine") == cfg.min_score_words
    got = {m: calibration.rates(records, m, cfg.text_min_score(m), "test") for m in METHODS}
    for m in ("hopfield", "cosine"):
        assert got[m]["right"] >= 0.85, got[m]
        assert got[m]["unheld_abstained"] >= 0.85, got[m]
        assert got[m]["wrong"] <= 0.02, got[m]             # 1 of 73
        both = calibration.rates(records, m, cfg.text_min_score(m))     # both halves
        assert both["right"] >= 0.85 and both["unheld_abstained"] >= 0.85, both
    allq = calibration.rates(records, "hebbian", cfg.min_score("hebbian"))
    assert allq["unheld_abstained"] >= 0.85, allq
    assert allq["right"] >= 0.75 and allq["wrong"] <= 0.01, allq
    # without a threshold every method answers almost every unheld question
    for m in METHODS:
        assert calibration.rates(records, m, NO_ABSTENTION)["unheld_abstained"] <= 0.15


def test_the_cue_cosine_alone_misses_the_abstention_target(plain_records):
    """word_match=False: the cue cosine at its own calibrated threshold abstains on < 85 %
    of the held-out unheld questions: why word match is the default."""
    for m in ("hopfield", "cosine"):
        got = calibration.rates(plain_records, m, DEFAULT_MIN_SCORE[m], "test")
        assert got["right"] >= 0.85 and 0.75 <= got["unheld_abstained"] < 0.85, got
        assert got["wrong"] <= 0.01, got


def test_every_score_separates_held_from_unheld_questions(records, plain_records):
    for recs in (records, plain_records):
        for m in METHODS:
            for split in ("tune", "test"):
                assert calibration.auc(recs, m, split) >= 0.85, (m, split)
            held = [r["score"] for r in recs if r["method"] == m and r["group"] == "held"]
            unheld = [r["score"] for r in recs if r["method"] == m and r["group"] == "unheld"]
            assert np.mean(held) - np.mean(unheld) >= 0.25, m
    for m in ("hopfield", "cosine"):           # word match separates them better
        for split in ("tune", "test"):
            assert calibration.auc(records, m, split) > calibration.auc(plain_records, m,
                                                                        split), (m, split)


def test_defaults_are_the_rule_s_choice_on_the_tune_half(records, plain_records):
    cfg = MemoryConfig()
    for m in METHODS:
        assert calibration.choose(records, m, "tune") == pytest.approx(
            cfg.text_min_score(m), abs=0.02), m
        assert calibration.choose(plain_records, m, "tune") == pytest.approx(
            DEFAULT_MIN_SCORE[m], abs=0.02), m
        assert cfg.min_score(m) == DEFAULT_MIN_SCORE[m]


def test_default_recall_abstains_exactly_below_the_threshold(enc, minilm, records,
                                                            plain_records):
    data = calibration.load()
    for name, s in data["sets"].items():
        qs = [it["q"] for it in s["held"] + s["unheld"]]
        # texts with MiniLM (word match for hopfield and cosine), the default thresholds
        words, _ = calibration.demo_memory(ROOT / "assets" / s["asset"], minilm)
        for m in METHODS:
            mine = {r["q"]: r for r in records if r["set"] == name and r["method"] == m}
            t = words.text_min_score(m)
            want = [mine[q]["best"] if mine[q]["score"] >= t else -1 for q in qs]
            scores, ids = words.recall(qs, k=1, method=m)
            assert ids[:, 0].tolist() == want, (name, m)
            assert np.allclose(scores[:, 0], [mine[q]["score"] if w >= 0 else 0.0
                                              for q, w in zip(qs, want)], atol=1e-5)
        # vectors (and an encoder without token vectors): the cue cosine and min_score_<m>
        mem, _ = calibration.demo_memory(ROOT / "assets" / s["asset"], enc)
        assert not mem.word_match_applies("cosine")
        vecs = enc(qs)
        for m in METHODS:
            mine = {r["q"]: r for r in plain_records if r["set"] == name and r["method"] == m}
            scores, ids = mem.recall_vectors(vecs, k=1, method=m)  # default settings
            want = [mine[q]["best"] if mine[q]["score"] >= mem.config.min_score(m) else -1
                    for q in qs]
            assert ids[:, 0].tolist() == want, (name, m)
            assert np.allclose(scores[:, 0], [mine[q]["score"] if w >= 0 else 0.0
                                              for q, w in zip(qs, want)], atol=1e-5)
            one = [int(mem.recall_vectors(vecs[i:i + 1], k=1, method=m)[1][0, 0])
                   for i in range(0, len(qs), 7)]
            assert one == want[::7], (name, m)  # the single-query path too
        by_text = mem.recall(qs[:2], k=1)[1][:, 0].tolist()  # texts: the same answers
        assert by_text == mem.recall_vectors(vecs[:2], k=1)[1][:, 0].tolist()
        if name in ISSUE_QUESTIONS:
            for m in METHODS:
                for memory in (words, mem):
                    r = memory.recall_details(["What's my favourite football team?"], k=1,
                                              method=m)
                    assert r.ids[0, 0] == -1 and r.abstained[0] == (r.best_ids[0, 0] >= 0), m


# --- the engine's rule, on vectors (both paths) -------------------------------------------
def _memory(n=60, seed=0, **kw):
    x = unit_rows(n, seed=seed)
    mem = HybridMemory(MemoryConfig(**CPU, **kw))
    mem.add_vectors(x[:-1], targets=x[1:], paraphrases=[unit_rows(1, seed=500 + i) if i % 3
                                                        else None for i in range(n - 1)])
    return mem, x


def _queries(x, n=30, seed=1):
    """Queries at many match levels: stored cues mixed with noise of growing weight."""
    w = np.linspace(0.0, 2.0, n)[:, None]
    q = x[:n] + w * unit_rows(n, seed=seed)
    return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("method", METHODS)
def test_scores_are_the_match_and_both_paths_agree(method):
    mem, x = _memory()
    q = _queries(x)
    emb = mem.store.index.emb.numpy()
    owner = np.asarray(mem.ids())[mem.store.row_mem.numpy()]
    for min_score in (NO_ABSTENTION, {"hebbian": 0.3}.get(method, 0.5)):
        batch = mem.recall_details(q, k=4, method=method, min_score=min_score)
        assert isinstance(batch, RecallResult) and batch.min_score == min_score
        for i in range(len(q)):
            one = mem.recall_details(q[i:i + 1], k=4, method=method, min_score=min_score)
            assert np.array_equal(one.ids[0], batch.ids[i]), (method, i)
            assert np.allclose(one.scores[0], batch.scores[i], atol=1e-5)
            assert np.array_equal(one.best_ids[0], batch.best_ids[i])
            for part in ("settled", "overlap", "support"):
                a, b = getattr(one, part), getattr(batch, part)
                assert (a is None) == (b is None) and (a is None or np.allclose(a[0], b[i],
                                                                               atol=1e-5))
        for i in range(len(q)):
            live = batch.best_ids[i] >= 0
            if method != "hebbian":  # the query's cosine with the memory's best cue row
                best_row = [max(emb[owner == m] @ q[i]) for m in batch.best_ids[i][live]]
                assert np.allclose(batch.best_scores[i][live], best_row, atol=1e-5)
            else:
                assert np.allclose(batch.best_scores[i], batch.support[i] * batch.overlap[i],
                                   atol=1e-6)
            kept = batch.best_ids[i][live][batch.best_scores[i][live] >= min_score]
            assert batch.ids[i].tolist() == kept.tolist() + [-1] * (4 - len(kept))
            assert (batch.scores[i][len(kept):] == 0).all()
    assert (batch.ids[:, 0] >= 0).any() and (batch.ids[:, 0] < 0).any()  # both happen


def test_hopfield_ranks_by_settling_but_scores_the_match():
    x = unit_rows(8, seed=3)
    mem = HybridMemory(MemoryConfig(**CPU))
    ids = mem.add_vectors(x)
    q = (0.55 * x[2] + 0.45 * x[5]) / np.linalg.norm(0.55 * x[2] + 0.45 * x[5])
    r = mem.recall_details(q[None].astype(np.float32), k=3, method="hopfield",
                           min_score=NO_ABSTENTION)
    assert r.best_ids[0, 0] == ids[2]
    # the match: the query's cosine with the stored (float16) row, within 2^-11 of float32's
    stored = float(x[2].astype(np.float16).astype(np.float64) @ q.astype(np.float64))
    assert r.best_scores[0, 0] == pytest.approx(stored, abs=1e-6)
    assert r.best_scores[0, 0] == pytest.approx(float(x[2] @ q), abs=SCORE_TOLERANCE)
    assert r.best_scores[0, 0] < 0.8 and r.settled[0, 0] > 0.99  # settled ≠ confidence
    tr = mem.settle_trace(q.astype(np.float32), min_score=0.9)
    assert tr.settled_id == ids[2] and tr.answer_id == -1 and tr.answer_score == 0.0
    assert tr.match_score == pytest.approx(stored, abs=1e-6)
    assert tr.settled_similarity > 0.99 and tr.min_score == 0.9


def test_an_answer_below_the_threshold_leaves_the_rest_in_order():
    mem = HybridMemory(MemoryConfig(**CPU))
    s, ids = np.array([[0.9, 0.3, 0.7, 0.0]], np.float32), np.array([[4, 2, 9, -1]])
    from nuonuo_core.memory import apply_min_score

    got_s, got_i = apply_min_score(s, ids, 0.5)
    assert got_i.tolist() == [[4, 9, -1, -1]] and np.allclose(got_s, [[0.9, 0.7, 0, 0]])
    assert apply_min_score(s, ids, -1.0)[1].tolist() == ids.tolist()
    assert apply_min_score(s, ids, 0.95)[1].tolist() == [[-1] * 4]
    for method in METHODS:  # an empty memory: nothing, whatever the threshold
        r = mem.recall_details(unit_rows(2, seed=4), k=3, method=method, min_score=-1)
        assert (r.ids == -1).all() and not r.answered.any() and not r.abstained.any()


def test_hebbian_support_comes_from_stored_links_not_the_decoded_overlap():
    """A memory decoded at full overlap through one shared cue unit has support 1/k: the
    issue's cross-talk answers ("Finnair" for a football question, 1.0 before)."""
    x = unit_rows(2, seed=5)
    mem = HybridMemory(MemoryConfig(code_dim=4096, **CPU))
    ids = mem.add_vectors(x[:1], targets=x[1:])
    cue = mem.codes(ids)[0][0]
    r = mem.recall_details(x[:1], k=1, method="hebbian", min_score=NO_ABSTENTION)
    assert r.support[0, 0] == 1.0 and r.overlap[0, 0] == 1.0 and r.scores[0, 0] == 1.0
    # a query whose code shares exactly one unit with the cue (found by search)
    proj = mem._sep.projection.numpy()
    rng = np.random.default_rng(0)
    for _ in range(4000):
        q = rng.standard_normal(384).astype(np.float32)
        q /= np.linalg.norm(q)
        code = np.sort(np.argsort(-(proj @ q), kind="stable")[:20])
        if len(np.intersect1d(code, cue)) == 1:
            break
    else:
        pytest.fail("no query sharing one unit found")
    r = mem.recall_details(q[None], k=1, method="hebbian", min_score=NO_ABSTENTION)
    assert r.best_ids[0, 0] == ids[0] and r.overlap[0, 0] == 1.0  # decoded at full overlap
    assert r.support[0, 0] == pytest.approx(1 / 20) and r.scores[0, 0] == pytest.approx(0.05)
    assert mem.recall_vectors(q[None], k=1, method="hebbian")[1][0, 0] == -1  # default


def test_thresholds_are_validated_set_live_and_saved():
    number = "must be a finite number in"   # the limits table's message (nuonuo_core/limits.py)
    with pytest.raises(ValueError, match=rf"min_score_hopfield {number} \[-1, 1\], got 1.5"):
        MemoryConfig(min_score_hopfield=1.5)
    with pytest.raises(ValueError, match=rf"chain_min_support {number} \[0, 1\], got -0.1"):
        MemoryConfig(chain_min_support=-0.1)
    with pytest.raises(ValueError, match=rf"min_score_cosine {number} \[-1, 1\], got nan"):
        MemoryConfig(min_score_cosine=float("nan"))
    mem, x = _memory(20)
    for bad in (1.01, -2, float("inf"), "0.5", True):
        with pytest.raises(ValueError, match=rf"min_score {number} \[-1, 1\], got"):
            mem.recall_vectors(x[:1], min_score=bad)
    with pytest.raises(ValueError, match=rf"min_support {number} \[0, 1\], got 2"):
        mem.chain(mem.ids()[0], min_support=2)
    q = _queries(x, 19)
    before = mem.recall_vectors(q, k=2, method="cosine")
    mem.set_recall_params(min_score_cosine=0.99, chain_min_support=1.0)
    assert mem.config.min_score_cosine == 0.99
    strict = mem.recall_vectors(q, k=2, method="cosine")
    assert (strict[1] >= 0).sum() < (before[1] >= 0).sum()
    back = HybridMemory.from_bytes(mem.to_bytes())
    assert back.config == mem.config
    assert np.array_equal(back.recall_vectors(q, k=2, method="cosine")[1], strict[1])
    old = {k: v for k, v in mem.config.to_dict().items()
           if not k.startswith("min_score") and k != "chain_min_support"}
    assert MemoryConfig.from_dict(old).min_score("hebbian") == DEFAULT_MIN_SCORE["hebbian"]
