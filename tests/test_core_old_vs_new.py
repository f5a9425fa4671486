"""Issue 19's representation (W factored until pruning cuts a cell, float16 cue rows,
column-major contributions) against main's engine before it: the scenarios of
engine_scenarios.py, recorded with main's code (tests/fixtures/engine_outputs_main.json,
scripts/record_engine_outputs.py), rerun here. Rankings, recalled ids, chains, codes, W
statistics and nights must be the same; match scores (hopfield, cosine) may move by the
float16 rounding of the stored rows, at most SCORE_TOLERANCE = 2^-11; Hebbian scores are
ratios of counts and must be equal. A format-2 file written by main loads (converted, with a
warning) and answers as main did."""
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import engine_scenarios as sc
from nuonuo_core import HybridMemory, MemoryConfig
from nuonuo_core.index import SCORE_TOLERANCE

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def recorded():
    return json.loads((FIXTURES / "engine_outputs_main.json").read_text())


def assert_same_recalls(got: dict, want: dict, where: str) -> None:
    for key, w in want.items():
        g = got[key]
        method = key.split("/")[0]
        assert g["best_ids"] == w["best_ids"], (where, key)
        assert g["ids"] == w["ids"], (where, key)
        tol = 1e-6 if method == "hebbian" else SCORE_TOLERANCE
        for part in ("best_scores", "scores"):
            assert np.allclose(g[part], w[part], atol=tol, rtol=0), (where, key, part)
        if method == "hebbian":          # overlap and support: ratios of counts
            assert np.allclose(g["extra"], w["extra"], atol=1e-6, rtol=0), (where, key)
        elif method == "hopfield":       # the settled state's similarity: a float property
            assert np.allclose(g["extra"], w["extra"], atol=2e-3, rtol=0), (where, key)


def assert_same_snapshot(got: dict, want: dict, where: str) -> None:
    assert got["ids"] == want["ids"], where
    assert got["w_nnz"] == want["w_nnz"], where
    assert got["w_sparsity"] == pytest.approx(want["w_sparsity"], abs=1e-12), where
    assert got["w_norm"] == pytest.approx(want["w_norm"], rel=1e-5), where
    assert_same_recalls(got["recalls"], want["recalls"], where)
    assert got["chains"] == want["chains"], where
    assert got["recall_codes"] == want["recall_codes"], where
    assert_same_stored(got, want["stored"], where)


def assert_same_stored(got: dict, want: dict | None, where: str) -> int:
    """Stored-cue probes answer as main did, row by row, except where main's code differs
    from ours only by an exact tie at the k-WTA boundary: units whose activity, summed
    exactly, equals the k-th winner's. Main summed the activity in float32 in cell order, so
    such a tie fell to whichever unit the rounding favoured; ours sums in float64 and gives it
    to the lower unit (the one tie rule). Returns how many rows were such ties."""
    if want is None:
        assert got["stored"] is None, where
        return 0
    g, ties = got["stored"], got["stored_ties"]
    excused = 0
    for i, (gc, wc) in enumerate(zip(g["codes"], want["codes"])):
        if gc == wc:
            assert g["ids"][i] == want["ids"][i], (where, i)
            assert g["scores"][i] == want["scores"][i], (where, i)
            continue
        tie = set(ties[i])
        diff = set(gc) ^ set(wc)
        assert diff <= tie, (where, i, "a code differs outside the k-WTA tie", sorted(diff))
        ours_in_tie = sorted(set(gc) & tie)
        assert ours_in_tie == sorted(tie)[:len(ours_in_tie)], (where, i, "not the lower units")
        excused += 1
    assert len(g["codes"]) == len(want["codes"]), where
    assert excused <= 2, (where, excused)
    return excused


def assert_same_nights(got: list, want: list, where: str) -> None:
    assert len(got) == len(want)
    for g_night, w_night in zip(got, want):
        assert len(g_night) == len(w_night)
        for g, w in zip(g_night, w_night):
            for key in ("night", "epoch", "w_nnz", "replayed", "pruned"):
                assert g[key] == w[key], (where, key, g, w)
            assert g["w_norm"] == pytest.approx(w["w_norm"], rel=1e-5), where
            assert g["w_sparsity"] == pytest.approx(w["w_sparsity"], abs=1e-12), where


