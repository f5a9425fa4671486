"""ops.topk_set (k-WTA's winners: block maxima first, then the k best blocks) gives exactly
the set that sorting ops.topk_stable's indices gives, on wide rows with ties, NaN and
infinities at every place, with and without ``ties_above``, and on every shape it hands
back to topk_stable."""
import pytest
import torch

from nuonuo_core.fastpath import kwta_active_np, kwta_indices_np
from nuonuo_core.functional import kwta_active
from nuonuo_core.ops import SET_BLOCK, active_first, topk_set, topk_stable


def _reference(x, k, ties_above=None):
    return torch.sort(topk_stable(x, k, ties_above)[1], dim=1).values


def _wide_cases():
    g = torch.Generator().manual_seed(1)
    for trial in range(400):
        m = int(torch.randint(2, 9, (1,), generator=g))
        k = int(torch.randint(1, 25, (1,), generator=g))
        nb = 4 * (k + 1) + int(torch.randint(0, 40, (1,), generator=g))
        n = nb * SET_BLOCK
        kind = trial % 9
        x = torch.randn(m, n, generator=g)
        if kind == 1:                               # many ties everywhere
            x = torch.randint(0, 6, (m, n), generator=g).float()
        elif kind == 2:                             # a tie exactly at the k-th block maximum
            x = -torch.rand(m, n, generator=g)
            for r in range(m):
                blocks = torch.randperm(nb, generator=g)[:k + 1]
                x[r, blocks * SET_BLOCK + 3] = 5.0
        elif kind == 3:                             # a tie at the k-th entry inside blocks
            x = -torch.rand(m, n, generator=g)
            b = int(torch.randint(0, nb, (1,), generator=g))
            x[:, b * SET_BLOCK:b * SET_BLOCK + k + 1] = 2.0
        elif kind == 4:                             # NaN, +inf, -inf
            x[x > 2.5] = float("nan")
            x[x < -2.8] = -float("inf")
            x[(x > 2.0) & (x < 2.05)] = float("inf")
        elif kind == 5:                             # silent units (k-WTA after W: zeros)
            x = torch.relu(x) * (torch.rand(m, n, generator=g) < 0.002)
        elif kind == 6:                             # all winners in one block
            x = -torch.rand(m, n, generator=g)
            x[:, SET_BLOCK:SET_BLOCK + k] = 1 + torch.rand(m, k, generator=g)
        elif kind == 7:                             # largest allowed values
            x = torch.full((m, n), 3.4e38)
            x[:, ::7] = -3.4e38
        elif kind == 8:     # distinct block maxima, a tie at the k-th entry across two blocks
            x = -torch.rand(m, n, generator=g)
            for r in range(m):
                blocks = torch.randperm(nb, generator=g)[:k]
                x[r, blocks * SET_BLOCK + torch.randint(0, SET_BLOCK, (k,), generator=g)] = \
                    10.0 + torch.arange(k).float()
                other = int(blocks[-1]) if k > 1 else int(blocks[0])
                spot = other * SET_BLOCK + int(torch.randint(0, SET_BLOCK, (1,), generator=g))
                if x[r, spot] < 0:
                    x[r, spot] = 10.0                  # ties the k-th (the smallest maximum)
        yield x, k


def test_topk_set_equals_sorted_topk_stable_on_wide_rows():
    fallback = 0
    for x, k in _wide_cases():
        for ties_above in (None, 0.0):
            got = topk_set(x, k, ties_above)
            want = _reference(x, k, ties_above)
            if ties_above is None:
                assert torch.equal(got, want), (x, k)
            else:   # ties among values <= 0 are unresolved in both: compare the active units
                keep = x.gather(1, want) > 0
                assert torch.equal(torch.where(x.gather(1, got) > 0, got, -1).sort(1).values,
                                   torch.where(keep, want, -1).sort(1).values)
        want = _reference(x, k).numpy()
        for i in range(x.shape[0]):                  # the one-query numpy path
            assert (kwta_indices_np(x[i].numpy(), k) == want[i]).all(), (x[i], k)
        head = torch.sort(torch.nan_to_num(x, nan=float("inf")), 1, descending=True).values
        fallback += int((head[:, k - 1] == head[:, k]).sum())
    assert fallback > 50                             # the redo path ran


def _active_reference(x, k):
    idx = topk_stable(x, k, 0.0)[1]
    return active_first(idx.masked_fill(x.gather(1, idx) <= 0, -1))


def test_kwta_active_equals_the_masked_stable_top_k_on_wide_rows():
    g = torch.Generator().manual_seed(4)
    for x, k in _wide_cases():
        assert torch.equal(kwta_active(x, k), _active_reference(x, k)), (x, k)
        sparse = torch.relu(x) * (torch.rand(x.shape, generator=g) < 0.004)   # W's activity
        sparse[0] = 0.0
        if k > 1:
            sparse[1, :SET_BLOCK * (k - 1)] = 0.0
            sparse[1, 3:3 + k + 1] = 1.5                 # more than k active, ties, one block
        assert torch.equal(kwta_active(sparse, k), _active_reference(sparse, k)), (sparse, k)
        steps = torch.randint(0, 3, x.shape, generator=g).float()   # lr multiples: many ties
        assert torch.equal(kwta_active(steps, k), _active_reference(steps, k)), (steps, k)
        for rows in (x, sparse, steps):          # the one-query numpy path, row by row
            want = _active_reference(rows, k).numpy()
            for i in range(rows.shape[0]):
                assert (kwta_active_np(rows[i].numpy(), k) == want[i]).all(), (rows[i], k)


def test_topk_set_kwta_codes_of_a_projection():
    g = torch.Generator().manual_seed(0)
    x = torch.nn.functional.normalize(torch.randn(300, 384, generator=g), dim=1)
    p = torch.randn(16384, 384, generator=g) / 384 ** 0.5
    h = x @ p.T
    assert torch.equal(topk_set(h, 20), _reference(h, 20))
    assert topk_set(h, 20).dtype == torch.long


@pytest.mark.parametrize("shape,k", [((1, 16384), 20), ((5, 1000), 20), ((5, 64 * 83), 20),
                                     ((4, 64 * 84), 20), ((3, 128), 127), ((2, 64 * 8), 1)])
def test_topk_set_other_shapes(shape, k):
    g = torch.Generator().manual_seed(2)
    x = torch.randint(0, 9, shape, generator=g).float()
    assert torch.equal(topk_set(x, k), _reference(x, k))
    assert torch.equal(kwta_active(x - 4, k), _active_reference(x - 4, k))
    x = x.double()
    assert torch.equal(topk_set(x, k), _reference(x, k))
    assert torch.equal(kwta_active(x - 4, k), _active_reference(x - 4, k))


def test_topk_set_non_contiguous_rows():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(16384, 6, generator=g).T          # a transposed view
    assert torch.equal(topk_set(x, 20), _reference(x.contiguous(), 20))
