"""Stage-1 search over float16 cue rows: the CPU path (faiss's float16 scan, exact re-rank,
certificate) and the torch path (CUDA's code, run here on the CPU) both equal a brute-force
reference: exact scores of the stored float16 rows (summed in float64), best first, ties to
the lower row; long runs of equal rows (more than the tie window) fall back to the exact
scan."""
import numpy as np
import pytest
import torch

from nuonuo_core.index import SCORE_TOLERANCE, CueIndex
from conftest import unit_rows


def torch_path_index(dim: int) -> CueIndex:
    """A CueIndex that answers through its torch (CUDA) path on the CPU."""
    idx = CueIndex(dim, torch.device("cpu"))
    idx._flat = None
    idx._buf = torch.zeros(0, dim, dtype=torch.float16)
    return idx


def brute(rows16: np.ndarray, q: np.ndarray, k: int):
    ex = (rows16.astype(np.float64) @ q.astype(np.float64).T).T.astype(np.float32)  # (m, n)
    order = np.stack([np.lexsort((np.arange(ex.shape[1]), -e))[:k] for e in ex])
    return np.take_along_axis(ex, order, 1), order


@pytest.mark.parametrize("path", ["cpu", "torch"])
def test_search_equals_the_brute_force_reference(path):
    d = 48
    x = unit_rows(600, d=d, seed=5)
    x[100:260] = x[7]                # 161 equal rows: more than k + the tie window
    x[300], x[301] = x[20], x[20]
    idx = CueIndex(d, torch.device("cpu")) if path == "cpu" else torch_path_index(d)
    idx.add(torch.from_numpy(x[:350]))
    idx.add(torch.from_numpy(x[350:]))            # grows in place
    q = np.concatenate([x[[7, 20, 33]], unit_rows(5, d=d, seed=6)]).astype(np.float32)
    rows16 = idx.emb16().numpy()
    assert np.abs(rows16.astype(np.float32) - x).max() <= 2.0 ** -11
    for k in (1, 5, 60, 599):
        s, r = idx.search(torch.from_numpy(q), k)
        ws, wr = brute(rows16, q, k)
        assert np.array_equal(r.numpy(), wr), (path, k)
        assert np.array_equal(s.numpy(), ws), (path, k)
    assert r[0, :5].tolist() == [7, 100, 101, 102, 103]     # the tie goes to the lower rows
    s, r = idx.search(torch.from_numpy(q), 700)              # past the end: -inf / -1
    assert (r[:, 600:] == -1).all() and torch.isinf(s[:, 600:]).all()
    keep = torch.ones(600, dtype=torch.bool)
    keep[::3] = False
    idx.keep(keep)
    assert np.array_equal(idx.emb16().numpy(), rows16[keep.numpy()])
    s, r = idx.search(torch.from_numpy(q), 10)
    ws, wr = brute(rows16[keep.numpy()], q, 10)
    assert np.array_equal(r.numpy(), wr) and np.array_equal(s.numpy(), ws)
    assert np.allclose(s.numpy(), brute(x[keep.numpy()], q, 10)[0], atol=SCORE_TOLERANCE)
