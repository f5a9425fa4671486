"""Pattern completion kernels: classical and modern Hopfield, the hybrid path, naming, sets."""
from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import pytest

from nuonuo_core import pattern_sets as ps
from nuonuo_core import patterns as pt
from nuonuo_core.experiments import make_config
from nuonuo_core.experiments.__main__ import main
from nuonuo_core.pattern_hybrid import HybridPatterns


def random_pm1(m: int, n: int, seed: int) -> np.ndarray:
    return ps.random_set(m, n, seed).patterns


# --- classical ---------------------------------------------------------------------------
def test_hebbian_weights_match_the_outer_product_sum():
    x = random_pm1(5, 40, 1)
    want = sum(np.outer(v, v) for v in x) / 40.0
    np.fill_diagonal(want, 0.0)
    np.testing.assert_allclose(pt.hebbian_weights(x), want, atol=1e-6)


def slow_async(w, s, order):
    """Reference: one unit at a time, field recomputed from scratch."""
    s = s.copy()
    for p in range(s.shape[0]):
        for i in order[p]:
            h = w[i] @ s[p]
            s[p, i] = 1.0 if h > 0 else (-1.0 if h < 0 else s[p, i])
    return s


@pytest.mark.parametrize("n_patterns", [3, 12, 40])   # below, near and far above capacity
def test_energy_never_rises_under_single_unit_updates(n_patterns):
    n = 64
    w = pt.hebbian_weights(random_pm1(n_patterns, n, 2))
    rng = np.random.default_rng(3)
    s = np.where(rng.random((6, n)) < 0.5, -1.0, 1.0).astype(np.float32)
    energies = [pt.classical_energy(w, s)]
    total_flips = 0
    for _ in range(4):
        order = np.argsort(rng.random((6, n)), axis=1)
        want = slow_async(w, s, order)
        h = s @ w
        total_flips += int(pt.async_sweep(w, s, h, order,
                                          on_update=lambda st: energies.append(
                                              pt.classical_energy(w, st))).sum())
        np.testing.assert_array_equal(s, want)            # same as the slow reference
        np.testing.assert_allclose(h, s @ w, atol=1e-4)   # the field stayed current
    e = np.array(energies)
    assert len(e) == 1 + 4 * 6 * n
    assert np.all(np.diff(e, axis=0) <= 1e-5), np.diff(e, axis=0).max()
    assert total_flips > 10 and e[-1].sum() < e[0].sum() - 1.0


def test_stored_patterns_are_fixed_points_below_capacity_not_above():
    x = random_pm1(300, 1024, 0)
    for p, lo, hi in [(20, 0.0, 0.0), (300, 0.02, 0.045)]:
        w = pt.hebbian_weights(x[:p])
        unstable = np.mean(pt.pm1_sign(x[:p] @ w) != x[:p])
        # theory: P(bit unstable) = Φ(-sqrt(N/P)): 1e-13 at P=20, 0.032 at P=300
        assert lo <= unstable <= hi, (p, unstable)
    w = pt.hebbian_weights(x[:20])
    for update in pt.UPDATES:
        run = pt.classical_run(w, x[:20], update, max_steps=5, seed=1)
        np.testing.assert_array_equal(run.final, x[:20])
        assert run.steps.tolist() == [0] * 20 and len(run.states) == 2


def test_classical_run_completes_and_rejects_bad_input():
    x = random_pm1(20, 1024, 0)
    probes = pt.corrupt(x, 0.2, seed=4)
    run = pt.classical_run(pt.hebbian_weights(x), probes, "async", 10, seed=0)
    np.testing.assert_array_equal(run.final, x)
    assert np.all(np.diff(np.array(run.energy), axis=0) <= 1e-4)
    with pytest.raises(ValueError, match="'parallel'"):
        pt.classical_run(pt.hebbian_weights(x), probes, "parallel")
    with pytest.raises(ValueError, match="-1 and \\+1"):
        pt.classical_run(pt.hebbian_weights(x), probes * 0.5)


def test_corrupt_flips_exactly_and_occludes_the_bottom_half():
    x = random_pm1(7, 1024, 0)
    c = pt.corrupt(x, 0.3, seed=5)
    assert ((c != x).sum(axis=1) == round(0.3 * 1024)).all()
    np.testing.assert_array_equal(c, pt.corrupt(x, 0.3, seed=5))
    assert not np.array_equal(c, pt.corrupt(x, 0.3, seed=6))
    occ = pt.corrupt(x, 0.0, seed=5, occlude=True, shape=(32, 32))
    assert (occ[:, 512:] == -1).all() and np.array_equal(occ[:, :512], x[:, :512])
    with pytest.raises(ValueError, match="1.5"):
        pt.corrupt(x, 1.5, seed=0)


