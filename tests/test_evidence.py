"""Evidence with intervals (issue 22): the summariser against known distributions, the
registry and its command lines built from the config dataclasses, every experiment at its
own defaults for every choice of its set-like options (issue 20.17), and the four new
experiments at tiny sizes (their columns, baselines and the property each one rests on)."""
from __future__ import annotations

import argparse
import dataclasses
import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nuonuo_core import Night
from nuonuo_core.experiments import (EXPERIMENTS, field_specs, make_config, run_experiment,
                                     summarize)
from nuonuo_core.experiments.__main__ import build_parser, main
from nuonuo_core.sweep.__main__ import build_parser as sweep_parser

ROOT = Path(__file__).resolve().parents[1]


# --- summarize ---------------------------------------------------------------------------
def test_t_interval_by_hand_and_deterministic_and_one_seed():
    df = pd.DataFrame({"seed": range(5), "m": [1.0, 2.0, 3.0, 4.0, 5.0]})
    s = summarize(df, "m").iloc[0]
    half = 2.7764451 * math.sqrt(2.5) / math.sqrt(5)      # t(0.975, 4) · sd / √n
    assert s.n == 5 and s["mean"] == 3.0 and abs(s.half_width - half) < 1e-6
    assert abs(s.ci_low - (3 - half)) < 1e-6 and s.interval == "t"
    same = summarize(pd.DataFrame({"seed": range(5), "m": [0.7] * 5}), "m").iloc[0]
    assert (same.ci_low, same.ci_high, same.half_width) == (0.7, 0.7, 0.0)
    one = summarize(pd.DataFrame({"seed": [3], "m": [0.5]}), "m").iloc[0]
    assert one.n == 1 and math.isnan(one.half_width)
    with pytest.raises(ValueError, match="seed"):
        summarize(pd.DataFrame({"m": [1.0]}), "m")
    with pytest.raises(ValueError, match="'nope'"):
        summarize(df, "nope")


def test_ci_covers_a_known_mean_95_percent_of_the_time():
    """2000 groups of 5 'seeds' drawn from N(0.6, 0.1²): the t interval must cover 0.6 in
    95 % of groups (binomial sd 0.5 %: the band is 4 sd wide); the bootstrap of 5 values is
    known to be too narrow (about 88 %)."""
    rng = np.random.default_rng(1)
    groups, n = 2000, 5
    df = pd.DataFrame({"g": np.repeat(np.arange(groups), n), "seed": np.tile(np.arange(n),
                                                                             groups),
                       "m": rng.normal(0.6, 0.1, groups * n)})
    t = summarize(df, "m", by="g")
    cover = ((t.ci_low <= 0.6) & (0.6 <= t.ci_high)).mean()
    assert 0.93 <= cover <= 0.97, cover
    b = summarize(df[df.g < 400], "m", by="g", method="bootstrap", n_boot=2000)
    bcover = ((b.ci_low <= 0.6) & (0.6 <= b.ci_high)).mean()
    assert 0.80 <= bcover <= 0.93, bcover
    # several rows of one seed in a group are averaged first: n counts seeds, not rows
    two = pd.concat([df[df.g == 0], df[df.g == 0].assign(m=lambda d: d.m + 1)])
    s = summarize(two, "m").iloc[0]
    assert s.n == 5 and abs(s["mean"] - (df[df.g == 0].m.mean() + 0.5)) < 1e-12


