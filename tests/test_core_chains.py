"""Chains that end where their links end (issue 17): ``chain`` stops before the first hop whose
memory has no stored link from the previous one (its W support from the previous memory's
target code is below ``chain_min_support``) and before the first memory it revisits."""
import json
from pathlib import Path

import numpy as np
import pytest

from nuonuo_core import ChainResult, Hop, HybridMemory, MemoryConfig
from conftest import unit_rows

CPU = dict(device="cpu")
ROOT = Path(__file__).resolve().parents[1]


def stored_paths(rows):
    """{cue: the cues of the memories a chain from it should visit}: follow target == cue."""
    by_cue = {r["cue"]: r for r in rows}
    out = {}
    for r in rows:
        path, cur = [], r
        while cur is not None and cur["cue"] not in path:
            path.append(cur["cue"])
            cur = by_cue.get(cur.get("target") or "")
        out[r["cue"]] = path
    return out


def build(rows, encoder):
    mem = HybridMemory(MemoryConfig(**CPU), encoder=encoder)
    linked = [r for r in rows if r.get("target")]
    own = [r for r in rows if not r.get("target")]
    ids = mem.add([r["cue"] for r in linked], targets=[r["target"] for r in linked])
    if own:
        ids += mem.add([r["cue"] for r in own])
    return mem, {i: r["cue"] for i, r in zip(ids, linked + own)}


def walk(mem, cue_of, hops=12, **kw):
    out = {}
    for i, cue in cue_of.items():
        res = mem.chain_details(i, hops=hops, **kw)
        out[cue] = ([cue_of[h.memory_id] for h in res.hops], res)
    return out


def test_every_shipped_chain_equals_its_stored_path(minilm):
    rows = json.loads((ROOT / "assets" / "demo_chains.json").read_text())
    mem, cue_of = build(rows, minilm)
    want = stored_paths(rows)
    for cue, (got, res) in walk(mem, cue_of).items():
        assert got == want[cue], (cue, got, res)
        assert len(set(got)) == len(got)
        assert all(h.support == 1.0 and h.cosine >= 0.99 for h in res.hops), res
        assert res.stop in ("nothing", "no_link") and res.refused is None or \
            res.refused.support < 0.5
    # the runs: "golden coin" repeated at 0.5, "oak tree" into "morning alarm" at 0.55
    assert walk(mem, cue_of)["red key"][1].refused.cosine == pytest.approx(0.5)
    assert walk(mem, cue_of)["seed"][1].stop == "no_link"
    old = walk(mem, cue_of, min_support=0.0, allow_revisits=True)  # the rule before
    assert sum(got != want[c] for c, (got, _) in old.items()) >= 9


CROSSTALK = """Alice, Bob's boss, the Berlin office, the river Spree
Bob, Alice's boss, the Berlin zoo, the river Thames
the red car, the car park, the park bench, the bench press
the red apple, the apple pie, the pie chart, the chart room
the old boat, the boat house, the house key
the old house, the house party"""


def test_chains_sharing_words_follow_only_their_own_links(minilm):
    rows = []
    for line in CROSSTALK.splitlines():
        items = [p.strip() for p in line.split(",")]
        rows += [{"cue": a, "target": b} for a, b in zip(items, items[1:])]
    rows += [{"cue": "Lena is my sister"}, {"cue": "Bob's boss is kind"}]  # self-targets
    mem, cue_of = build(rows, minilm)
    want = stored_paths(rows)
    for cue, (got, res) in walk(mem, cue_of).items():
        assert got == want[cue], (cue, got, res.stop, res.refused)
    # self-targets: one hop, then the same memory again, refused as a revisit
    res = walk(mem, cue_of)["Lena is my sister"][1]
    assert res.stop == "revisit" and res.refused.support == 1.0


def _chain_memory(n_unrelated=200, seed=0):
    mem = HybridMemory(MemoryConfig(**CPU))
    mem.add_vectors(unit_rows(n_unrelated, seed=seed + 50))  # unrelated memories share W
    return mem


def test_a_stored_cycle_stops_at_its_first_revisit():
    x = unit_rows(3, seed=1)
    mem = _chain_memory()
    ids = mem.add_vectors(x, targets=np.roll(x, -1, axis=0))  # A→B, B→C, C→A
    res = mem.chain_details(ids[0], hops=8)
    assert [h.memory_id for h in res.hops] == ids and res.stop == "revisit"
    assert res.refused == Hop(ids[0], 1.0, 1.0) and isinstance(res, ChainResult)
    assert mem.chain(ids[0], hops=8) == res.hops
    old = [h.memory_id for h in mem.chain(ids[0], hops=8, allow_revisits=True)]
    assert old == (ids * 3)[:8]  # what chain did before: loop for ever
    assert [h.memory_id for h in mem.chain(ids[0], hops=2)] == ids[:2]  # hops still bound it


