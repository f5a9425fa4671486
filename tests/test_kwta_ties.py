"""k-WTA tie-breaks done in O(D) equal the stable-sort reference, duplicates and all-zero rows
included; kwta_active gives the same live winners and -1 for the rest."""
import torch

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
    assert kwta_active(torch.zeros(1, 50), 5).tolist() == [[-1] * 5]
