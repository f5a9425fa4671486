"""AppTest for the Sweep page: bounded inputs, a real run with progress, cache, cancel."""
from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from lab.sweep import charts, jobs
from nuonuo_core.sweep import build_grid

ROOT = Path(__file__).resolve().parents[1]
TINY = {"sw_val:noise:code_dim": "256,512", "sw_val:noise:noise_stds": "0.05,0.2",
        "sw_fix:noise:n_memories": "60", "sw_fix:noise:n_queries": "20",
        "sw_fix:noise:embed_dim": "64", "sw_seeds": "0,1"}


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
        shape = tuple(int(n) for n in str(z["shape"]).split(","))
        return np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(shape)
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


def test_run_progress_chart_csv_then_cached(dirs):
    at = page(**TINY)
    assert errors(at) == "" and "8 tasks" in at.caption[0].value
    at.button(key="sw_run").click().run()
    assert not at.exception
    at = until(at, lambda a: len(a.get("plotly_chart")) == 1)
    assert errors(at) == "" and not at.warning
    out = next((dirs / "sweeps").glob("noise-*")) / "results.csv"
    df = pd.read_csv(out)
    assert len(df) == 8 * 3 and sorted(df.seed.unique()) == [0, 1]
    # one heatmap panel per method, each cell the mean of recall_at_1 over the two seeds
    data = json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    assert len(data) == 3
    for i, method in enumerate(["hopfield", "hebbian", "cosine"]):
        z = _array(data[i]["z"])
        want = df[df.method == method].groupby(["noise_std", "code_dim"]).recall_at_1.mean()
        assert z.tolist() == [[want[(ns, d)] for d in (256, 512)] for ns in (0.05, 0.2)]
    assert len(set(_array(data[1]["z"]).ravel())) > 1    # hebbian: the grid moves the metric
    assert at.get("download_button")
    # reopening the same grid is instant: no job, the chart straight away
    t = time.time()
    again = page(**TINY)
    assert len(again.get("plotly_chart")) == 1 and not jobs.running()
    assert time.time() - t < 30


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
    assert list(hop.error_y.array) == pytest.approx([0.0707107] * 2)   # sd of {x, x + 0.1}


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
