"""Metrics against hand-computed cases (LoCoMo recall@k; LongMemEval's official formulas)."""
import math

import pytest

from nuonuo_core.metrics import (dcg, evaluate_retrieval, evaluate_turn2session, mean,
                                       ndcg, recall_at_k, reciprocal_rank, session_of)


def test_recall_at_k_fraction_of_evidence_in_top_k():
    ranked = ["a", "b", "c", "d"]
    assert recall_at_k(ranked, {"b", "d"}, 1) == 0.0
    assert recall_at_k(ranked, {"b", "d"}, 2) == 0.5
    assert recall_at_k(ranked, {"b", "d"}, 4) == 1.0
    assert recall_at_k(ranked, ["b", "b"], 2) == 1.0          # duplicates count once
    assert recall_at_k(ranked, {"z"}, 10) == 0.0


def test_recall_at_k_rejects_bad_input():
    with pytest.raises(ValueError, match="relevant"):
        recall_at_k(["a"], [], 1)
    with pytest.raises(ValueError, match="k must be"):
        recall_at_k(["a"], ["a"], 0)


def test_reciprocal_rank():
    assert reciprocal_rank(["x", "y", "a", "b"], {"a", "b"}) == pytest.approx(1 / 3)
    assert reciprocal_rank(["a"], {"a"}) == 1.0
    assert reciprocal_rank(["x"], {"a"}) == 0.0


def test_dcg_matches_longmemeval_formula():
    # upstream: rel[0] + sum(rel[1:] / log2(arange(2, n + 1))): ranks 1 and 2 both weigh 1
    assert dcg([1, 1, 1], 3) == pytest.approx(1 + 1 + 1 / math.log2(3))
    assert dcg([0, 1], 2) == pytest.approx(1.0)
    assert dcg([1, 1, 1], 1) == 1.0
    assert dcg([], 5) == 0.0


def test_ndcg_hand_cases():
    ids = ["a", "b", "c"]
    assert ndcg([2, 0, 1], {"a"}, ids, 2) == pytest.approx(1.0)   # rank 2 undiscounted
    assert ndcg([2, 1, 0], {"a"}, ids, 3) == pytest.approx(1 / math.log2(3))
    # relevant a, b; ranking c, a, b: (0 + 1 + 1/log2 3) / (1 + 1)
    assert ndcg([2, 0, 1], {"a", "b"}, ids, 3) == pytest.approx((1 + 1 / math.log2(3)) / 2)
    assert ndcg([0, 1, 2], {"z"}, ids, 3) == 0.0


def test_evaluate_retrieval_any_all():
    ids = ["a", "b", "c", "d"]
    r_any, r_all, nd = evaluate_retrieval([1, 0, 2, 3], ["a", "c"], ids, 2)
    assert (r_any, r_all) == (1.0, 0.0)
    assert nd == pytest.approx(0.5)                 # dcg [0, 1] = 1; ideal [1, 1] = 2
    assert evaluate_retrieval([1, 0, 2, 3], ["a", "c"], ids, 3)[:2] == (1.0, 1.0)
    assert evaluate_retrieval([3], [], ids, 1)[:2] == (0.0, 1.0)   # all([]) as upstream


def test_turn2session_grows_k_to_k_distinct_sessions():
    ids = ["s1_1", "s1_2", "s2_1", "s3_1"]
    assert session_of("answer_ab_12") == "answer_ab"
    # k=1: top turn s1 -> miss; k=2: top-2 turns are both s1, so k grows to 3 -> s2 found
    assert evaluate_turn2session([0, 1, 2, 3], ["s2_1"], ids, 1)[0] == 0.0
    r_any, r_all, nd = evaluate_turn2session([0, 1, 2, 3], ["s2_1"], ids, 2)
    assert (r_any, r_all) == (1.0, 1.0)
    # sessions [s1, s1, s2], relevant s2 -> dcg 1/log2(3); ideal [1, 0, 0] -> 1
    assert nd == pytest.approx(1 / math.log2(3))


def test_mean():
    assert mean([1.0, 0.0]) == 0.5
    assert math.isnan(mean([]))