def test_summarize_cli_and_old_k_column(tmp_path, capsys):
    """A result file from before the rename (column ``k``) summarises by ``wta_k`` (and by
    ``k``); a benchmark table (no experiment column) keeps its own ``k`` (a cutoff)."""
    old = tmp_path / "old.csv"
    pd.DataFrame({"experiment": "noise", "k": [20] * 4 + [40] * 4,
                  "seed": [0, 1, 2, 3] * 2, "recall_at_1": [0.9, 1.0, 0.8, 0.9] + [0.5] * 4}
                 ).to_csv(old, index=False)
    for by in ("wta_k", "k"):
        s = summarize(old, "recall_at_1", by=by)
        assert s.columns[0] == "wta_k" and s.wta_k.tolist() == [20, 40]
    assert main(["summarize", str(old), "--metric", "recall_at_1", "--by", "wta_k"]) == 0
    text = capsys.readouterr().out
    assert "Student's t" in text and "wta_k=20" in text and "0.900 ± 0.130 (n 4)" in text
    assert "0.500 (same in all 4 seeds)" in text
    assert main(["summarize", str(old), "--metric", "recall_at_1", "--by", "x"]) == 2
    bench = pd.DataFrame({"k": [1, 5], "seed": [0, 0], "recall": [0.3, 0.6]})
    assert summarize(bench, "recall", by="k").k.tolist() == [1, 5]


# --- the registry and its command lines --------------------------------------------------
def test_field_specs_come_from_resolved_types_not_strings():
    from nuonuo_core.experiments.noise import NoiseConfig
    specs = field_specs(NoiseConfig)
    assert specs["noise_stds"].kind is float and specs["noise_stds"].is_tuple
    assert specs["wta_k"].kind is int and specs["wta_k"].aliases == ("k",)
    assert specs["methods"].choices == ("hopfield", "hebbian", "cosine")
    for exp in EXPERIMENTS.values():          # every field of every config has a real type
        for spec in field_specs(exp.config_cls).values():
            assert spec.kind in (int, float, bool, str), (exp.name, spec.name)

    @dataclasses.dataclass(frozen=True)
    class Odd:
        x: list = dataclasses.field(default_factory=list)
    with pytest.raises(TypeError, match="unsupported type"):
        field_specs(Odd)


def test_both_clis_have_one_option_per_field_with_its_old_names():
    exp_parser, sw_parser = build_parser(), sweep_parser()
    for name, exp in EXPERIMENTS.items():
        for parser in (exp_parser, sw_parser):
            sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
            opts = {o for a in sub.choices[name]._actions for o in a.option_strings}
            for spec in field_specs(exp.config_cls).values():
                assert f"--{spec.name}" in opts and f"--{spec.name.replace('_', '-')}" in opts
                assert all(f"--{a}" in opts for a in spec.aliases)
    ns = exp_parser.parse_args(["noise", "--k", "8", "--noise-stds", "0,0.1"])
    assert (ns.wta_k, ns.noise_stds) == (8, (0.0, 0.1))
    assert main(["noise", "--k", "3", "--wta_k", "4"]) == 2        # one field given twice
    assert main(["noise", "--n_memories", "1_000"]) == 2           # int() would take it
    assert main(["noise", "--methods", "dreaming"]) == 2


def test_registration_decorator_refuses_duplicates_and_bad_presets():
    from nuonuo_core.experiments.registry import experiment
    from nuonuo_core.experiments.spiking import SpikingConfig

    with pytest.raises(ValueError, match="registered twice"):
        experiment("noise", SpikingConfig, title="t", reported="r")(lambda c, s, p: [])
    with pytest.raises(ValueError, match="time_steps"):
        experiment("bad_one", SpikingConfig, title="t", reported="r",
                   presets={"quick": {"time_steps": ()}})(lambda c, s, p: [])
    assert "bad_one" not in EXPERIMENTS


def _choice_values(spec):
    return [(c,) if spec.is_tuple else c for c in spec.choices]


def test_every_experiment_builds_at_its_defaults_for_every_choice():
    """Issue 20.17: each set-like option (a field with choices), at each of its choices, with
    every other field at its default, gives a valid config (combinations of two such options
    too)."""
    checked = 0
    for exp in EXPERIMENTS.values():
        specs = [s for s in field_specs(exp.config_cls).values() if s.choices]
        for spec in specs:
            for value in _choice_values(spec):
                exp.config_cls(**{spec.name: value})
                checked += 1
        for a, b in itertools.combinations(specs, 2):
            for va, vb in itertools.product(_choice_values(a), _choice_values(b)):
                exp.config_cls(**{a.name: va, b.name: vb})
        for preset in exp.presets:
            make_config(exp.name, preset)
    assert checked > 40


