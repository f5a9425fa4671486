"""k-WTA tie-breaks done in O(D) equal the stable-sort reference, duplicates and all-zero rows
included; kwta_active gives the same live winners and -1 for the rest."""
import torch

from nuonuo_core.fastpath import kwta_active_np, kwta_indices_np
from nuonuo_core.functional import kwta_active, kwta_indices


def reference(x, k):
    return torch.sort(torch.sort(x, dim=1, descending=True, stable=True).indices[:, :k],
                      dim=1).values


def cases():
    g = torch.Generator().manual_seed(1)
    for t in range(400):
        dim = int(torch.randint(2, 120, (1,), generator=g))
        k = int(torch.randint(1, dim + 1, (1,), generator=g))
        x = torch.randint(-2, 3, (6, dim), generator=g).float()      # many ties
        if t % 4 == 0:
            x[:] = 0                                                  # all-zero activity
        elif t % 4 == 1:
            x = torch.rand(6, dim, generator=g) - 0.7                 # few live units
        yield x, k


def test_kwta_indices_ties_equal_the_stable_sort():
    for x, k in cases():
        assert torch.equal(kwta_indices(x, k), reference(x, k)), (x, k)
        if k < x.shape[1]:
            for row, want in zip(x, reference(x, k)):
                assert kwta_indices_np(row.numpy(), k).tolist() == want.tolist(), (row, k)
    assert kwta_indices(torch.zeros(2, 16384), 20).tolist() == [list(range(20))] * 2


def test_kwta_active_keeps_the_live_winners():
    for x, k in cases():
        ref = reference(x, k)
        live = ref.masked_fill(x.gather(1, ref) <= 0, -1)
        got = kwta_active(x, k)
        for a, b in zip(live.tolist(), got.tolist()):
            alive = sorted(v for v in a if v >= 0)
            assert sorted(v for v in b if v >= 0) == alive, (a, b)
            assert b.count(-1) == k - len(alive), (a, b)
        for row, b in zip(x, got.tolist()):          # the one-query path: the same array
            assert kwta_active_np(row.numpy(), k).tolist() == b, (row, k)
    assert kwta_active(torch.zeros(1, 50), 5).tolist() == [[-1] * 5]


def test_topk_stable_batch_equals_the_stable_sort_in_both_tie_paths():
    """Short tie runs resolve inside the window of k + TIE_WINDOW candidates, long ones (more
    equal entries than the window holds) in O(n); both must equal the stable sort, values
    and order, with NaN never ranking."""
    from nuonuo_core.ops import TIE_WINDOW, topk_stable

    g = torch.Generator().manual_seed(7)
    seen = {"window": 0, "long": 0}
    for t in range(300):
        dim = int(torch.randint(2, 600, (1,), generator=g))
        k = int(torch.randint(1, min(dim, 80) + 1, (1,), generator=g))
        span = [2, 5, 40, 1000][t % 4]            # few distinct values -> long tie runs
        x = torch.randint(0, span, (5, dim), generator=g).float()
        if t % 7 == 0:
            x[1, ::3] = float("nan")
        v, i = topk_stable(x, k)
        clean = torch.nan_to_num(x, nan=-float("inf"))
        ref_v, ref_i = torch.sort(clean, dim=1, descending=True, stable=True)
        assert torch.equal(i, ref_i[:, :k]), (t, dim, k)
        assert torch.equal(v, ref_v[:, :k]), (t, dim, k)
        kth = ref_v[:, k - 1]
        ties = (clean == kth[:, None]).sum(1)
        w = min(dim, k + TIE_WINDOW)
        inside = ((clean > kth[:, None]).sum(1) + ties) <= w
        seen["window"] += int((inside & (ties > 1)).sum())
        seen["long"] += int((~inside).sum())
    assert seen["window"] > 50 and seen["long"] > 50, seen    # both paths were exercised


def test_topk_stable_ties_above_leaves_only_dead_ties_unresolved():
    from nuonuo_core.ops import topk_stable

    x = torch.tensor([[0.0] * 10 + [2.0, 1.0, 1.0, 0.0, 1.0],
                      [0.0] * 15])
    v, i = topk_stable(x, 4, ties_above=0.0)
    assert i[0, :3].tolist() == [10, 11, 12] and v[0, 3] == 1.0 and i[0, 3] == 14
    assert v[1].tolist() == [0.0] * 4                    # which zeros: not specified


def test_kwta_active_few_active_units_come_first_then_minus_one():
    x = torch.zeros(3, 16384)
    x[0, [900, 5, 16000]] = torch.tensor([0.5, 2.0, 0.5])
    x[1, :30] = torch.arange(30).float() + 1
    x[2, 7] = -1.0
    got = kwta_active(x, 20)
    assert got[0].tolist() == [5, 900, 16000] + [-1] * 17
    assert got[1].tolist() == list(range(10, 30))
    assert got[2].tolist() == [-1] * 20
    for bad in (0, 16385):
        try:
            kwta_active(x, bad)
        except ValueError as exc:
            assert str(bad) in str(exc)
        else:
            raise AssertionError(bad)
