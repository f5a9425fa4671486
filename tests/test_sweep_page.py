"""AppTest for the Sweep page: bounded inputs, a real run with progress, cache, cancel."""
from __future__ import annotations

import base64
import hashlib
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from conftest import unit_rows
from lab.charts import METHOD_COLORS
from lab import charts as charts_mod
from lab.sweep import charts, jobs, saved
from lab.workspace import files, state
from nuonuo_core.experiments import EXPERIMENTS
from nuonuo_core.sweep import build_grid
from nuonuo_core.sweep.grid import parse_seeds

ROOT = Path(__file__).resolve().parents[1]
TINY = {"sw_val:noise:code_dim": "256,512", "sw_val:noise:noise_stds": "0.05,0.2",
        "sw_fix:noise:n_memories": "60", "sw_fix:noise:n_queries": "20",
        "sw_fix:noise:embed_dim": "64", "sw_seeds": "0,1"}
TINY3 = {**TINY, "sw_seeds": "0,1,2"}


def fingerprint(mem) -> tuple:
    """Everything a memory holds (its tensors, its state, its config), to compare."""
    tensors, st = mem.store.state_dict()
    return (json.dumps(st, sort_keys=True, default=str), str(mem.config),
            {k: hashlib.sha256(v.cpu().numpy().tobytes()).hexdigest()
             for k, v in tensors.items()})


@pytest.fixture(autouse=True)
def dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("NUONUO_SWEEPS", str(tmp_path / "sweeps"))
    monkeypatch.setenv("NUONUO_WORKSPACES", str(tmp_path / "ws"))
    yield tmp_path
    for job in jobs.running():       # never leave a sweep behind
        job.cancel()
        job.proc.wait(timeout=60)


def page(**values) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "10_Sweep.py"), default_timeout=120)
    for key, value in values.items():
        at.session_state[key] = value
    return at.run()


def until(at: AppTest, done, limit: float = 180.0) -> AppTest:
    t = time.time()
    while not done(at) and time.time() - t < limit:
        time.sleep(1.0)
        at.run()
    assert done(at), [e.value for e in at.error]
    return at


def _array(z) -> np.ndarray:
    """A Plotly array, plain or typed ({'dtype', 'bdata', 'shape'})."""
    if isinstance(z, dict):
        flat = np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"])
        if "shape" not in z:
            return flat
        return flat.reshape(tuple(int(n) for n in str(z["shape"]).split(",")))
    return np.asarray(z, dtype=float)


def errors(at: AppTest) -> str:
    assert not at.exception, [e.value for e in at.exception]
    return " ".join(e.value for e in at.error).replace("\\", "")


BAD = [
    ("sw_seeds", "0-3", "'0-3'"),
    ("sw_seeds", "", "seeds: empty value in ''"),
    ("sw_val:noise:code_dim", "256,99999999", "99999999"),
    ("sw_val:noise:code_dim", "256", "at least two values"),
    ("sw_val:noise:noise_stds", "0.05,abc", "'abc'"),
    ("sw_fix:noise:n_memories", "100,200", "one value only"),
    ("sw_fix:noise:beta", "-1", "-1"),
    ("sw_val:noise:code_dim", ",".join(str(300 + i) for i in range(70)), "280 tasks"),
]


def test_bad_inputs_are_refused_with_the_value_and_no_run():
    at = page(**TINY)
    for key, value, quoted in BAD:
        at.text_input(key=key).set_value(value).run()
        assert quoted in errors(at), (key, value)
        assert "sw_run" not in [b.key for b in at.button] and not jobs.running()
        at.text_input(key=key).set_value(TINY.get(key, "16.0")).run()
        assert errors(at) == ""


def reference_ci(values: np.ndarray) -> tuple[float, float]:
    """(mean, half-width of the 95 % Student's t interval) by the textbook formula."""
    from scipy.stats import t
    v = np.asarray(values, float)
    if len(v) < 2 or np.all(v == v[0]):
        return float(v.mean()), 0.0
    return float(v.mean()), float(t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))


def chart_data(at: AppTest, i: int = 0) -> list[dict]:
    return json.loads(at.get("plotly_chart")[i].proto.spec)["data"]