def test_pattern_completion_glyphs_runs_at_its_defaults():
    """The case issue 20.17 reported: glyphs at the default grid refused itself ("n_patterns
    must be in [1, 36], got 60"). The grid is now the set's own."""
    df = run_experiment("pattern_completion", pattern_set="glyphs", flip_fraction="0.2",
                        n_units=256, n_probes=5)
    assert df.n_patterns.max() <= 36 and set(df.model) == {"classical", "modern"}
    assert np.allclose(df.m, 2 * df.overlap - 1)        # the two names of overlap agree
    assert make_config("pattern_completion").n_patterns[-1] == 300


def test_night_is_one_dataclass_shared_and_consolidate_takes_it():
    from nuonuo_core.experiments.sleep_common import SleepConfig
    sleep_configs = {exp.config_cls for exp in EXPERIMENTS.values()
                     if issubclass(exp.config_cls, SleepConfig)}
    assert {EXPERIMENTS[n].config_cls for n in ("sleep_basic", "sleep_noisy_replay",
                                                "sleep_multi_night", "sleep_priority",
                                                "sleep_forgetting", "sleep_phase",
                                                "sleep_interference")} == sleep_configs
    night_fields = {f.name for f in dataclasses.fields(Night)}
    for cls in sleep_configs:
        assert issubclass(cls, Night) and night_fields <= set(field_specs(cls))
    cfg = make_config("sleep_phase", homeostasis="0.5,0.9")
    assert cfg.night(homeostasis=0.5, epochs=1, prune_threshold=0.0) == Night(
        epochs=1, homeostasis=0.5, prune_threshold=0.0)
    with pytest.raises(ValueError, match="'bogus'"):
        Night(replay_noise_on="bogus")
    with pytest.raises(ValueError, match="one value"):
        Night(epochs=(1, 2))
    with pytest.raises(ValueError, match="1.5"):
        make_config("sleep_phase", homeostasis="0.5,1.5")


def test_consolidate_with_a_night_equals_keywords_and_code_noise_differs():
    from nuonuo_core.experiments.engine import memory
    from nuonuo_core.experiments.registry import unit_vectors

    def run(**kw):
        mem = memory(embed_dim=32, code_dim=256, k=8, seed=0)
        mem.add_vectors(unit_vectors(20, 32, 0), unit_vectors(20, 32, 1))
        mem.consolidate(seed=0, **kw)
        return mem.w_dense()
    night = Night(epochs=2, homeostasis=0.9, prune_threshold=0.0, replay_noise=0.3)
    a = run(night=night)
    assert np.array_equal(a, run(epochs=2, homeostasis=0.9, prune_threshold=0.0,
                                 replay_noise=0.3))
    b = run(night=dataclasses.replace(night, replay_noise_on="code"))
    assert not np.array_equal(a, b) and abs(a.sum() - b.sum()) < 1e-3   # same total weight
    c = run(night=dataclasses.replace(night, replay_noise_on="code", replay_noise=0.0))
    d = run(night=dataclasses.replace(night, replay_noise=0.0))
    assert np.array_equal(c, d)                    # no noise: the two choices coincide


def test_seed_preset_rows_record_embed_dim_768():
    df = run_experiment("sleep_basic", preset="seed", n_pairs=(20,), epochs=(1,),
                        code_dim=1024)
    assert (df.embed_dim == 768).all() and (df.replay_noise_on == "code").all()
    assert "k" not in df.columns and (df.wta_k == 20).all() and (df.min_score == -1.0).all()


