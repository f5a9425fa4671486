"""Word-match scoring (MemoryConfig.word_match, nuonuo_core.wordmatch): cue cosine × word
coverage for text recall, its threshold, and the cases it must leave alone."""
from __future__ import annotations

import numpy as np
import pytest

from nuonuo_core import HashingEncoder, HybridMemory, MemoryConfig, NO_ABSTENTION
from nuonuo_core import wordmatch as wm
from nuonuo_core.bench import calibration
from nuonuo_core.config import DEFAULT_MIN_SCORE_WORDS

SMALL = dict(code_dim=2048, k=8, device="cpu")


def unit(rng, n, d=8):
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


# --- the pure functions ----------------------------------------------------------------------
def test_words_join_pieces_into_unit_means():
    rng = np.random.default_rng(0)
    v = unit(rng, 5)
    names, vecs = wm.words(["the", "pen", "##ici", "##llin", "?"], v)
    assert names == ["the", "penicillin", "?"]
    want = v[1:4].mean(0)
    assert np.allclose(vecs[1], want / np.linalg.norm(want), atol=1e-6)
    assert np.allclose(vecs[[0, 2]], v[[0, 4]], atol=1e-6)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-6)
    assert wm.words([], np.zeros((0, 8), np.float32))[0] == []


def test_content_words_drop_stop_words_and_fall_back_to_all():
    assert wm.content(["what", "is", "the", "capital", "of", "france", "?"]) == [3, 5]
    assert wm.content(["who", "is", "it", "?"]) == [0, 1, 2, 3]
    assert wm.content(["k", "-", "wta"]) == [2]


def slow_coverage(query, rows):
    best = None
    for names, vecs in rows:
        if not names or not len(query[0]):
            continue
        keep = wm.content(names)
        worst = min(max(float(np.dot(vecs[i], qv)) for qv in query[1]) for i in keep)
        best = worst if best is None else max(best, worst)
    return 0.0 if best is None else best


def test_coverage_equals_a_slow_reference_on_random_words():
    rng = np.random.default_rng(1)
    vocab = ["gold", "silver", "symbol", "the", "of", "capital", "france", "what", "car"]
    for _ in range(40):
        q = list(rng.choice(vocab, rng.integers(1, 6)))
        rows = [(list(rng.choice(vocab, rng.integers(1, 6))), None) for _ in range(
            rng.integers(1, 4))]
        qw = (q, unit(rng, len(q)))
        rw = [(n, unit(rng, len(n))) for n, _ in rows]
        assert wm.coverage(qw, rw) == pytest.approx(slow_coverage(qw, rw), abs=1e-6)


def test_coverage_takes_the_weakest_word_of_the_best_row():
    e = np.eye(4, dtype=np.float32)
    query = (["symbol", "silver"], e[[0, 1]])
    gold = (["symbol", "gold"], e[[0, 2]])        # "gold" has no counterpart: 0
    sym = (["symbol"], e[[0]])                     # every word found: 1
    assert wm.coverage(query, [gold]) == pytest.approx(0.0)
    assert wm.coverage(query, [gold, sym]) == pytest.approx(1.0)
    assert wm.coverage(query, []) == 0.0
    assert wm.coverage(([], np.zeros((0, 4), np.float32)), [gold]) == 0.0


class CountingEncoder(HashingEncoder):
    def __init__(self):
        super().__init__()
        self.seen: list[str] = []

    def token_vectors(self, texts):
        self.seen += list(texts)
        return super().token_vectors(texts)


def test_word_cache_encodes_each_text_once_and_evicts_the_oldest():
    enc = CountingEncoder()
    cache = wm.WordCache(capacity=2)
    got = cache.get(enc, ["a b", "a b", "c d"])
    assert enc.seen == ["a b", "c d"] and got[0][0] == got[1][0] == ["a", "b"]
    cache.get(enc, ["a b"])                        # a hit: "a b" is now the newest
    assert enc.seen == ["a b", "c d"]
    cache.get(enc, ["e f"])                        # evicts "c d", the least recently used
    assert len(cache) == 2
    cache.get(enc, ["a b", "c d"])
    assert enc.seen == ["a b", "c d", "e f", "c d"]
    with pytest.raises(ValueError, match="capacity"):
        wm.WordCache(0)


