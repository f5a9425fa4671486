import torch

from nuonuo_core.functional import kwta_indices
from nuonuo_core.hebbian import DenseW, SparseW


def _codes(n, dim, k, seed):
    return kwta_indices(torch.randn(n, dim, generator=torch.Generator().manual_seed(seed)), k)


def test_sparse_store_equals_dense_store_through_every_operation():
    dim, k = 128, 6
    sparse, dense = SparseW(dim), DenseW(dim)
    t, c = _codes(40, dim, k, 0), _codes(40, dim, k, 1)
    w = torch.rand(40, generator=torch.Generator().manual_seed(2)) + 0.1
    for store in (sparse, dense):
        store.add(t, c, w)
        store.add(t[:10], c[:10], 0.5)            # repeated cells accumulate
        store.scale(0.9)
        store.prune(0.3)
        store.add(t[5:8], c[5:8], -w[5:8])        # subtraction, clamped at zero
    assert torch.allclose(sparse.to_dense(), dense.to_dense(), atol=1e-6)
    q = _codes(7, dim, k, 3)
    assert torch.allclose(sparse.column_sums(q), dense.column_sums(q), atol=1e-5)
    s, d = sparse.stats(), dense.stats()
    assert s["w_nnz"] == d["w_nnz"] and abs(s["w_norm"] - d["w_norm"]) < 1e-4
    assert s["w_sparsity"] == d["w_sparsity"]


def test_sparse_store_matches_outer_product_reference():
    dim, k = 64, 4
    t, c = _codes(5, dim, k, 4), _codes(5, dim, k, 5)
    ref = torch.zeros(dim, dim)
    for i in range(5):
        ref[t[i][:, None], c[i][None, :]] += 1.0
    store = SparseW(dim)
    store.add(t, c, 1.0)
    assert torch.equal(store.to_dense(), ref)
    assert torch.equal(store.column_sums(c[:1])[0], ref[:, c[0]].sum(1))


def test_state_round_trip_and_keys_sorted():
    store = SparseW(256)
    store.add(_codes(30, 256, 5, 6), _codes(30, 256, 5, 7), 1.0)
    assert bool((store.keys[1:] > store.keys[:-1]).all())
    other = SparseW(256)
    other.load_state(store.state_dict())
    assert torch.equal(other.to_dense(), store.to_dense())
    dense = DenseW(256)
    dense.load_state(store.state_dict())
    assert torch.equal(dense.to_dense(), store.to_dense())