def test_two_parameter_sweep_lines_with_ci_then_cached_then_restored(dirs):
    """Two varied parameters: one line per (method, code_dim) with 95 % t-interval error bars
    equal to the textbook formula over the CSV's seeds, in the lab's method colours; the
    grid is cached; the owner's last sweep comes back in a fresh session (the cache gone),
    and never for another owner."""
    at = page(**TINY3)
    assert errors(at) == "" and "12 tasks" in " ".join(c.value for c in at.caption)
    at.button(key="sw_run").click().run()
    assert not at.exception
    at = until(at, lambda a: len(a.get("plotly_chart")) == 1)
    assert errors(at) == "" and not at.warning
    out = next((dirs / "sweeps").glob("noise-*")) / "results.csv"
    df = pd.read_csv(out)
    assert len(df) == 12 * 3 and sorted(df.seed.unique()) == [0, 1, 2]
    data = chart_data(at)
    assert [t["name"] for t in data] == [f"{m} · code_dim {d}" for m in
                                         ("hopfield", "hebbian", "cosine") for d in (256, 512)]
    moved = 0
    for tr in data:
        method, dim = tr["name"].split(" · code_dim ")
        assert tr["line"]["color"] == charts_mod.shade(METHOD_COLORS[method],
                                                       0.0 if dim == "512" else -0.55)
        xs = [float(c[0]) for c in tr["customdata"]]
        assert xs == [0.05, 0.2]                    # the true x, whatever the dodge
        part = df[(df.method == method) & (df.code_dim == int(dim))]
        for j, ns in enumerate(xs):
            mean, half = reference_ci(part[part.noise_std == ns].recall_at_1.to_numpy())
            assert _array(tr["y"])[j] == pytest.approx(mean)
            assert _array(tr["error_y"]["array"])[j] == pytest.approx(min(half, 1 - mean))
            assert _array(tr["error_y"]["arrayminus"])[j] == pytest.approx(min(half, mean))
            moved += half > 0
        assert tr["error_y"]["visible"] is True
    assert moved > 0                                  # some seeds differ: bars are drawn
    # only hopfield: exactly one trace per second-parameter value
    key = next(m.key for m in at.multiselect if m.label == "method shown")
    at.multiselect(key=key).set_value(["hopfield"]).run()
    assert [t["name"] for t in chart_data(at)] == ["hopfield · code_dim 256",
                                                   "hopfield · code_dim 512"]
    cap = " ".join(c.value for c in at.caption)
    assert "95 % confidence interval" in cap and "Student's t" in cap and "3 seeds" in cap
    # the heatmap stays as an option: each cell the mean over seeds
    key = next(s.key for s in at.selectbox if s.label == "View")
    at.selectbox(key=key).set_value("heatmap").run()
    [hm] = chart_data(at)
    hop = df[df.method == "hopfield"].groupby(["code_dim", "noise_std"]).recall_at_1.mean()
    assert _array(hm["z"]).tolist() == [[hop[(d, ns)] for ns in (0.05, 0.2)]
                                        for d in (256, 512)]
    at.selectbox(key=key).set_value("lines").run()
    # reopening the same grid is instant: no job, the chart straight away
    t = time.time()
    again = page(**TINY3)
    assert len(again.get("plotly_chart")) == 1 and not jobs.running()
    assert time.time() - t < 30
    # a reload (same owner in the URL, a new session) brings back the form, the chart choice
    # and the results, also once the sweep cache is gone
    owner = at.session_state[state.OWNER_KEY]
    saved_file = saved.path(owner)
    assert saved_file.is_file() and json.loads(saved_file.read_text())["source"] == "generated"
    shutil.rmtree(dirs / "sweeps")
    fresh = AppTest.from_file(str(ROOT / "pages" / "10_Sweep.py"), default_timeout=120)
    fresh.query_params["owner"] = owner
    fresh.run()
    assert errors(fresh) == ""
    for k, v in TINY3.items():
        assert fresh.text_input(key=k).value == v
    assert [t["name"] for t in chart_data(fresh)] == ["hopfield · code_dim 256",
                                                      "hopfield · code_dim 512"]
    assert any("saved last sweep" in i.value for i in fresh.info)
    assert any("last sweep is back" in c.value for c in fresh.caption)
    assert "sw_run" not in [b.key for b in fresh.button]        # complete: nothing to rerun
    # another owner sees the page's defaults and no results
    other = AppTest.from_file(str(ROOT / "pages" / "10_Sweep.py"), default_timeout=120)
    other.query_params["owner"] = files.new_owner()
    other.run()
    assert other.text_input(key="sw_seeds").value == jobs.DEFAULT_SEEDS
    assert not other.get("plotly_chart")


