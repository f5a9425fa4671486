"""ops.topk_stable's quick pass (the k + 1 largest, rows with a tie or a NaN among them redone
in the window) gives exactly what the window alone gives: values, indices, order, ties to
the lower index, with and without ``ties_above``."""
import torch

from nuonuo_core.ops import _topk_window, topk_stable


def _cases():
    g = torch.Generator().manual_seed(0)
    for trial in range(600):
        m = int(torch.randint(2, 7, (1,), generator=g))
        n = int(torch.randint(2, 120, (1,), generator=g))
        k = int(torch.randint(1, n + 1, (1,), generator=g))
        kind = trial % 5
        if kind == 0:
            x = torch.randn(m, n, generator=g)
        elif kind == 1:                         # many ties, all >= 0
            x = torch.randint(0, 4, (m, n), generator=g).float()
        elif kind == 2:                         # ties around 0
            x = torch.randint(-2, 3, (m, n), generator=g).float()
        elif kind == 3:                         # NaN, +inf, -inf
            x = torch.randn(m, n, generator=g)
            x[x > 1.5] = float("nan")
            x[x < -1.8] = -float("inf")
            x[(x > 1.2) & (x < 1.3)] = float("inf")
        else:                                   # half the row silent (k-WTA's case)
            x = torch.randn(m, n, generator=g)
            x[:, :n // 2] = 0.0
        yield x, k


def test_quick_pass_equals_window():
    tied_rows = 0
    for x, k in _cases():
        for ties_above in (None, 0.0):
            v, i = topk_stable(x, k, ties_above)
            v0, i0 = _topk_window(x, k, ties_above)
            assert torch.equal(i, i0), (x, k, ties_above)
            assert torch.allclose(v, v0, equal_nan=True)
        head = torch.sort(x, dim=1, descending=True).values[:, :k + 1]
        tied_rows += int((head[:, 1:] == head[:, :-1]).any(1).sum())
    assert tied_rows > 100          # the redo path ran


def test_quick_pass_ties_to_lower_index():
    x = torch.tensor([[0.0, 3.0, 1.0, 3.0, 2.0, 3.0], [5.0, 4.0, 3.0, 2.0, 1.0, 0.0]])
    v, i = topk_stable(x, 2)
    assert i.tolist() == [[1, 3], [0, 1]]
    assert v.tolist() == [[3.0, 3.0], [5.0, 4.0]]
