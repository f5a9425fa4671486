"""The Sweep page's pure parts and the Findings page: intervals and colours of the lines, the
owner's saved last sweep (bounded, hostile input), recall on the visitor's own memories,
headlines computed from records, and the Findings page as a visitor clicks it."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import t as student
from streamlit.testing.v1 import AppTest

from conftest import unit_rows
from lab import charts as lab_charts
from lab.patterns import charts as pattern_charts
from lab.sweep import charts, findings, own, saved
from lab.workspace import files
from nuonuo_core import HybridMemory, MemoryConfig
from nuonuo_core.experiments import EXPERIMENTS, summarize
from nuonuo_core.experiments.__main__ import main as experiments_main

ROOT = Path(__file__).resolve().parents[1]


def ref(values) -> tuple[float, float]:
    v = np.asarray(values, float)
    if np.all(v == v[0]):
        return float(v.mean()), 0.0
    return float(v.mean()), float(student.ppf(0.975, len(v) - 1) * v.std(ddof=1) /
                                  np.sqrt(len(v)))


def records(seeds=(0, 1, 2, 3)) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = []
    for s in seeds:
        for d in (4096, 16384):
            for ns in (0.0, 0.05, 0.1):
                for m in ("hopfield", "hebbian", "cosine"):
                    base = {"hopfield": 0.97, "hebbian": 0.9 - 4 * ns, "cosine": 0.98}[m]
                    rows.append({"noise_std": ns, "code_dim": d, "method": m, "seed": s,
                                 "recall_at_1": float(np.clip(base - 0.02 * d / 16384 +
                                                              rng.normal(0, 0.03), 0, 1))})
    return pd.DataFrame(rows)


# --- charts -------------------------------------------------------------------------------------
def test_lines_one_trace_per_method_and_second_parameter_with_textbook_intervals():
    df = records()
    s = charts.summary(df, ["noise_std", "code_dim", "method"], "recall_at_1")
    fig = charts.lines(s, "noise_std", "recall_at_1", "method", "code_dim")
    assert [t.name for t in fig.data] == [f"{m} · code_dim {d:,}" for m in
                                          ("hopfield", "hebbian", "cosine")
                                          for d in (4096, 16384)]
    xs_seen = []
    for tr in fig.data:
        method, dim = tr.name.split(" · code_dim ")
        dim = int(dim.replace(",", ""))
        base = lab_charts.METHOD_COLORS[method]
        assert tr.line.color == (base if dim == 16384 else lab_charts.shade(base, -0.55))
        assert tr.line.dash == ("solid" if dim == 16384 else "dash")
        xs = [float(c[0]) for c in tr.customdata]
        assert xs == [0.0, 0.05, 0.1]
        xs_seen.append(tuple(tr.x))
        for j, ns in enumerate(xs):
            part = df[(df.method == method) & (df.code_dim == dim) & (df.noise_std == ns)]
            mean, half = ref(part.recall_at_1)
            assert tr.y[j] == pytest.approx(mean)
            assert tr.error_y.array[j] == pytest.approx(min(half, 1 - mean))
            assert tr.error_y.arrayminus[j] == pytest.approx(min(half, mean))
            assert tr.customdata[j][2] == "4"
    assert len(set(xs_seen)) == len(xs_seen)          # equal points are pulled apart
    spread = np.ptp([x[1] for x in xs_seen])
    assert 0 < spread <= 0.5 * 0.05 + 1e-12             # never past half the gap


def test_lines_bootstrap_one_seed_and_no_family_value():
    df = records()
    b = charts.summary(df, ["noise_std", "method"], "recall_at_1", method="bootstrap")
    t = charts.summary(df, ["noise_std", "method"], "recall_at_1")
    assert (b["interval"] == "bootstrap").all() and (t["interval"] == "t").all()
    assert (b["half_width"] < t["half_width"]).mean() > 0.8      # 4 seeds: bootstrap is narrow
    one = charts.summary(df[df.seed == 0], ["noise_std", "method"], "recall_at_1")
    fig = charts.lines(one, "noise_std", "recall_at_1", "method")
    assert all(list(tr.error_y.array) == [0.0] * 3 for tr in fig.data)
    assert "none (one seed)" in fig.data[0].customdata[0][1]
    assert "no interval" in charts.interval_text("t", 1)
    # a colour value without the family (cosine has no beta) is one plain line
    mixed = df.assign(beta=np.where(df.method == "hopfield", df.code_dim / 1024, np.nan))
    s = charts.summary(mixed, ["noise_std", "method", "beta"], "recall_at_1")
    names = [tr.name for tr in charts.lines(s, "noise_std", "recall_at_1", "method", "beta",
                                            family_label="β").data]
    assert names == ["hopfield · β 4", "hopfield · β 16", "hebbian", "cosine"]


def test_series_colours_are_the_labs_everywhere():
    for name, colour in lab_charts.METHOD_COLORS.items():
        assert lab_charts.series_color(name) == colour
    for model, colour in pattern_charts.MODEL_COLORS.items():     # the pattern page's models
        assert lab_charts.series_color(model) == colour
    assert lab_charts.series_color("no_sleep") == lab_charts.REPLAY_COLORS["without replay"]
    others = {lab_charts.series_color(f"unknown{i}", i) for i in range(4)}
    assert len(others) == 4 and not others & set(lab_charts.METHOD_COLORS.values())
    assert lab_charts.shade("#4C78A8", 0) == "#4C78A8"
    assert lab_charts.shade("#4C78A8", -1) == "#ffffff"
    assert lab_charts.shade("#4C78A8", 1) == "#000000"
    styles = charts.family_styles("#4C78A8", 3)
    assert len({s["color"] for s in styles}) == 3 and styles[-1]["color"] == "#4C78A8"
    assert len({s["dash"] for s in styles}) == 3


def test_summarize_groups_by_method_without_a_clash():
    s = summarize(records(), "recall_at_1", by=["method", "noise_std"])
    assert s.columns.tolist()[:2] == ["method", "noise_std"] and "interval" in s.columns
    assert s.columns.tolist().count("method") == 1
    with pytest.raises(ValueError, match="cannot group by"):
        summarize(records().assign(n=1), "recall_at_1", by="n")


def test_summarize_cli_by_method(tmp_path, capsys):
    out = tmp_path / "r.csv"
    records().to_csv(out, index=False)
    assert experiments_main(["summarize", str(out), "--metric", "recall_at_1",
                             "--by", "method,noise_std"]) == 0
    assert "method=hebbian, noise_std=0.1" in capsys.readouterr().out


# --- the registry's data lines ----------------------------------------------------------------
def test_every_experiment_says_what_data_it_runs_on(capsys):
    for name, exp in EXPERIMENTS.items():
        assert len(exp.data) > 30, name
        assert "  " not in exp.data and "\n" not in exp.data
    assert "unit Gaussian" in EXPERIMENTS["noise"].data
    assert "clustered" in EXPERIMENTS["single_hop_value"].data
    assert "letters" in EXPERIMENTS["pattern_completion"].data
    assert "hand-written" in EXPERIMENTS["paraphrase"].data
    assert experiments_main(["list"]) == 0
    assert capsys.readouterr().out.count("data: ") == len(EXPERIMENTS)


# --- the owner's last sweep -------------------------------------------------------------------
ENTRY = {"settings": {"experiment": "noise", "vary": {"code_dim": "256,512"},
                      "fixed": {"n_memories": "60"}, "seeds": "0,1,2", "backend": "local",
                      "workers": 1},
         "chart": {"metric": "recall_at_1", "x": "noise_std", "colour": "method",
                   "show": ["hopfield"], "view": "lines", "interval": "t"},
         "grid": ["noise", "--code_dim", "256,512"], "complete": True}


def test_saved_round_trip_keeps_both_kinds_private_and_atomic(tmp_path):
    base = tmp_path / "ws"
    a, b = files.new_owner(), files.new_owner()
    df = records()
    saved.save(a, "generated", {**ENTRY, "records": saved.records_text(df)}, base=base)
    got, problems = saved.load(a, base=base)
    assert problems == [] and got["source"] == "generated"
    assert got["generated"]["settings"] == ENTRY["settings"]
    pd.testing.assert_frame_equal(saved.records(got["generated"]), df)
    ws = {"settings": {"noise_stds": "0,0.1", "seeds": "0,1,2", "n_queries": 5,
                       "methods": ["hopfield"]}, "chart": {}, "workspace": "mine",
          "memories": 3, "records": ""}
    saved.save(a, "workspace", ws, base=base)
    got, _ = saved.load(a, base=base)
    assert got["source"] == "workspace" and set(got) == {"source", "generated", "workspace"}
    assert saved.records(got["workspace"]) is None          # none kept: says so, no crash
    assert saved.load(b, base=base) == ({}, [])            # another owner: nothing
    assert saved.path(a, base).parent.name == a
    assert not [p for p in saved.path(a, base).parent.iterdir() if "tmp" in p.name]
    with pytest.raises(ValueError):
        saved.path("../" + a, base)
    with pytest.raises(ValueError):
        saved.save(a, "other", ws, base=base)


def test_saved_two_tabs_saving_both_kinds_at_once_lose_neither(tmp_path):
    """Two tabs of one owner save the two kinds at once: once a save returns, its entry
    stays in the file until that tab saves again (the other tab's read-modify-write never
    puts back an older copy of it)."""
    import threading
    base, owner = tmp_path / "ws", files.new_owner()
    ws = {"settings": {"noise_stds": "0", "seeds": "0", "n_queries": 1, "methods": []},
          "records": ""}
    start = threading.Barrier(2)
    lost: list = []

    def tab(kind: str, entry: dict) -> None:
        start.wait()
        for i in range(40):
            saved.save(owner, kind, {**entry, "saved_at": float(i)}, base=base)
            got, _ = saved.load(owner, base=base)
            if got.get(kind, {}).get("saved_at") != float(i):
                lost.append((kind, i))
    threads = [threading.Thread(target=tab, args=("generated", {**ENTRY, "records": ""})),
               threading.Thread(target=tab, args=("workspace", ws))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got, problems = saved.load(owner, base=base)
    assert problems == [] and lost == []
    assert got["generated"]["saved_at"] == got["workspace"]["saved_at"] == 39.0


@pytest.mark.parametrize("damage, problem", [
    (lambda d: d | {"generated": {**d["generated"], "settings": {"experiment": 5}}},
     "generated sweep was dropped"),
    (lambda d: d | {"generated": {**d["generated"], "evil": 1}}, "unknown fields"),
    (lambda d: d | {"generated": {**d["generated"], "grid": ["x" * 5000]}}, "at most 4000"),
    (lambda d: d | {"generated": {**d["generated"],
                                  "settings": {**ENTRY["settings"], "workers": True}}},
     "whole number"),
    (lambda d: d | {"version": 2}, "could not be read"),
    (lambda d: [d], "could not be read"),
])
def test_saved_file_is_read_as_hostile_input(tmp_path, damage, problem):
    base, owner = tmp_path / "ws", files.new_owner()
    saved.save(owner, "generated", {**ENTRY, "records": ""}, base=base)
    p = saved.path(owner, base)
    p.write_text(json.dumps(damage(json.loads(p.read_text()))))
    got, problems = saved.load(owner, base=base)
    assert "generated" not in got and any(problem in x for x in problems), problems


def test_saved_file_bounds(tmp_path, monkeypatch):
    base, owner = tmp_path / "ws", files.new_owner()
    p = saved.path(owner, base)
    p.parent.mkdir(parents=True)
    p.write_text("[" * 100_000 + "]" * 100_000)                 # deep nesting
    assert "could not be read" in saved.load(owner, base=base)[1][0]
    p.write_bytes(b"\xff\xfe")                                  # not text
    assert "could not be read" in saved.load(owner, base=base)[1][0]
    monkeypatch.setattr(saved, "MAX_FILE_BYTES", 1000)
    p.write_text(json.dumps({"version": 1, "pad": "x" * 2000}))
    assert "larger than" in saved.load(owner, base=base)[1][0]
    big = pd.DataFrame({"seed": range(saved.MAX_ROWS + 1), "m": 0.5})
    assert saved.records_text(big) == ""                          # too many rows: not kept
    monkeypatch.setattr(saved, "MAX_RECORD_BYTES", 100)
    assert saved.records_text(records()) == ""
    assert saved.records({"records": "seed,m\n" + "1,2\n" * 3}) is not None
    assert saved.records({"records": "no seed column\n1\n"}) is None


# --- the visitor's own memories -------------------------------------------------------------------
@pytest.mark.parametrize("noise, methods, seeds, nq, message", [
    ("0,0.1," + ",".join(str(0.01 * i) for i in range(2, 9)), ["hopfield"], "0", 1,
     "at most 8"),
    ("0,1.5", ["hopfield"], "0", 1, "[0, 1]"),
    ("0,0", ["hopfield"], "0", 1, "given twice"),
    ("0,,0.1", ["hopfield"], "0", 1, "empty value"),
    ("0,abc", ["hopfield"], "0", 1, "'abc'"),
    ("0", [], "0", 1, "non-empty"),
    ("0", ["dreaming"], "0", 1, "dreaming"),
    ("0", ["hopfield"], "-1", 1, "seed"),
    ("0", ["hopfield"], ",".join(map(str, range(11))), 1, "at most 10"),
    ("0", ["hopfield"], "0", 501, "[1, 500]"),
    ("0", ["hopfield"], "0", 0, "[1, 500]"),
    ("0,0.1,0.2,0.3,0.4,0.5,0.6,0.7", ["hopfield"], "0,1,2,3,4,5,6,7,8,9", 500, "20,000"),
])
def test_own_run_form_is_bounded(noise, methods, seeds, nq, message):
    with pytest.raises(ValueError) as exc:
        own.parse(noise, methods, seeds, nq)
    assert message in str(exc.value)


def test_own_run_largest_allowed_values_pass():
    cfg = own.parse("0,0.1,0.2,0.3,0.4,0.5,0.6,1", list(own.METHODS), "0,1,2,3,4", 500)
    assert len(cfg.noise_stds) == 8 and cfg.n_queries == 500 and len(cfg.seeds) == 5
    assert cfg.methods == own.METHODS


def vector_memory(cues: np.ndarray) -> HybridMemory:
    mem = HybridMemory(MemoryConfig(code_dim=1024, k=20, device="cpu"), encoder=None)
    mem.add_vectors(cues, unit_rows(len(cues), cues.shape[1], 99))
    return mem


def state_of(mem: HybridMemory):
    tensors, st = mem.store.state_dict()
    return json.dumps(st, sort_keys=True, default=str), str(mem.config), \
        {k: v.cpu().numpy().tobytes() for k, v in tensors.items()}


def test_own_run_measures_recall_of_the_workspace_and_never_changes_it():
    cues = unit_rows(20, 384, 1)
    cues = np.vstack([cues, cues[:2]])                 # two look-alikes: cues stored twice
    mem = vector_memory(cues)
    before = state_of(mem)
    cfg = own.parse("0,0.25", list(own.METHODS), "0,1,2", 500)
    df = own.run(mem, cfg)
    assert state_of(mem) == before
    assert len(df) == 3 * 2 * 3 and set(df.seed) == {0, 1, 2}
    clean = df[df.noise_std == 0]
    assert np.allclose(clean.recall_at_1, 20 / 22)          # one of each look-alike pair lost
    assert (clean.cue_cosine == 1.0).all() and (df.n_queries == 22).all()
    noisy = df[df.noise_std == 0.25]
    assert noisy.cue_cosine.between(0.15, 0.25).all()            # 1/√(1 + 0.25²·384) = 0.2
    heb = noisy[noisy.method == "hebbian"].recall_at_1
    cos = noisy[noisy.method == "cosine"].recall_at_1
    assert heb.max() < 0.5 < cos.min() and (cos.to_numpy() > heb.to_numpy() + 0.3).all()
    # the same noise for every method of a (seed, σ), and a fresh one per seed
    assert noisy.groupby("seed").cue_cosine.nunique().eq(1).all()
    assert noisy.cue_cosine.nunique() == 3


def test_own_run_samples_per_seed_and_refuses_an_empty_workspace():
    mem = vector_memory(unit_rows(30, 384, 2))
    df = own.run(mem, own.parse("0", ["cosine"], "0,1", 10))
    assert (df.n_queries == 10).all() and (df.recall_at_1 == 1.0).all()
    empty = HybridMemory(MemoryConfig(code_dim=1024, k=20, device="cpu"), encoder=None)
    with pytest.raises(ValueError, match="no memories"):
        own.run(empty, own.parse("0", ["cosine"], "0", 10))


def test_cue_vectors_are_the_primary_stored_cues():
    cues = unit_rows(5, 384, 5)
    mem = vector_memory(cues)
    ids = mem.ids()
    # the rows are stored as float16 (issue 19): each entry within 2^-11 of the cue's
    f16 = 2.0 ** -11
    assert np.allclose(mem.cue_vectors(ids), cues, atol=f16, rtol=0)
    assert np.array_equal(mem.cue_vectors(ids), cues.astype(np.float16).astype(np.float32))
    assert np.allclose(mem.cue_vectors([ids[3], ids[1]]), cues[[3, 1]], atol=f16, rtol=0)
    mem.remove([ids[0]])
    assert np.allclose(mem.cue_vectors(mem.ids()), cues[1:], atol=f16, rtol=0)
    with pytest.raises((KeyError, ValueError)):
        mem.cue_vectors([12345])


# --- findings -------------------------------------------------------------------------------------
def single_hop(lead: float) -> pd.DataFrame:
    """Records where Hopfield β 16 leads cosine by ``lead`` ± a known spread in one cell."""
    rows = []
    noise = [0.01, -0.01, 0.02, -0.02, 0.0]
    for s, e in enumerate(noise):
        for cc in (0.9, 0.5):
            for rho in (0.0, 0.8):
                base = 0.6
                rows.append({"n_memories": 1000, "intra_cosine": rho, "cue_cosine": cc,
                             "method": "cosine", "beta": np.nan, "recall_at_1": base,
                             "seed": s})
                gain = lead + e if (cc, rho) == (0.5, 0.8) else -0.3
                rows.append({"n_memories": 1000, "intra_cosine": rho, "cue_cosine": cc,
                             "method": "hopfield", "beta": 16.0,
                             "recall_at_1": base + gain, "seed": s})
                rows.append({"n_memories": 1000, "intra_cosine": rho, "cue_cosine": cc,
                             "method": "hebbian", "beta": np.nan, "recall_at_1": 0.1,
                             "seed": s})
    return pd.DataFrame(rows)


def test_single_hop_headline_is_computed_from_the_records():
    half = ref([0.01, -0.01, 0.02, -0.02, 0.0])[1]
    head = findings.headline("single_hop_value", single_hop(0.1))
    assert head.startswith("Two-stage Hopfield beats flat cosine top-1 beyond its 95 % CI "
                           "in 1 of 4 cells")
    assert f"+10.0 ± {100 * half:.1f} points" in head
    assert "cue cosine 0.5, 1,000 clustered (intra-cluster cosine 0.8)" in head
    assert "loses by up to 30.0 ± 0.0 points" in head
    head = findings.headline("single_hop_value", single_hop(0.01))   # inside its interval
    assert head.startswith("In none of the 4 cells") and f"+1.0 ± {100 * half:.1f}" in head


def test_committed_findings_agree_with_docs_results():
    """The page's headlines and docs/results.md are computed from the same files: the
    numbers they share must be equal."""
    md = (ROOT / "docs" / "results.md").read_text(encoding="utf-8")
    heb = findings.headline("hebbian_capacity", findings.load("hebbian_capacity"))
    numbers = re.findall(r"(\d[\d,]* ± \d[\d,]*) \(D", heb)
    assert len(numbers) == 3
    for number in numbers:
        assert f"{number.replace(',', '')} stored pairs" in md, number
    mod = findings.headline("modern_capacity", findings.load("modern_capacity"))
    diff = re.search(r"difference ([+-][\d.]+ ± [\d.]+)", mod).group(1)
    assert f"difference over all cells {diff}" in md
    si = findings.headline("sleep_interference", findings.load("sleep_interference"))
    assert "no sleep keeps 5 ± 2 % of the newest day" in si     # docs: "no sleep 5 ± 2 %"
    assert "newest day's recall no sleep 5 ± 2 %" in md


def test_findings_figures_have_intervals_for_every_panel():
    for f in findings.FINDINGS:
        df = findings.load(f.name)
        assert df is not None and df.seed.nunique() == 5, f.name
        for c in f.controls:
            for value in findings.options(df, c):
                choice = {k.column: k.default for k in f.controls} | {c.column: value}
                fig, s = findings.figure(f.name, df, choice)
                assert len(fig.data) >= 3, (f.name, choice)
                assert (s["n"] == 5).all()
                lines = [tr for tr in fig.data if tr.showlegend is not False]   # no marks
                assert len(lines) >= 3 and all(tr.error_y.visible for tr in lines)
                assert any(np.nanmax(tr.error_y.arrayminus) > 0 for tr in lines)


def test_findings_missing_file(tmp_path):
    assert findings.load("modern_capacity", tmp_path) is None


def test_findings_page_in_a_session(tmp_path, monkeypatch):
    monkeypatch.setenv("NUONUO_SWEEPS", str(tmp_path / "sweeps"))
    at = AppTest.from_file(str(ROOT / "pages" / "12_Findings.py"), default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [h.value for h in at.subheader] == [f"{i} · {f.title}" for i, f in
                                               enumerate(findings.FINDINGS, start=1)]
    heads = [m.value for m in at.markdown if m.value.startswith("**Finding.**")]
    assert len(heads) == 4 and all("±" in h or "%" in h for h in heads)
    charts_before = [json.loads(c.proto.spec)["data"] for c in at.get("plotly_chart")]
    assert len(charts_before) == 4
    at.selectbox(key="fd_modern_capacity_n_units_committed").set_value(128).run()
    at.selectbox(key="fd_sleep_interference_metric_committed").set_value(
        "old_recall_at_1").run()
    assert not at.exception
    after = [json.loads(c.proto.spec)["data"] for c in at.get("plotly_chart")]
    assert after[0] == charts_before[0] and after[2] != charts_before[2]
    assert after[3] != charts_before[3]
    assert sum("95 % confidence interval" in c.value for c in at.caption) == 4
    marks = [t for t in after[2] if t.get("showlegend") is False]
    assert [m["text"][0] for m in marks] == ["classical bound 0.138·N"]     # N 128: 17.7
    assert [b.key for b in at.button if b.key.startswith("fd_")] == [
        f"fd_run_{f.name}" for f in findings.FINDINGS]
    assert not at.radio                                  # no quick run yet: one source


def test_findings_from_a_quick_run_here(tmp_path, monkeypatch):
    """A finished quick-preset run (its sweep cache) becomes a second source of records;
    its headline is computed from those records."""
    from lab.sweep import jobs
    from nuonuo_core.sweep import sidecar_path
    monkeypatch.setenv("NUONUO_SWEEPS", str(tmp_path / "sweeps"))
    grid = findings.quick_grid("sleep_interference")
    assert grid.n_tasks == 3 and grid.seeds == (0, 1, 2)
    assert "--nights 12" in " ".join(grid.cli_args())
    df = findings.load("sleep_interference")
    quick = df[(df.seed < 3) & (df.night <= 12)]
    out = jobs.folder(grid) / "results.csv"
    out.parent.mkdir(parents=True)
    quick.to_csv(out, index=False)
    sidecar_path(out).write_text("{}\n" * 3)
    at = AppTest.from_file(str(ROOT / "pages" / "12_Findings.py"), default_timeout=120).run()
    assert not at.exception and len(at.radio) == 1
    at.radio(key="fd_src_sleep_interference").set_value("quick").run()
    head = [m.value for m in at.markdown if m.value.startswith("**Finding.**")][3]
    assert head == "**Finding.** " + findings.headline("sleep_interference", quick)
    assert "After 12 days" in head
    assert any("quick preset" in c.value and "3 seeds" in c.value for c in at.caption)


def test_app_lists_the_findings_page():
    assert 'st.Page("pages/12_Findings.py"' in (ROOT / "app.py").read_text()
    assert os.path.isfile(ROOT / "pages" / "12_Findings.py")


def test_sweep_page_with_a_damaged_saved_sweep_says_so_and_starts_fresh(tmp_path,
                                                                        monkeypatch):
    monkeypatch.setenv("NUONUO_SWEEPS", str(tmp_path / "sweeps"))
    owner = files.new_owner()
    p = saved.path(owner)
    p.parent.mkdir(parents=True)
    p.write_text('{"version": 1, "source": "generated", "generated": {"settings": '
                 '{"experiment": "noise", "seeds": "' + "9," * 3000 + '"}, "records": ""}}')
    at = AppTest.from_file(str(ROOT / "pages" / "10_Sweep.py"), default_timeout=120)
    at.query_params["owner"] = owner
    at.run()
    assert not at.exception
    assert any("generated sweep was dropped" in w.value for w in at.warning)
    assert at.text_input(key="sw_seeds").value == "0,1,2"
    # settings that pass the file's checks still go through the form's own parser
    saved.save(owner, "generated", {"settings": {"experiment": "noise",
                                                 "vary": {"code_dim": "256,99999999"}},
                                    "records": ""})
    at = AppTest.from_file(str(ROOT / "pages" / "10_Sweep.py"), default_timeout=120)
    at.query_params["owner"] = owner
    at.run()
    assert not at.exception and any("99999999" in e.value for e in at.error)
    assert "sw_run" not in [b.key for b in at.button]