def test_rescore_leaves_padding_and_vector_memories_alone():
    enc = HashingEncoder()
    _, qw = wm.encode(enc, ["symbol of silver"])
    scores = np.array([[0.8, 0.7, 0.0]], np.float32)
    ids = np.array([[5, 9, -1]])
    rows = {5: ["symbol of gold"], 9: None}
    out, has = wm.rescore(scores, ids, qw, rows.get, wm.WordCache(), enc)
    assert has.tolist() == [[True, False, False]]
    # "gold" has no counterpart: hashing word vectors are random, |cos| of distinct words
    # ~0.05 (d 384), so the coverage and the score are near 0
    assert abs(out[0, 0]) < 0.8 * 0.2
    assert out[0, 1] == np.float32(0.7) and out[0, 2] == 0.0
    with pytest.raises(ValueError, match="token vectors"):
        wm.encode(lambda texts: np.zeros((len(texts), 4)), ["x"])


# --- the engine option -----------------------------------------------------------------------
def gold_memory(**cfg):
    enc = HashingEncoder()
    mem = HybridMemory(MemoryConfig(**SMALL, **cfg), encoder=enc)
    mem.add(["What is the chemical symbol of gold?", "What is the capital of France?"],
            targets=["Au", "Paris"], paraphrases=[["gold's symbol"], []])
    return mem


def test_word_match_refuses_a_swapped_entity_and_keeps_the_right_word():
    on, off = gold_memory(), gold_memory(word_match=False)
    q = ["What is the chemical symbol of silver?", "the symbol of gold please"]
    plain = off.recall_details(q, k=1, method="cosine", min_score=NO_ABSTENTION)
    words = on.recall_details(q, k=1, method="cosine", min_score=NO_ABSTENTION)
    assert plain.best_ids[:, 0].tolist() == words.best_ids[:, 0].tolist() == [0, 0]
    # hashing token vectors are exact word matching: coverage ~0 for "silver", 1 for "gold"
    # (the paraphrase row "gold's symbol": every content word found)
    assert plain.best_scores[0, 0] > 0.5
    assert abs(words.best_scores[0, 0]) < 0.2 * plain.best_scores[0, 0]
    assert words.best_scores[1, 0] == pytest.approx(plain.best_scores[1, 0], abs=1e-6)
    for method in ("hopfield", "cosine"):
        r = on.recall_details(q, k=2, method=method)
        assert r.min_score == DEFAULT_MIN_SCORE_WORDS
        assert r.ids[:, 0].tolist() == [-1, 0] and r.abstained.tolist() == [True, False]
        s, i = on.recall(q, k=2, method=method)
        assert i.tolist() == r.ids.tolist() and np.array_equal(s, r.scores)


def test_word_match_off_vectors_and_hebbian_are_unchanged():
    on, off = gold_memory(), gold_memory(word_match=False)
    q = ["What is the chemical symbol of silver?", "capital of France"]
    for method in ("hopfield", "cosine", "hebbian"):
        a, b = off.recall_details(q, k=2, method=method), off.recall_details(
            off.encoder(q), k=2, method=method)
        assert np.array_equal(a.ids, b.ids) and np.array_equal(a.scores, b.scores)
        vec = on.recall_details(on.encoder(q), k=2, method=method)
        assert np.array_equal(vec.ids, b.ids) and np.array_equal(vec.scores, b.scores)
    heb_on = on.recall_details(q, k=2, method="hebbian")
    heb_off = off.recall_details(q, k=2, method="hebbian")
    assert np.array_equal(heb_on.ids, heb_off.ids)
    assert np.array_equal(heb_on.scores, heb_off.scores)