# --- the four new experiments --------------------------------------------------------------
NEW = {
    "single_hop_value": {"n_memories": (200,), "intra_cosine": (0.0, 0.8), "cluster_size": 10,
                         "cue_cosine": (0.9, 0.3, 0.05), "betas": (1.0, 64.0),
                         "n_queries": 40, "code_dim": 1024, "embed_dim": 64},
    "hebbian_capacity": {"code_dims": (256,), "wta_ks": (8,), "n_memories": (20, 400),
                         "n_queries": 30, "embed_dim": 64},
    "modern_capacity": {"n_units": (16,), "n_patterns": (4, 256), "n_probes": 10,
                        "correlation": (0.0, 0.5), "flip_fraction": (0.1,)},
    "sleep_interference": {"code_dim": 256, "n_per_day": 30, "nights": 4, "embed_dim": 64},
}
COLUMNS = {
    "single_hop_value": {"method", "beta", "cue_cosine", "recall_at_1", "seed",
                         "intra_cosine", "n_memories"},
    "hebbian_capacity": {"code_dim", "wta_k", "n_memories", "recall_at_1", "theory", "seed"},
    "modern_capacity": {"model", "n_units", "n_patterns", "flip_fraction", "overlap", "seed",
                        "bound_patterns"},
    "sleep_interference": {"arm", "night", "old_recall_at_1", "new_recall_at_1", "seed",
                           "all_recall_at_1", "updated_recall_at_1"},
}


@pytest.fixture(scope="module")
def new_runs():
    return {name: run_experiment(name, seed=1, **params) for name, params in NEW.items()}


@pytest.mark.parametrize("name", sorted(NEW))
def test_new_experiment_columns_baseline_and_quick_preset(name, new_runs):
    df = new_runs[name]
    assert COLUMNS[name] <= set(df.columns) and (df.seed == 1).all()
    baseline = {"single_hop_value": ("method", "cosine"), "hebbian_capacity": ("method",
                                                                               "cosine"),
                "modern_capacity": ("model", "nearest"), "sleep_interference": ("arm",
                                                                                "no_sleep")}
    col, value = baseline[name]
    assert value in set(df[col])                          # a plain baseline in the records
    assert "quick" in EXPERIMENTS[name].presets
    assert main([name, "--preset", "quick", "--help"]) == 0


def test_single_hop_value_properties(new_runs):
    df = new_runs["single_hop_value"]
    at = df.set_index(["intra_cosine", "cue_cosine", "method", "beta"]).recall_at_1
    for rho in (0.0, 0.8):
        assert at[(rho, 0.9, "cosine", np.nan)] == 1.0
        # at β 64 settling over the top-20 lands on the nearest cue: cosine top-1 again
        assert at[(rho, 0.9, "hopfield", 64.0)] == 1.0
        assert at[(rho, 0.05, "cosine", np.nan)] <= 0.1  # a cue at cos 0.05 is lost
    # β 1 on clustered cues settles to the cluster's mixture: worse than the nearest cue
    assert at[(0.8, 0.9, "hopfield", 1.0)] < 0.5
    assert abs(df[df.intra_cosine == 0.8].measured_intra_cosine.iloc[0] - 0.8) < 0.05
    assert (df.min_score == -1.0).all()
    from nuonuo_core.experiments.single_hop_value import at_cosine
    x = np.eye(4, 16, dtype=np.float32)
    assert np.allclose((at_cosine(x, 0.3, 0) * x).sum(1), 0.3, atol=1e-6)


def test_hebbian_capacity_theory_and_measurement_fall_together(new_runs):
    df = new_runs["hebbian_capacity"]
    heb = df[df.method == "hebbian"].set_index("n_memories")
    assert heb.loc[20, "recall_at_1"] >= 0.95
    assert heb.loc[400, "recall_at_1"] <= heb.loc[20, "recall_at_1"] - 0.5
    assert heb.loc[20, "theory"] > 0.9 and heb.loc[400, "theory"] < heb.loc[20, "theory"]
    assert df[df.method == "cosine"].theory.isna().all()
    from nuonuo_core.experiments.hebbian_capacity import theory
    assert theory(1, 1024, 20, np.array([20])) == 1.0       # nothing to cross-talk with
    assert theory(10**6, 1024, 20, np.array([20])) < 1e-6   # W saturated
    ps = [theory(n, 2048, 20, np.full(5, 12)) for n in (2000, 8000, 16000)]
    assert ps[0] > ps[1] > ps[2]