def _mix(a, b, w):
    v = (1 - w) * a + w * b
    return (v / np.linalg.norm(v)).astype(np.float32)


@pytest.mark.parametrize("w", [0.4, 0.5])
def test_cross_talk_at_the_end_of_a_chain_is_not_a_link(w):
    """A→B→C→D stored; memory X's cue is *near* D (shares 7 or 2 of D's 20 code units) but
    no memory's cue is D: after C the chain must stop, not walk into X (the rule before did,
    at a decoded overlap of 0.95-1.0)."""
    v = unit_rows(6, seed=2)
    mem = _chain_memory()
    ids = mem.add_vectors(v[:3], targets=v[1:4])  # A→B, B→C, C→D
    x_id = mem.add_vectors(_mix(v[3], v[5], w)[None], targets=v[4:5])[0]  # X ≈ D → E
    res = mem.chain_details(ids[0], hops=6)
    assert [h.memory_id for h in res.hops] == ids
    assert res.stop == "no_link" and res.refused.memory_id == x_id
    assert res.refused.cosine >= 0.5 and res.refused.support < 0.5  # passed min_overlap
    old = mem.chain(ids[0], hops=6, min_support=0.0, allow_revisits=True)
    assert [h.memory_id for h in old][:4] == ids + [x_id]  # the rule before walked on
    assert mem.chain(ids[0], hops=6, min_support=res.refused.support)[3].memory_id == x_id


def test_a_cue_that_nearly_is_the_last_target_still_links():
    """X's cue shares 14 of D's 20 units (a close paraphrase of D): support 0.7, a link."""
    v = unit_rows(6, seed=2)
    mem = _chain_memory()
    ids = mem.add_vectors(v[:3], targets=v[1:4])
    x_id = mem.add_vectors(_mix(v[3], v[5], 0.2)[None], targets=v[4:5])[0]
    hops = mem.chain(ids[0], hops=6)
    assert [h.memory_id for h in hops] == ids + [x_id] and hops[3].support == 0.7


@pytest.mark.parametrize("w,stop", [(0.4, "no_link"), (0.12, "revisit")])
def test_the_last_memory_is_not_repeated(w, stop):
    """"golden coin" repeated: the last target D is near the last cue C, so W·code(D) comes
    back to memory C→D. Weakly near: refused for want of a link; strongly near (support over
    0.5): refused as a revisit."""
    v = unit_rows(4, seed=3)
    mem = _chain_memory()
    d = _mix(v[2], v[3], w)
    ids = mem.add_vectors(v[:3], targets=np.stack([v[1], v[2], d]))  # A→B, B→C, C→D≈C
    res = mem.chain_details(ids[0], hops=6)
    assert [h.memory_id for h in res.hops] == ids
    assert res.stop == stop and res.refused.memory_id == ids[2], res
    old = [h.memory_id for h in mem.chain(ids[0], hops=6, min_support=0.0,
                                          allow_revisits=True)]
    assert old[:4] == ids + [ids[2]]  # the rule before repeated it


def reference_support(mem, start_id, hops):
    """Each hop's support from the definition: the share of the k × k block of dense W between
    the previous memory's stored target code (the start's cue code first) and this one's."""
    W, k = mem.w_dense(), mem.config.k
    prev = mem.codes([start_id])[0][0]
    out = []
    for h in hops:
        target = mem.codes([h.memory_id])[1][0]
        out.append((W[np.ix_(target, prev)] > 0).sum() / k**2)
        prev = target
    return out


def test_dense_and_sparse_w_stop_alike_and_hops_report_support():
    v = unit_rows(8, seed=4)
    out = {}
    for fmt in ("sparse", "dense"):
        mem = HybridMemory(MemoryConfig(code_dim=2048, k=16, w_format=fmt, **CPU))
        mem.add_vectors(unit_rows(300, seed=60), targets=unit_rows(300, seed=61))
        ids = mem.add_vectors(v[:5], targets=v[1:6])
        mem.add_vectors(_mix(v[5], v[7], 0.5)[None], targets=v[6:7])  # cross-talk: X
        mem.add_vectors(v[6:7], targets=unit_rows(1, seed=5))  # a stored link out of X
        mem.consolidate(epochs=1, replay_noise=0.3, homeostasis=0.9, prune_threshold=0.5)
        res = mem.chain_details(ids[0], hops=9, min_support=0.0, allow_revisits=True)
        out[fmt] = (res.hops, res.stop, res.refused)
        assert [h.memory_id for h in res.hops][:5] == ids
        assert np.allclose([h.support for h in res.hops],
                           reference_support(mem, ids[0], res.hops)), res
        assert min(h.support for h in res.hops) < 0.5  # it walked past the end
        strict = mem.chain_details(ids[0], hops=9)
        assert [h.memory_id for h in strict.hops] == ids and strict.stop == "no_link"
    assert out["sparse"] == out["dense"]