# --- modern --------------------------------------------------------------------------------
def test_modern_with_large_beta_is_nearest_neighbour_search():
    x = random_pm1(50, 256, 7)
    probes = pt.corrupt(x[np.arange(40) % 50], 0.45, seed=8)
    probes[20:] = random_pm1(20, 256, 9)                  # and probes near no pattern
    scores = probes @ x.T
    top2 = np.sort(scores, axis=1)[:, -2:]
    clear = top2[:, 1] > top2[:, 0]                       # skip exact ties
    assert clear.sum() >= 25
    nn = np.argmax(scores, axis=1)
    run = pt.modern_run(x, probes, beta=1e4, max_steps=1)
    np.testing.assert_array_equal(run.final[clear], x[nn[clear]])
    np.testing.assert_array_equal(pt.nearest(x, probes), nn)
    # a small beta averages: the result is no longer the nearest stored pattern
    soft = pt.modern_run(x, probes[20:], beta=0.5, max_steps=1)
    assert np.mean(np.all(soft.final == x[nn[20:]], axis=1)) < 0.5


def test_modern_energy_falls_and_recalls_far_above_classical_capacity():
    x = random_pm1(300, 1024, 0)
    probes = pt.corrupt(x[:10], 0.1, seed=1)
    run = pt.modern_run(x, probes, beta=64.0)
    np.testing.assert_array_equal(run.final, x[:10])
    e = np.array(run.energy)
    assert np.all(np.diff(e, axis=0) <= 1e-5) and (e[-1] < e[0]).all()
    with pytest.raises(ValueError, match="inf"):
        pt.modern_run(x, probes, beta=float("inf"))


# --- naming --------------------------------------------------------------------------------
def test_naming_patterns_inversions_mixtures_and_spurious_states():
    x = random_pm1(20, 1024, 0)
    mix = pt.pm1_sign(x[3] + x[7] + x[9])
    name = pt.name_state(mix, x)
    assert name.kind == "mixture" and sorted(name.members) == [3, 7, 9]
    assert name.signs == (1, 1, 1) and name.fit == 1.0
    assert re.fullmatch(r"a mixture of patterns \d, \d and \d", name.text)
    assert {"3", "7", "9"} == set(re.findall(r"\d", name.text))
    signed = pt.name_state(pt.pm1_sign(x[3] - x[7] + x[9]), x)
    assert dict(zip(signed.members, signed.signs)) == {3: 1, 7: -1, 9: 1}
    assert "inverted 7" in signed.text
    five = pt.name_state(pt.pm1_sign(x[1] + x[2] + x[4] + x[5] + x[6]), x)
    assert five.kind == "mixture" and set(five.members) == {1, 2, 4, 5, 6}
    assert pt.name_state(-x[5], x).text == "inverted pattern 5"
    near = pt.corrupt(x[5:6], 0.01, seed=0)[0]
    assert pt.name_state(near, x).text == "pattern 5"
    assert pt.name_state(pt.corrupt(x[5:6], 0.1, seed=0)[0], x).kind == "spurious"
    spur = pt.name_state(random_pm1(1, 1024, 99)[0], x)
    assert spur.kind == "spurious" and spur.text.startswith("a spurious state (nearest: ")
    assert pt.name_state(np.zeros(1024), x).kind == "none"
    assert pt.name_state(x[2], x, labels=list("ABCDEFGHIJKLMNOPQRST")).text == "pattern C"


# --- sets ----------------------------------------------------------------------------------
def test_glyphs_are_distinct_inked_letters_and_digits():
    for n_units, min_diff in [(1024, 20), (256, 2), (4096, 80)]:
        g = ps.glyph_set(36, n_units)
        assert g.patterns.shape == (36, n_units) and g.labels[0] == "A" and g.labels[-1] == "9"
        diff = (g.patterns[:, None] != g.patterns[None]).sum(-1)
        np.fill_diagonal(diff, n_units)
        assert diff.min() >= min_diff, (n_units, diff.min())
        ink = (g.patterns > 0).mean(axis=1)
        assert ink.min() > 0.03 and ink.max() < 0.5
    for bad in (1000, 64, 8100):
        with pytest.raises(ValueError, match=str(bad)):
            ps.glyph_set(5, bad)
    with pytest.raises(ValueError, match="37"):
        ps.glyph_set(37, 1024)