def test_modern_capacity_settle_equals_the_teaching_code(new_runs):
    from nuonuo_core import patterns as pt
    from nuonuo_core.experiments.modern_capacity import (bound_patterns, make_patterns,
                                                         modern_settle)
    x = make_patterns(40, 16, 0.0, 3)
    probes = pt.corrupt(x[:6], 0.2, 1)
    ref = pt.modern_run(x, probes, 8.0, 20).final
    assert np.array_equal(modern_settle(x, probes, 8.0, 20), ref)
    c = make_patterns(2000, 64, 0.25, 0)
    m = (c @ c.T / 64)[np.triu_indices(2000, 1)].mean()
    assert abs(m - 0.25) < 0.02
    assert abs(bound_patterns(64, 0.1) - math.exp(64 * 0.3681 / 2)) / 1.3e5 < 0.01
    df = new_runs["modern_capacity"]
    small = df[(df.n_patterns == 4) & (df.correlation == 0.0)].set_index("model").overlap
    assert small["modern"] == small["nearest"] == 1.0


def test_sleep_interference_arms(new_runs):
    df = new_runs["sleep_interference"]
    ns = df[df.arm == "no_sleep"]
    assert (ns.homeostasis == 1.0).all() and (ns.prune_threshold == 0.0).all()
    assert (ns.w_nnz.diff().dropna() >= 0).all()               # W only grows
    last = df[df.night == 4].set_index("arm")
    # homeostasis alone makes the newest of two targets of one cue win (recency)
    assert last.loc["homeostasis_only", "updated_recall_at_1"] >= 0.8
    assert last.loc["homeostasis_only", "updated_recall_at_1"] > \
        last.loc["no_sleep", "updated_recall_at_1"]
    assert last.loc["priority_replay", "replay_size"] < last.loc["replay", "replay_size"]
    assert set(df.arm) == {"no_sleep", "homeostasis_only", "replay", "priority_replay"}


# --- docs/results.md ---------------------------------------------------------------------------
def test_results_md_is_rendered_from_the_result_files_with_intervals():
    """docs/results.md is exactly what `make results` renders from docs/results/*.csv (no
    number typed by hand), every result file exists, and at least 70 % of its numeric table
    rows carry an interval over 5 seeds (or say the value is the same in all / deterministic)."""
    import sys
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import results
        import results_render
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    results_render.MISSING.clear()
    text = results_render.render(results.DATA, results.RUNS)
    assert not results_render.MISSING
    for run in results.RUNS:
        df = pd.read_csv(results.DATA / f"{run.name}.csv")
        assert sorted(df.seed.unique()) == list(results.SEEDS), run.name
    assert text == (ROOT / "docs" / "results.md").read_text(encoding="utf-8"), \
        "docs/results.md differs from its result files: run `make results`"
    ok, total = results_render.coverage(text)
    assert total >= 20 and ok / total >= 0.7, (ok, total)


def test_half_point_interpolates_on_a_log_axis_over_seed_means():
    """The capacity findings' 50 % point (docs/results.md and the Findings page share it)."""
    import math

    import pandas as pd

    from nuonuo_core.experiments.summary import half_point
    df = pd.DataFrame({"n_memories": [100, 100, 1000, 1000, 10000],
                       "seed": [0, 1, 0, 1, 0],
                       "recall_at_1": [1.0, 0.8, 0.2, 0.0, 0.0]})   # means 0.9, 0.1, 0.0
    assert half_point(df, "recall_at_1") == pytest.approx(math.sqrt(100 * 1000))
    assert half_point(df.assign(recall_at_1=0.3), "recall_at_1") == 100.0   # starts below
    assert math.isnan(half_point(df.assign(recall_at_1=0.5), "recall_at_1"))  # never below
