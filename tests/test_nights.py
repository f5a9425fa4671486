"""The night player: batched evaluation equals one query at a time, the strict criterion,
the seed's code cosine, readable axes at 35+ nights."""
import numpy as np
import pytest

from lab import charts
from lab.nights import player
from lab.workspace import demos, memory_rows
from nuonuo_core import NO_ABSTENTION, HybridMemory, MemoryConfig, perturb
from nuonuo_core.encoders import HashingEncoder


def rows(n: int, dup: int = 0):
    out = [memory_rows.make_row(f"fact {i} about topic {i % 7}", f"answer {i}",
                       importance=3.0 if i % 5 == 0 else 1.0) for i in range(n)]
    # duplicate cues: the same text stored twice
    return out + [memory_rows.make_row(out[i].cue, f"other answer {i}") for i in range(dup)]


def one_at_a_time(mem, vecs, ids):
    """The slow reference: each cue alone (the single-query path), its own code cosine."""
    hit, cos = [], []
    for v, i in zip(vecs, ids):
        _, got = mem.recall_vectors(v[None], k=1, method="hebbian", min_score=NO_ABSTENTION)
        hit.append(got[0, 0] == i)
        rec, tgt = mem.recall_codes(v[None])[0], mem.codes([i])[1][0]
        live = rec[rec >= 0]
        cos.append(len(set(live) & set(tgt)) / np.sqrt(len(tgt) * len(live)) if len(live)
                   else 0.0)
    return np.array(hit), np.array(cos)


@pytest.mark.parametrize("noise", [0.0, 0.05])
def test_batched_night_equals_one_query_at_a_time(noise):
    enc = HashingEncoder()
    lab = player.NightLab(demos.split_days(rows(30, dup=3), 6), enc, code_dim=2048, k=16)
    p = player.NightParams(homeostasis=0.8, prune_threshold=0.05, probe_noise=noise)
    for _ in range(5):
        lab.step(p)
    ids = np.concatenate([np.asarray(d) for d in lab.day_ids])
    vecs = np.concatenate(lab.cues)
    if noise:
        vecs = perturb(vecs, noise, seed=lab.nights).numpy()
    log = lab.log()
    for run, mem in lab.mems.items():
        hit, cos = one_at_a_time(mem, vecs, ids)
        now = log[(log.night == lab.nights) & (log.run == run)].set_index("id").loc[ids]
        assert now.recalled.tolist() == hit.tolist()
        np.testing.assert_allclose(now.code_cos.to_numpy(), cos, atol=1e-9)
        assert 0 < hit.sum() < len(hit) or run == "without replay"


def test_code_cosine_counts_live_units_only():
    tgt = np.array([[1, 2, 3, 4]])
    assert charts  # (imported for the tick tests below)
    np.testing.assert_allclose(player.code_cosine(np.array([[1, 2, 3, 4]]), tgt), [1.0])
    np.testing.assert_allclose(player.code_cosine(np.array([[1, 2, -1, -1]]), tgt),
                               [2 / np.sqrt(4 * 2)])
    np.testing.assert_allclose(player.code_cosine(np.array([[-1, -1, -1, -1]]), tgt), [0.0])
    np.testing.assert_allclose(player.code_cosine(np.array([[5, 6, 7, 1]]), tgt), [0.25])


def test_pruned_w_survives_nothing_by_either_metric():
    """W pruned to nothing: no false hits (strict survival 0) and code cosine 0."""
    # D = 256: units 0..k-1 (the tie rule's pick on all-zero activity) are in stored codes
    lab = player.NightLab(demos.split_days(rows(12), 4), HashingEncoder(), code_dim=256, k=16)
    for _ in range(3):
        lab.step(player.NightParams(prune_threshold=1e6, epochs=1))
    assert all(m.stats()["w_nnz"] == 0 for m in lab.mems.values())
    assert lab.survival_frame().recall.tolist() == [0.0] * 6
    assert lab.survival_frame("code_cos").code_cos.tolist() == [0.0] * 6
    assert lab.priority_frame().recall.max() == 0.0
    assert not lab.memories_frame()["recalled (with replay)"].any()


def test_frames_carry_the_chosen_metric():
    lab = player.NightLab(demos.split_days(rows(8), 4), HashingEncoder(), code_dim=2048, k=16)
    lab.step(player.NightParams(prune_threshold=0.0))
    assert lab.survival_frame().recall.tolist() == [1.0, 1.0]   # nothing lost after night 1
    assert lab.forgetting_frame("code_cos").code_cos.tolist() == pytest.approx([1.0, 1.0])
    assert "strict" in charts.survival(lab.survival_frame()).layout.yaxis.title.text
    assert "seed" in charts.forgetting(lab.forgetting_frame("code_cos")).layout.yaxis.title.text
    with pytest.raises(ValueError, match="metric"):
        lab.survival_frame("f1")
    table = lab.memories_frame()
    assert table.day.tolist() == [1] * 4 and table["recalled (with replay)"].all()


@pytest.mark.parametrize("n, shown", [(8, list(range(1, 9))), (12, list(range(1, 13))),
                                      (35, [5, 10, 15, 20, 25, 30, 35]),
                                      (120, list(range(10, 121, 10)))])
def test_night_axes_thin_their_ticks(n, shown):
    assert charts.count_ticks(range(1, n + 1)) == shown
    night = np.arange(1, n + 1)
    import pandas as pd
    met = pd.DataFrame({"night": np.repeat(night, 2), "run": list(player.RUNS) * n,
                        "w_norm": 1.0, "w_sparsity": 0.5})
    pri = pd.DataFrame({"night": np.repeat(night, 2), "run": list(player.RUNS) * n,
                        "group": "ordinary", "recall": 0.5})
    sur = pd.DataFrame({"learn_day": np.repeat(night, 2), "run": list(player.RUNS) * n,
                        "recall": 0.5})
    fg = sur.rename(columns={"learn_day": "age"})
    for fig in (charts.priority(pri), charts.survival(sur), charts.forgetting(fg)):
        assert list(fig.layout.xaxis.ticktext) == [str(t) for t in shown]
    fig = charts.night_metrics(met)
    assert list(fig.layout.xaxis.ticktext) == list(fig.layout.xaxis2.ticktext) == \
        [str(t) for t in shown]


def test_recall_stored_matches_recall_vectors():
    enc = HashingEncoder()
    mem = HybridMemory(MemoryConfig(code_dim=2048, k=16, device="cpu"), encoder=enc)
    data = rows(20, dup=2)
    ids = memory_rows.add_rows(mem, data)
    s_ref, got_ref = mem.recall_vectors(enc([r.cue for r in data]), k=3, method="hebbian")
    s, got, codes = mem.recall_stored(ids, k=3)
    assert got.tolist() == got_ref.tolist() and np.allclose(s, s_ref)
    assert codes.tolist() == mem.recall_codes(enc([r.cue for r in data])).tolist()