def test_vector_memories_keep_their_cosine_and_their_threshold():
    enc = HashingEncoder()
    mem = HybridMemory(MemoryConfig(**SMALL, word_match=True, min_score_words=0.9,
                                    min_score_cosine=0.3), encoder=enc)
    v = enc(["What is the chemical symbol of silver?"])
    vid = mem.add_vectors(v)[0]                    # no texts: plain cosine, min_score_cosine
    tid = mem.add(["What is the chemical symbol of gold?"])[0]
    r = mem.recall_details(["What is the chemical symbol of silver?"], k=2, method="cosine")
    assert r.best_ids[0].tolist() == [vid, tid]
    assert r.best_scores[0, 0] == pytest.approx(1.0, abs=1e-5)
    assert r.ids[0].tolist() == [vid, -1]          # the text memory falls below 0.9
    # a call's min_score applies to both kinds
    r = mem.recall_details(["What is the chemical symbol of silver?"], k=2, method="cosine",
                           min_score=NO_ABSTENTION)
    assert r.ids[0].tolist() == [vid, tid] and r.min_score == NO_ABSTENTION


def test_word_match_config_is_checked_and_saved(tmp_path):
    with pytest.raises(ValueError, match="word_match must be True or False, got 1"):
        MemoryConfig(word_match=1)
    with pytest.raises(ValueError, match="min_score_words"):
        MemoryConfig(min_score_words=1.5)
    mem = gold_memory(word_match=True, min_score_words=0.3)
    back = HybridMemory.load(mem.save(tmp_path / "m.nuonuo"), encoder=HashingEncoder())
    assert back.config.word_match is True and back.config.min_score_words == 0.3
    q = ["What is the chemical symbol of silver?", "the symbol of gold please"]
    a, b = mem.recall_details(q, k=2, method="cosine"), back.recall_details(q, k=2,
                                                                           method="cosine")
    assert np.array_equal(a.ids, b.ids) and np.allclose(a.scores, b.scores)
    # a config dict without the fields (a caller's) takes today's defaults: word match on
    d = MemoryConfig().to_dict()
    del d["word_match"], d["min_score_words"]
    assert MemoryConfig.from_dict(d) == MemoryConfig() and MemoryConfig().word_match


def test_a_file_saved_before_word_match_existed_loads_with_it_off():
    """A missing field of a saved config means what it meant when the file was written:
    before word_match existed, text recall scored the cue cosine (off)."""
    from nuonuo_core import persistence

    mem = gold_memory(word_match=False)
    state, _ = persistence.parse(mem.to_bytes())
    cfg = dict(state["config"])
    del cfg["word_match"], cfg["min_score_words"]
    tensors, store_state = mem.store.state_dict()
    old = persistence.dump(cfg, tensors, store_state, mem._sep.fingerprint())
    back = HybridMemory.from_bytes(old, encoder=HashingEncoder())
    assert back.config.word_match is False and back.config == mem.config
    q = ["What is the chemical symbol of silver?"]
    a, b = mem.recall_details(q, k=2), back.recall_details(q, k=2)
    assert np.array_equal(a.ids, b.ids) and np.array_equal(a.scores, b.scores)
    assert b.min_score == back.config.min_score_hopfield and b.ids[0, 0] == 0   # answered
    # a file saved with the field keeps it, either way
    for flag in (True, False):
        m = gold_memory(word_match=flag)
        assert HybridMemory.from_bytes(m.to_bytes(), encoder=HashingEncoder()
                                       ).config.word_match is flag