@pytest.mark.parametrize("name", ["big", "small"])
def test_scenarios_answer_as_main_did(recorded, name):
    fn = {"big": sc.scenario_big, "small": sc.scenario_small}[name]
    got = json.loads(json.dumps(fn(HybridMemory, MemoryConfig)))
    want = recorded["scenarios"][name]
    for stage in want:
        if stage == "nights":
            assert_same_nights(got[stage], want[stage], f"{name}/{stage}")
        else:
            assert_same_snapshot(got[stage], want[stage], f"{name}/{stage}")


def test_a_format2_file_from_main_loads_converted_and_answers_alike(recorded):
    with pytest.warns(UserWarning, match="format-2 memory file.*Save it to write format 3"):
        mem = HybridMemory.load(FIXTURES / "format2_main.nuonuo")
    assert mem.loaded_format == 2
    # its nights' pruning cut no cell (the recorded nights say pruned 0): its cells are what
    # the contributions sum to, so W is factored now
    assert mem.store.factored
    mem.validate()
    _, q = sc.format2_memory(HybridMemory, MemoryConfig)
    got = json.loads(json.dumps(sc.snapshot(mem, q, [0, 20, 25])))
    assert_same_snapshot(got, recorded["format2"], "format2")
    back = HybridMemory.from_bytes(mem.to_bytes())       # saved as format 3, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = HybridMemory.from_bytes(mem.to_bytes())
    assert back.loaded_format == 3 and np.array_equal(back.w_dense(), mem.w_dense())


def as_format2(mem) -> bytes:
    """The bytes main's engine would have written for ``mem``: float32 cue rows, W as cells,
    no ``w_form``, version 2."""
    from nuonuo_core import persistence
    from nuonuo_core.hebbian import SparseW

    tensors, state = mem.store.state_dict()
    tensors["cue_emb"] = tensors["cue_emb"].float()
    w = mem.store.w
    cells = w if isinstance(w, SparseW) or not mem.store.factored else w.materialize()
    tensors.update(cells.state_dict())
    del state["w_form"]
    body = json.dumps({**state, "config": mem.config.to_dict(),
                       "projection_fingerprint": mem._sep.fingerprint()})
    return persistence.pack(tensors, body, persistence.FORMAT, 2)


@pytest.mark.parametrize("cut", [False, True])
def test_format2_files_load_factored_only_when_no_cell_was_cut(cut):
    """A format-2 file saved W's cells. Cells that are exactly the contributions' sums load
    factored; a W that pruning cut stays cells (factoring it would bring the cut cells
    back). Either way the memory answers as before and says it was converted."""
    x = sc.clustered(60, d=384, seed=3, size=6)
    mem = HybridMemory(MemoryConfig(code_dim=4096, k=16, w_format="sparse", device="cpu"))
    mem.add_vectors(x[:40])
    mem.add_vectors(x[40:59], targets=x[41:60])
    report = mem.consolidate(epochs=2, homeostasis=0.9, prune_threshold=2.0 if cut else 0.0,
                             replay_noise=0.3, seed=1)    # cut: the noisy replays' new cells
    assert (sum(r["pruned"] for r in report) > 0) == cut
    assert mem.store.factored == (not cut)
    with pytest.warns(UserWarning, match="format-2 memory file"):
        back = HybridMemory.from_bytes(as_format2(mem))
    assert back.loaded_format == 2 and back.store.factored == (not cut)
    back.validate()
    q = sc.noisy(x[::3], 0.85, 4)
    for method in ("hopfield", "hebbian", "cosine"):
        a, b = mem.recall_details(q, k=4, method=method), back.recall_details(q, k=4,
                                                                              method=method)
        assert np.array_equal(a.ids, b.ids) and np.allclose(a.scores, b.scores, atol=1e-6)
    assert back.stats()["w_nnz"] == mem.stats()["w_nnz"]
    assert [h for h in back.chain(45)] == [h for h in mem.chain(45)]
