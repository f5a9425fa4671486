import numpy as np
import pytest
import torch

from nuonuo_core import (hebbian_update, hopfield_energy, hopfield_settle, kwta, kwta_indices,
                         noise_for_cosine, normalize, perturb)


def test_kwta_has_exactly_k_winners_and_they_are_the_largest():
    x = torch.randn(50, 1000, generator=torch.Generator().manual_seed(0))
    code = kwta(x, 20)
    assert torch.all(code.sum(1) == 20)
    assert set(code.unique().tolist()) == {0.0, 1.0}
    kth = torch.topk(x, 20, dim=1).values[:, -1:]
    assert torch.all(x[code.bool()].view(50, 20) >= kth)


def test_kwta_breaks_ties_towards_lower_indices():
    x = torch.zeros(3, 100)
    x[1, 50:] = 1.0  # 50 tied winners for 5 places
    idx = kwta_indices(x, 5)
    assert idx[0].tolist() == [0, 1, 2, 3, 4]
    assert idx[1].tolist() == [50, 51, 52, 53, 54]
    assert torch.equal(kwta_indices(x, 5), idx)


def test_kwta_rejects_bad_k():
    with pytest.raises(ValueError, match="k must be in \\[1, 10\\], got 11"):
        kwta(torch.zeros(2, 10), 11)


def test_perturb_same_seed_same_noise_and_expected_cosine():
    x = normalize(torch.randn(200, 384, generator=torch.Generator().manual_seed(1)))
    sigma = noise_for_cosine(0.5, 384)
    a, b = perturb(x, sigma, seed=7), perturb(x, sigma, seed=7)
    assert torch.equal(a, b)
    assert not torch.equal(a, perturb(x, sigma, seed=8))
    cos = (a * x).sum(1)
    assert abs(float(cos.mean()) - 0.5) < 0.03
    assert torch.allclose(a.norm(dim=1), torch.ones(200), atol=1e-5)
    with pytest.raises(ValueError, match="noise_std must be a finite number >= 0, got -0.1"):
        perturb(x, -0.1)


def test_hopfield_settles_noisy_query_to_stored_pattern_and_energy_falls():
    X = normalize(torch.randn(1, 20, 64, generator=torch.Generator().manual_seed(2)))
    q = perturb(X[:, 3], noise_for_cosine(0.6, 64), seed=1)
    res = hopfield_settle(q, X, beta=16.0, max_steps=20, trace=True)
    final = normalize(res.state)
    assert float((final * X[0, 3]).sum()) > 0.99
    assert int(res.attention[-1][0].argmax()) == 3
    energy = torch.stack(res.energy)[:, 0]
    assert torch.all(energy[1:] <= energy[:-1] + 1e-5)  # settling never raises the energy
    assert float(hopfield_energy(res.state, X, 16.0)) == pytest.approx(float(energy[-1]))


def test_hopfield_low_beta_gives_superposition():
    X = normalize(torch.randn(1, 10, 64, generator=torch.Generator().manual_seed(3)))
    res = hopfield_settle(X[:, 0], X, beta=0.1)
    assert float(res.attention[-1].max()) < 0.2  # nearly uniform: a mixture, not one memory


def test_hebbian_update_is_sum_of_outer_products():
    t = kwta(torch.randn(3, 16, generator=torch.Generator().manual_seed(4)), 2)
    c = kwta(torch.randn(3, 16, generator=torch.Generator().manual_seed(5)), 2)
    W = hebbian_update(torch.zeros(16, 16), t, c, lr=0.5)
    ref = sum(0.5 * np.outer(t[i], c[i]) for i in range(3))
    assert np.allclose(W.numpy(), ref)