def test_default_memory_scores_text_by_word_match_and_says_which_threshold():
    on = gold_memory()                                   # the defaults: word match on
    assert on.config.word_match and on.word_match_applies("cosine")
    assert not on.word_match_applies("hebbian")
    assert on.text_min_score("hopfield") == on.config.min_score_words == 0.22
    assert on.text_min_score("hebbian") == on.config.min_score_hebbian
    # settle_trace scores a text query as recall does, and names the same threshold
    for q in ("What is the chemical symbol of silver?", "the symbol of gold please"):
        r = on.recall_details([q], k=1, method="hopfield")
        tr = on.settle_trace(q)
        assert tr.settled_id == r.best_ids[0, 0]
        assert tr.match_score == pytest.approx(float(r.best_scores[0, 0]), abs=1e-6)
        assert tr.min_score == r.min_score == 0.22 and tr.answer_id == r.ids[0, 0]
    vec = on.settle_trace(on.encoder(["What is the chemical symbol of silver?"])[0])
    assert vec.min_score == on.config.min_score_hopfield and vec.answer_id == 0
    # an encoder without token vectors: text recall keeps the cue cosine and its threshold
    enc = HashingEncoder()
    plain = HybridMemory(MemoryConfig(**SMALL), encoder=lambda texts: enc(texts))
    plain.add(["What is the chemical symbol of gold?"], targets=["Au"])
    assert not plain.word_match_applies("cosine")
    r = plain.recall_details(["What is the chemical symbol of silver?"], k=1, method="cosine")
    assert r.min_score == plain.config.min_score_cosine == plain.text_min_score("cosine")
    assert r.best_scores[0, 0] > 0.5 and r.ids[0, 0] == 0


# --- the calibration (MiniLM) ----------------------------------------------------------------
@pytest.fixture(scope="module")
def word_records(minilm):
    return calibration.score(calibration.load(), minilm, ("hopfield", "cosine"),
                             config=MemoryConfig(device="cpu", word_match=True))


@pytest.fixture(scope="module")
def plain_records(minilm):
    return calibration.score(calibration.load(), minilm, ("hopfield", "cosine"),
                             config=MemoryConfig(device="cpu", word_match=False))


@pytest.mark.slow
def test_word_match_threshold_is_the_tune_choice_and_meets_85_85_on_the_test_half(
        word_records, plain_records):
    for m in ("hopfield", "cosine"):
        assert calibration.choose(word_records, m, "tune") == pytest.approx(
            DEFAULT_MIN_SCORE_WORDS, abs=1e-9), m
        got = calibration.rates(word_records, m, DEFAULT_MIN_SCORE_WORDS, "test")
        assert got["right"] >= 0.85 and got["unheld_abstained"] >= 0.85, got
        assert got["wrong"] <= 0.02, got
        allq = calibration.rates(word_records, m, DEFAULT_MIN_SCORE_WORDS)
        assert allq["right"] >= 0.85 and allq["unheld_abstained"] >= 0.85, allq
        # the plain cosine's own tune choice does not reach 0.85 abstained on the test half
        plain = calibration.rates(plain_records, m, calibration.choose(plain_records, m),
                                  "test")
        assert plain["unheld_abstained"] < 0.85, plain
        for split in ("tune", "test"):
            assert calibration.auc(word_records, m, split) > calibration.auc(
                plain_records, m, split), (m, split)


def test_word_match_lowers_the_issue_s_near_misses_but_not_their_paraphrases(minilm):
    """The issue's near misses lose a third or more of their score, the paraphrases almost
    nothing. Not enough for "silver": 0.84 x coverage 0.60 (its row "gold's symbol" has
    the word "symbol", and MiniLM's "gold" and "silver" tokens sit at 0.6) = 0.51 is still
    answered at 0.22; "Italy" lands at 0.225, just above (docs/abstention.md)."""
    cfg = dict(device="cpu")
    mem, _ = calibration.demo_memory(calibration.ASSETS / "demo_teaching.json", minilm,
                                     MemoryConfig(**cfg, word_match=True))
    q = ["What is the chemical symbol of silver?", "What is the capital of Italy?",
         "Which city is the capital of France?", "chemical symbol for gold"]
    words = mem.recall_details(q, k=1, method="cosine", min_score=NO_ABSTENTION)
    plain = mem.recall_details(minilm(q), k=1, method="cosine", min_score=NO_ABSTENTION)
    assert np.array_equal(words.best_ids, plain.best_ids)
    ratio = words.best_scores[:, 0] / plain.best_scores[:, 0]
    assert ratio[0] < 0.7 and ratio[1] < 0.4, ratio
    assert (ratio[2:] > 0.95).all(), ratio
    assert words.best_scores[0, 0] > DEFAULT_MIN_SCORE_WORDS     # the honest miss