def test_random_set_is_seeded_nested_and_balanced():
    a, b = ps.random_set(300, 1024, 0), ps.random_set(20, 1024, 0)
    np.testing.assert_array_equal(a.patterns[:20], b.patterns)
    assert a.shape == (32, 32) and ps.grid_shape(1000) == (25, 40)
    assert abs(a.patterns.mean()) < 0.01
    assert not np.array_equal(ps.random_set(20, 1024, 1).patterns, b.patterns)


def png(img) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def test_image_pattern_thresholds_and_refuses_hostile_files():
    from PIL import Image, ImageDraw
    img = Image.new("RGB", (64, 64), "white")
    ImageDraw.Draw(img).rectangle((0, 0, 31, 31), fill="black")
    pat = ps.image_pattern(png(img), 32).reshape(32, 32)
    assert (pat[:16, :16] == 1).all() and (pat[16:, :] == -1).all()
    with pytest.raises(ValueError, match="3000×10"):
        ps.image_pattern(png(Image.new("L", (3000, 10))))
    with pytest.raises(ValueError, match="one flat colour"):
        ps.image_pattern(png(Image.new("L", (20, 20), 128)))
    with pytest.raises(ValueError, match="not a readable image"):
        ps.image_pattern(b"not a png at all")
    with pytest.raises(ValueError, match="2,097,153 bytes"):
        ps.image_pattern(b"\0" * (ps.MAX_IMAGE_BYTES + 1))


# --- hybrid --------------------------------------------------------------------------------
def test_hybrid_recalls_stored_patterns_and_its_energy_is_the_hebbian_one():
    x = random_pm1(12, 256, 0)
    hyb = HybridPatterns(x, code_dim=512, k=8, seed=3)
    np.testing.assert_array_equal(np.sort(hyb.probe_codes(x), 1), np.sort(hyb.codes, 1))
    run = hyb.run(x, max_steps=2)
    np.testing.assert_array_equal(run.final, x)
    assert (run.extra["recalled"][-1] == np.arange(12)).all()
    w = hyb.memory.w_dense()                       # E = -½ cᵀ W c with the engine's own W
    codes = run.extra["codes"][1]
    dense = np.zeros((12, 512))
    np.put_along_axis(dense, codes, 1.0, axis=1)
    np.testing.assert_allclose(run.energy[1], -0.5 * np.einsum("md,de,me->m", dense, w, dense))
    # a tie between two stored codes, or no shared unit, recalls nothing (-1), not index 0
    assert hyb.decode(np.full((1, 8), -1)).tolist() == [-1]
    tie = np.concatenate([hyb.codes[0][:4], hyb.codes[1][:4]])[None]
    if len(set(tie[0])) == 8 and hyb.shared_units(tie).max() == 4:
        assert hyb.decode(tie).tolist() == [-1]


# --- experiment and CLI -----------------------------------------------------------------------
def test_acceptance_command(tmp_path, capsys):
    out = tmp_path / "f.csv"
    rc = main(["pattern_completion", "--pattern_set", "random", "--n_units", "1024",
               "--n_patterns", "20,300", "--flip_fraction", "0.1",
               "--models", "classical,modern", "--n_probes", "8", "--out", str(out)])
    assert rc == 0
    df = pd.read_csv(out)
    assert {"model", "pattern_set", "n_units", "n_patterns", "flip_fraction",
            "overlap"} <= set(df.columns)
    ov = df.set_index(["model", "n_patterns"])["overlap"]
    assert ov["classical", 20] >= 0.98 and ov["classical", 300] <= 0.9
    assert ov["modern", 300] >= 0.98
    assert (df.n_probes == 8).all() and (df["update"] == "async").all()


def test_glyph_set_runs_with_every_model(capsys):
    rc = main(["pattern_completion", "--pattern_set", "glyphs", "--n_patterns", "3,36",
               "--flip_fraction", "0.3", "--models", "classical,modern,hybrid",
               "--n_probes", "4", "--max_steps", "5"])
    assert rc == 0
    text = capsys.readouterr().out
    assert text.count("glyphs") == 6 and "hybrid" in text


@pytest.mark.parametrize("params, quoted", [
    ({"pattern_set": "faces"}, "'faces'"), ({"models": "quantum"}, "'quantum'"),
    ({"pattern_set": "glyphs", "n_patterns": "5,37"}, "37"),
    ({"pattern_set": "glyphs", "n_units": 1000}, "1000"), ({"n_units": 5000}, "5000"),
    ({"update": "parallel"}, "'parallel'"), ({"flip_fraction": "0.1,1.2"}, "1.2"),
])
def test_bad_pattern_completion_values_are_quoted(params, quoted):
    with pytest.raises(ValueError, match=re.escape(quoted)):
        make_config("pattern_completion", **params)