def test_seeds_default_to_three_or_more_and_the_data_line_shows():
    at = page()
    assert errors(at) == ""
    seeds = at.text_input(key="sw_seeds").value
    assert len(parse_seeds(seeds)) >= 3
    assert jobs.page_grid("noise", {}, {}, seeds).seeds == (0, 1, 2)
    data = [c.value for c in at.caption if c.value.startswith("Data: ")]
    assert data == [f"Data: {EXPERIMENTS['noise'].data}"] and "random unit" in data[0]
    # the default grid answers the researcher's question: D 4096 vs 16384, noise on x
    assert at.multiselect(key="sw_vary:noise").value == ["code_dim", "noise_stds"]
    assert at.text_input(key="sw_val:noise:code_dim").value == "4096,16384"
    # a split list (noise_stds) taken out of the varied ones starts at one value, no error
    at.multiselect(key="sw_vary:noise").set_value(["code_dim"]).run()
    assert errors(at) == "" and at.text_input(key="sw_fix:noise:noise_stds").value == "0.0"
    at.selectbox(key="sw_exp").set_value("modern_capacity").run()
    assert [c.value for c in at.caption if c.value.startswith("Data: ")] == [
        f"Data: {EXPERIMENTS['modern_capacity'].data}"]


def workspace_memory(n: int = 12, dup: bool = True):
    from nuonuo_core import HybridMemory, MemoryConfig
    cues = unit_rows(n, 384, 3)
    if dup:
        cues = np.vstack([cues, cues[:1]])          # a look-alike: the same cue twice
    mem = HybridMemory(MemoryConfig(code_dim=1024, k=20, device="cpu"), encoder=None)
    mem.add_vectors(cues, unit_rows(len(cues), 384, 4))
    return mem


def test_workspace_option_runs_on_a_small_workspace_and_never_changes_it(dirs):
    mem = workspace_memory()
    before = fingerprint(mem)
    at = AppTest.from_file(str(ROOT / "pages" / "10_Sweep.py"), default_timeout=120)
    at.session_state[state.MEM_KEY] = mem
    at.session_state[state.NAME_KEY] = "mine"
    at.run()
    at.radio(key="sw_source").set_value("workspace").run()
    assert errors(at) == "" and "never changed" in " ".join(m.value for m in at.markdown)
    at.text_input(key="sw_ws_noise").set_value("0,0.3,2").run()
    assert "[0, 1]" in errors(at) and "sw_ws_run" not in [b.key for b in at.button]
    at.text_input(key="sw_ws_noise").set_value("0,0.3").run()
    at.button(key="sw_ws_run").click().run()
    assert errors(at) == ""
    data = chart_data(at)
    assert [t["name"] for t in data] == ["hopfield", "hebbian", "cosine"]
    for tr in data:
        assert [float(c[0]) for c in tr["customdata"]] == [0.0, 0.3]
        assert _array(tr["y"])[0] == pytest.approx(12 / 13)     # the look-alike pair
    assert fingerprint(mem) == before and at.session_state[state.MEM_KEY] is mem
    # the run on the workspace is the owner's last one, and comes back on a reload
    owner = at.session_state[state.OWNER_KEY]
    fresh = AppTest.from_file(str(ROOT / "pages" / "10_Sweep.py"), default_timeout=120)
    fresh.query_params["owner"] = owner
    fresh.session_state[state.MEM_KEY] = workspace_memory(3, dup=False)
    fresh.session_state[state.NAME_KEY] = "other"
    fresh.run()
    assert fresh.radio(key="sw_source").value == "workspace"
    assert fresh.text_input(key="sw_ws_noise").value == "0,0.3"
    assert [t["name"] for t in chart_data(fresh)] == ["hopfield", "hebbian", "cosine"]
    assert any("workspace “mine”, 13 memories" in m.value.replace("\\", "")
               for m in fresh.markdown)


