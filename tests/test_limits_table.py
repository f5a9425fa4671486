"""Issue 21 point 3: one declared table of limits (nuonuo_core/limits.py) read by the engine,
conversation memory, the experiments and sweeps, the lab's forms and uploads. Each test
narrows or reads a row of the table and checks that the code reading it follows, so a range
written a second time somewhere (as conversation memory, the sweep seeds and the per-call
thresholds had theirs) makes it fail."""
from __future__ import annotations

import argparse

import pytest

from nuonuo_core import limits as core_limits
from nuonuo_core.limits import LIMITS, Limit


def _narrowed(monkeypatch, name: str, lo, hi) -> None:
    row = LIMITS[name]
    monkeypatch.setitem(LIMITS, name, Limit(name, lo, hi, row.integer, row.lo_open, row.why))


# --- conversation memory --------------------------------------------------------------------
def test_conversation_bounds_are_rows_of_the_one_table(monkeypatch):
    """nuonuo_core/retrieval/limits.py holds no table of its own: every bound conversation
    memory checks (turns, texts, questions, hits, files, chats, RetrievalConfig's fields) is a
    row of the engine's table, read when it is checked."""
    from nuonuo_core import retrieval
    from nuonuo_core.retrieval import RetrievalConfig, parse_chat
    from nuonuo_core.retrieval import limits as rlim
    from nuonuo_core.retrieval.turns import check_turns

    assert rlim.LIMITS is LIMITS and retrieval.LIMITS is LIMITS
    assert all(isinstance(v, Limit) for v in LIMITS.values())
    for name in ("chat_turns", "turn_chars", "caption_chars", "turn_id_chars", "speaker_chars",
                 "session_chars", "time_chars", "question_chars", "questions", "hits", "at_k",
                 "evidence_ids", "chat_bytes", "chat_json_depth", "chat_title_chars",
                 "chat_description_chars", "conversation_file_bytes", "channel_weight",
                 "spread_top", "engine_top", "entity_max_df", "fanout", "diversity_depth"):
        assert LIMITS[name].integer == (name != "channel_weight"), name
    turns = [{"id": f"t{i}", "text": f"turn {i}"} for i in range(4)]
    assert len(check_turns(turns)) == 4
    _narrowed(monkeypatch, "chat_turns", 0, 3)
    with pytest.raises(ValueError, match=r"is 4; allowed \[0, 3\]"):
        check_turns(turns)
    _narrowed(monkeypatch, "turn_chars", 0, 5)
    with pytest.raises(ValueError, match=r"turns\[0\] .*text has 6 characters; allowed \[0, 5\]"):
        check_turns([{"id": "a", "text": "sixsix"}])
    assert RetrievalConfig(fanout=5).fanout == 5
    _narrowed(monkeypatch, "fanout", 1, 4)
    with pytest.raises(ValueError, match=r"fanout must be an int in \[1, 4\], got 5"):
        RetrievalConfig(fanout=5)
    _narrowed(monkeypatch, "channel_weight", -1.0, 1.0)
    with pytest.raises(ValueError, match=r"w_bm25 must be a finite number in \[-1, 1\], got 2"):
        RetrievalConfig(w_bm25=2.0)
    _narrowed(monkeypatch, "chat_title_chars", 0, 3)
    with pytest.raises(ValueError, match=r"the title has 4 characters; allowed \[0, 3\]"):
        parse_chat(b'{"title": "four", "turns": [{"text": "hi"}]}', "chat.json")


def test_lab_conversation_limits_narrow_the_engines_rows():
    """The Conversation page's upload bounds are the engine's rows narrowed (and say so); its
    wordpiece bound is the lab's alone (the engine has no such row)."""
    from lab import limits

    for name in ("chat_bytes", "chat_turns", "hits"):
        page = limits.CONVERSATION[name]
        assert page.parent is LIMITS[name] and page.inside(LIMITS[name]) and page.hi < \
            LIMITS[name].hi, name
        assert f"the engine allows {LIMITS[name].span()}" in page.help(), name
    assert limits.CONVERSATION["question_chars"] is LIMITS["question_chars"]
    assert "wordpieces" not in LIMITS and limits.CONVERSATION["wordpieces"].parent is None


