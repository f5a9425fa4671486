"""Loaders: LoCoMo (both layouts, evidence normalisation) and LongMemEval (official format)."""
import json
from pathlib import Path

import pytest

from nuonuo_core.datasets import load_locomo, load_longmemeval, normalize_evidence

FIX = Path(__file__).parent / "fixtures"
REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "locomo"


def test_normalize_evidence():
    assert normalize_evidence("D8:6; D9:17") == ["D8:6", "D9:17"]
    assert normalize_evidence("D:11:26") == ["D11:26"]
    assert normalize_evidence(["D1:3", "D02:4"]) == ["D1:3", "D2:4"]
    assert normalize_evidence("D") == []


@pytest.mark.parametrize("path", [FIX / "locomo_dir", FIX / "locomo10_tiny.json"])
def test_locomo_fixture_layouts(path):
    (conv,) = load_locomo(path)
    assert conv.sample_id in ("conv-test",)
    assert [t.dia_id for t in conv.turns] == ["D1:1", "D1:2", "D1:3", "D1:4",
                                              "D2:1", "D2:2", "D2:3"]
    assert [t.index for t in conv.turns] == list(range(7))
    assert conv.turns[2].render() == ('Anna said, "A beagle. Here he is at the park." and shared '
                                      "a photo of a small dog on grass")
    assert conv.turns[0].render() == \
        'Anna said, "Hi Ben! I adopted a puppy called Biscuit last week."'
    assert conv.session_dates == {1: "1:56 pm on 8 May, 2023", 2: "10:00 am on 20 May, 2023"}
    ev = [q.evidence for q in conv.questions]
    assert ev == [("D1:1",), ("D1:4", "D2:1"), ("D2:2",), ("D2:3",), ()]
    assert conv.dropped_evidence == 2          # "D9:9" (no such turn) and "D" (no id at all)
    assert conv.questions[3].answer == "Norway"          # adversarial_answer
    assert [q.category_name for q in conv.questions][:2] == ["single-hop", "multi-hop"]


def test_locomo_layouts_agree():
    (a,) = load_locomo(FIX / "locomo_dir")
    (b,) = load_locomo(FIX / "locomo10_tiny.json")
    assert a.turns == b.turns and a.questions == b.questions


def test_locomo_errors(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_locomo(tmp_path / "nope.json")
    with pytest.raises(ValueError, match="no .json files"):
        load_locomo(tmp_path)
    (tmp_path / "bad.json").write_text(json.dumps([{"qa": []}]))
    with pytest.raises(ValueError, match="'conversation'"):
        load_locomo(tmp_path / "bad.json")


@pytest.mark.skipif(not REAL.is_dir(), reason=f"LoCoMo data not found at {REAL} "
                    "(CI expects shared/ beside the repository)")
def test_real_locomo_folder():
    convs = load_locomo(REAL)
    assert [c.sample_id for c in convs] == ["conv-26", "conv-30", "conv-41", "conv-42",
                                            "conv-43", "conv-44", "conv-50"]
    assert sum(len(c.turns) for c in convs) == 4003
    assert sum(len(c.questions) for c in convs) == 1361
    assert sum(c.dropped_evidence for c in convs) == 2
    c26 = convs[0]
    multi = [q for q in c26.questions if "D8:6" in q.evidence and "D9:17" in q.evidence]
    assert multi, "the 'D8:6; D9:17' evidence string should be split"


def test_longmemeval_fixture():
    qs = load_longmemeval(FIX / "longmemeval_tiny.json")
    assert [q.question_id for q in qs] == ["q1", "q2", "q3_abs"]
    assert [q.is_abstention for q in qs] == [False, False, True]
    q1 = qs[0]
    assert [c.corpus_id for c in q1.corpus()] == ["s_a_1", "s_a_3", "answer_x1_1",
                                                  "noans:answer_x1_3", "s_b_1"]
    assert q1.relevant_turn_ids() == ["answer_x1_1"]
    assert q1.corpus()[2].date == q1.sessions[1].date
    assert qs[1].relevant_turn_ids() == ["answer_x1_1", "answer_x2_1"]
    assert qs[2].relevant_turn_ids() == []


def test_longmemeval_errors(tmp_path):
    item = json.loads((FIX / "longmemeval_tiny.json").read_text())[0]
    del item["haystack_dates"]
    (tmp_path / "a.json").write_text(json.dumps([item]))
    with pytest.raises(ValueError, match="haystack_dates"):
        load_longmemeval(tmp_path / "a.json")
    item = json.loads((FIX / "longmemeval_tiny.json").read_text())[0]
    item["haystack_dates"] = item["haystack_dates"][:1]
    (tmp_path / "b.json").write_text(json.dumps([item]))
    with pytest.raises(ValueError, match="lengths differ"):
        load_longmemeval(tmp_path / "b.json")
    (tmp_path / "c.json").write_text("{}")
    with pytest.raises(ValueError, match="JSON list"):
        load_longmemeval(tmp_path / "c.json")