def test_cancel_stops_the_sweep_and_offers_resume(dirs):
    at = page(**{**TINY, "sw_fix:noise:n_memories": "4000", "sw_fix:noise:code_dim": "16384",
                 "sw_workers": 1, "sw_val:noise:code_dim": "8192,16384"})
    at.button(key="sw_run").click().run()
    [job] = jobs.running()
    log = job.folder / "log.txt"
    t = time.time()
    while "tasks (" not in log.read_text() and time.time() - t < 60:   # the sweep has begun
        time.sleep(0.5)
    time.sleep(2)
    at.run().button(key="sw_cancel").click().run()
    assert job.proc.wait(timeout=60) == 130 and "cancelled: " in log.read_text()
    at = until(at, lambda a: not jobs.running() and "sw_run" in [b.key for b in a.button],
               120)
    assert errors(at) == ""
    assert at.button(key="sw_run").label in ("▶ Run sweep", "▶ Resume")


def test_roles_summary_and_lines_on_known_records():
    grid = build_grid("noise", {"code_dim": "256,512"}, "0,1")
    rows = [{"experiment": "noise", "noise_std": ns, "cue_cosine": 0.5 + ns, "method": m,
             "recall_at_1": 0.1 * s + (0.5 if m == "hopfield" else 0.2) + d / 1000,
             "code_dim": d, "n_queries": 20, "seed": s, "task": 0}
            for d in (256, 512) for s in (0, 1) for ns in (0.0, 0.1)
            for m in ("hopfield", "hebbian")]
    df = pd.DataFrame(rows)
    axes, metrics, dims = charts.roles(grid, df)
    assert axes == ["code_dim"] and metrics == ["cue_cosine", "recall_at_1"]
    assert dims == ["noise_std", "method"]                 # n_queries is constant
    assert metrics[charts.default_metric(metrics)] == "recall_at_1"
    sel = df[df.noise_std == 0.1]
    s = charts.summary(sel, ["code_dim", "method"], "recall_at_1")
    fig = charts.lines(s, "code_dim", "recall_at_1", "method")
    hop = next(t for t in fig.data if t.name == "hopfield")
    assert list(hop.y) == pytest.approx([0.55 + 0.256, 0.55 + 0.512])
    half = 12.7062 * 0.0707107 / np.sqrt(2)          # t(0.975, 1) · sd{x, x + 0.1} / √2
    assert list(hop.error_y.arrayminus) == pytest.approx([half] * 2, rel=1e-4)
    assert list(hop.error_y.array) == pytest.approx([half] * 2, rel=1e-4)   # not a fraction
    frac = charts.lines(s.assign(mean=s["mean"] - 0.1), "code_dim", "recall_at_1", "method")
    hop = next(t for t in frac.data if t.name == "hopfield")    # a fraction: cut at 0 and 1
    assert list(hop.error_y.array) == pytest.approx([1 - y for y in hop.y])
    assert [c[0] for c in hop.customdata] == ["256", "512"]


def test_page_grid_refuses_paths_and_reports_a_crashed_run(dirs):
    with pytest.raises(ValueError, match="file path"):
        jobs.page_grid("paraphrase", {}, {"asset": "/etc/passwd"}, "0")
    assert not any(p.axis for p in jobs.params("paraphrase") if p.name == "asset")
    grid = jobs.page_grid("noise", {"code_dim": "256,512"}, {"n_memories": "50"}, "0")
    folder = jobs.folder(grid)
    folder.mkdir(parents=True)
    (folder / "log.txt").write_text("noise: 2 tasks\nSegmentation fault\n")
    (folder / "status.json").write_text('{"rc": -11}')
    assert jobs.failures(grid) == [
        "the sweep stopped unexpectedly (exit code -11): Segmentation fault"]