# --- seeds: one range from the engine to every command line and form --------------------------
def test_seeds_take_the_engines_whole_range_everywhere():
    """A sweep, the experiments' --seed and the lab's Sweep page accept every seed the engine
    does ([0, 2^32 - 1], torch's generator) and refuse the next one; seeds are plain digits."""
    from lab.sweep import jobs
    from nuonuo_core.experiments.__main__ import _seeds
    from nuonuo_core.sweep import build_grid, grid

    top = int(LIMITS["seed"].hi)
    assert top == 2**32 - 1 == grid.MAX_SEED
    assert grid.parse_seeds(f"0,{top}") == (0, top)
    assert _seeds(f"{top},7") == [top, 7]
    assert build_grid("noise", {"code_dim": "256"}, str(top)).seeds == (top,)
    for bad in (str(top + 1), "-1", "+1", "1_0", "1e3", "1.0", "0x10", "٣", "", "1,1"):
        with pytest.raises(ValueError):
            grid.parse_seeds(bad)
        with pytest.raises(argparse.ArgumentTypeError):
            _seeds(bad)
    with pytest.raises(ValueError, match=r"\[0, 2\^32 - 1\]|\[0, 4294967295\]"):
        grid.parse_seeds(str(top + 1))
    fixed = {"n_memories": "20", "n_queries": "5", "code_dim": "256", "embed_dim": "32"}
    assert jobs.page_grid("noise", {}, fixed, f"0, {top}").seeds == (0, top)
    with pytest.raises(ValueError):
        jobs.page_grid("noise", {}, fixed, f"0, {top + 1}")


def test_sweep_workers_are_the_tables_row():
    from nuonuo_core.sweep import backends
    from nuonuo_core.sweep.__main__ import _workers

    assert backends.MAX_WORKERS == LIMITS["workers"].hi == 256
    assert _workers("256") == 256 and _workers(" 4 ") == 4
    for bad in ("0", "257", "1.5", "x", "", "nan"):
        with pytest.raises(argparse.ArgumentTypeError, match=r"--workers must be .*\[1, 256\]"):
            _workers(bad)
    with pytest.raises(ValueError, match=r"workers must be an int in \[1, 256\], got 0"):
        backends.check_backend("local", 0)


# --- per-call thresholds and experiments read the engine's rows -------------------------------
def test_per_call_thresholds_are_rows_of_the_table(monkeypatch):
    """recall(min_score=), settle_trace(min_score=) and chain(min_support=) are checked by the
    table's rows ``min_score`` and ``min_support`` (no range of their own in inputs.py)."""
    import numpy as np

    from nuonuo_core import HashingEncoder, HybridMemory, MemoryConfig, inputs

    assert not hasattr(inputs, "check_fraction")
    assert (LIMITS["min_score"].lo, LIMITS["min_score"].hi) == (-1.0, 1.0)
    assert (LIMITS["min_support"].lo, LIMITS["min_support"].hi) == (0.0, 1.0)
    mem = HybridMemory(MemoryConfig(code_dim=256, k=8, embed_dim=32, device="cpu"),
                       encoder=HashingEncoder(32))
    x = np.eye(32, dtype=np.float32)[:4]
    mem.add_vectors(x)
    mem.recall_vectors(x[:1], min_score=0.7)
    _narrowed(monkeypatch, "min_score", -0.5, 0.5)
    with pytest.raises(ValueError, match=r"min_score must be a finite number in \[-0.5, 0.5\], "
                                         r"got 0.7"):
        mem.recall_vectors(x[:1], min_score=0.7)
    _narrowed(monkeypatch, "min_support", 0.0, 0.25)
    with pytest.raises(ValueError, match=r"min_support must be a finite number in \[0, 0.25\]"):
        mem.chain(mem.ids()[0], min_support=0.5)


def test_experiment_fields_lie_inside_the_engines_rows():
    """A config field that reaches the engine (k-WTA winners, code_dim, β, noise) is refused at
    the experiment's config when the engine would refuse it, naming the engine's range."""
    from nuonuo_core.experiments.noise import NoiseConfig
    from nuonuo_core.experiments.registry import ENGINE_LIMITS
    from nuonuo_core.experiments.single_hop_value import SingleHopConfig

    assert set(ENGINE_LIMITS.values()) <= set(LIMITS)
    assert NoiseConfig(wta_k=256).wta_k == 256
    with pytest.raises(ValueError, match=r"wta_k must be in \[1, 256\], got 257"):
        NoiseConfig(wta_k=257)
    with pytest.raises(ValueError, match=r"beta must be in \[1e-06, 10000.0\], got 20000"):
        NoiseConfig(beta=20000.0)
    with pytest.raises(ValueError, match=r"code_dim must be in \[20, 131072\]"):
        SingleHopConfig(code_dim=2**17 + 1)
    with pytest.raises(ValueError, match=r"betas must be in \[0.001, 10000.0\]"):
        SingleHopConfig(betas=(1.0, 2e4))


def test_the_table_is_well_formed():
    """Every row: lo <= hi, a reason, integer rows have integer ends; table_rows shows them."""
    for name, row in LIMITS.items():
        assert row.name == name and row.lo <= row.hi and row.why, name
        if row.integer:
            assert float(row.lo).is_integer() and float(row.hi).is_integer(), name
    assert [r["name"] for r in core_limits.table_rows()] == list(LIMITS)
