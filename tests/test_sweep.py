"""Sweeps: grid parsing, retry-once-then-report, resume, Ctrl-C, and Ray == local."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from sweep_flaky import FLAKY

from nuonuo_core.experiments import run_experiment
from nuonuo_core.sweep import build_grid, run_sweep, sidecar_path
from nuonuo_core.sweep.__main__ import main
from nuonuo_core.sweep.store import frame
from nuonuo_core.sweep.task import run_task

ROOT = Path(__file__).resolve().parents[1]
TINY_NOISE = {"n_memories": "60", "n_queries": "20", "code_dim": "256,512",
              "noise_stds": "0.05,0.2", "methods": "hopfield,hebbian", "embed_dim": "64"}


def runs(log_dir: Path) -> int:
    return len(list(log_dir.glob("*.pid")))


# --- grid parsing ---------------------------------------------------------------------------
def test_scalar_lists_are_axes_tuples_pass_whole_or_split():
    g = build_grid("noise", {"code_dim": "1024,2048", "noise_stds": "0.05,0.15",
                             "methods": "hopfield,cosine", "n_memories": "300"}, "0,1")
    assert g.axes == (("code_dim", (1024, 2048)), ("noise_stds", ((0.05,), (0.15,))))
    assert g.fixed == {"methods": ("hopfield", "cosine"), "n_memories": 300}
    tasks = g.tasks()
    assert g.n_tasks == len(tasks) == 8
    assert [(t.params["code_dim"], t.params["noise_stds"], t.seed) for t in tasks[:3]] == [
        (1024, (0.05,), 0), (1024, (0.05,), 1), (1024, (0.15,), 0)]
    assert len({t.key for t in tasks}) == 8
    flaky = build_grid(FLAKY, {"x": "1,2,3", "tags": "a,b"}, "5")
    assert flaky.axes == (("x", (1, 2, 3)),) and flaky.fixed == {"tags": ("a", "b")}
    assert build_grid("noise", {"code_dim": "1024"}).n_tasks == 1   # one value: fixed


@pytest.mark.parametrize("params, seeds, quoted", [
    ({"code_dim": "1024,,2048"}, "0", "'1024,,2048'"),
    ({"code_dim": "1024,abc"}, "0", "'abc'"),
    ({"code_dim": "1024,1024"}, "0", "1024"),
    ({"noise_stds": "0.1,0.1"}, "0", "0.1"),
    ({"code_dim": "1.5"}, "0", "'1.5'"),
    ({"beta": "nan"}, "0", "nan"),
    ({"k": "10,40", "code_dim": "16,64"}, "0", "k=40 code_dim=16"),
    ({"no_such": "1"}, "0", "no_such"),
    ({}, "0,-1", "'-1'"),
    ({}, "1.5", "'1.5'"),
    ({}, "0,0", "0"),
    ({}, "", "''"),
    ({"code_dim": ",".join(str(64 + i) for i in range(101))}, "0,1", "202 tasks"),
])
def test_bad_grids_are_refused_naming_the_value(params, seeds, quoted):
    with pytest.raises(ValueError) as err:
        build_grid("noise", params, seeds, max_tasks=200)
    assert quoted in str(err.value)


# --- retry, failures, resume ----------------------------------------------------------------
@pytest.mark.slow
def test_failed_task_is_retried_once_then_reported_and_others_are_written(tmp_path):
    logs, marks = tmp_path / "logs", tmp_path / "marks"
    logs.mkdir(), marks.mkdir()
    # every point fails its first attempt; x=2 fails every time
    g = build_grid(FLAKY, {"x": "0,1,2,3", "fail_at": "2", "fail_once_dir": str(marks),
                           "log_dir": str(logs)}, "0")
    out = tmp_path / "r.csv"
    res = run_sweep(g, "local", workers=2, out=out)
    assert list(res.failed) == [2] and "fail_at hit at x=2" in res.failed[2]
    assert [len(list(logs.glob(f"{x}_0_*"))) for x in range(4)] == [2, 2, 2, 2]
    assert res.executed == 4 and not res.cancelled and not res.complete
    disk = pd.read_csv(out)
    assert disk["x"].tolist() == [0, 1, 3] and disk["task"].tolist() == [0, 1, 3]
    assert disk["value"].tolist() == [0, 10, 30]
    res2 = run_sweep(g, "local", workers=1, out=out)          # a rerun retries only x=2
    assert res2.resumed == 3 and res2.executed == 1 and list(res2.failed) == [2]
    assert runs(logs) == 10


@pytest.mark.slow
def test_resume_skips_finished_tasks_and_matches_a_fresh_run(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    params = {"x": "0,1,2,3", "scale": "0.5", "tags": "a,b", "log_dir": str(logs)}
    out = tmp_path / "s.csv"
    first = run_sweep(build_grid(FLAKY, params, "0"), "local", workers=2, out=out)
    assert first.executed == 4 and runs(logs) == 4
    grown = build_grid(FLAKY, params, "0,1")                     # add a seed: 4 new tasks
    res = run_sweep(grown, "local", workers=2, out=out)
    assert (res.resumed, res.executed, runs(logs)) == (4, 4, 8)
    again = run_sweep(grown, "local", workers=2, out=out)
    assert (again.resumed, again.executed, runs(logs)) == (8, 0, 8)
    fresh = {t.index: run_task("flaky", grown.func_ref, grown.config_ref, t.params, t.seed)
             for t in grown.tasks()}                                # in-process reference
    assert out.read_text() == frame(fresh).to_csv(index=False)     # task order, same text
    assert pd.read_csv(out)["task"].tolist() == [i for i in range(8) for _ in "ab"]
    # a torn last line (a crash mid-append) only reruns that task
    side = sidecar_path(out)
    side.write_text(side.read_text() + '{"task": 7, "key"')
    assert run_sweep(grown, "local", workers=1, out=out).executed == 0
    # a narrower grid, or a file that is no sweep output, is refused, nothing overwritten
    with pytest.raises(ValueError, match="not in this sweep"):
        run_sweep(build_grid(FLAKY, params, "1"), "local", workers=1, out=out)
    alien = tmp_path / "alien.csv"
    alien.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a sweep output"):
        run_sweep(grown, "local", workers=1, out=alien)
    assert alien.read_text() == "a,b\n1,2\n"


# --- Ctrl-C -----------------------------------------------------------------------------------
DRIVER = textwrap.dedent("""
    import sys
    sys.path[:0] = [{tests!r}, {root!r}]
    from sweep_flaky import FLAKY
    from nuonuo_core import experiments
    from nuonuo_core.sweep.__main__ import run_cli
    if __name__ == "__main__":
        experiments.EXPERIMENTS["flaky"] = FLAKY
        run_cli(sys.argv[1:])
""")


def _cli(tmp_path, args, **kw):
    script = tmp_path / "driver.py"
    script.write_text(DRIVER.format(tests=str(ROOT / "tests"), root=str(ROOT)))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, str(script), *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


@pytest.mark.slow
def test_ctrl_c_cancels_cleanly_and_a_rerun_resumes(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    out = tmp_path / "c.csv"
    args = ["flaky", "--x", "0,1,2,3,4,5", "--sleep_s", "1.5", "--log_dir", str(logs),
            "--workers", "1", "--out", str(out)]
    proc = _cli(tmp_path, args)
    for line in proc.stderr:                     # wait for the first finished task
        if line.startswith("[1/6] ok"):
            break
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "cancelled: " in err and "Traceback" not in err
    done = pd.read_csv(out)["x"].tolist()
    assert 1 <= len(done) < 5 and done == sorted(done)
    time.sleep(0.5)
    for pid in {int(p.read_text()) for p in logs.glob("*.pid")}:   # workers are gone
        assert not Path(f"/proc/{pid}").exists() or \
            Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    grid = build_grid(FLAKY, {"x": "0,1,2,3,4,5", "sleep_s": "1.5", "log_dir": str(logs)}, "0")
    stop = threading.Event()
    part = run_sweep(grid, "local", workers=1, out=out, cancel=stop,   # the same grid resumes;
                     progress=lambda p: stop.set())                   # cancel after one task
    assert part.cancelled and part.executed == 1 and part.resumed == len(done)
    res = run_sweep(grid, "local", workers=2, out=out)
    assert (res.resumed, res.executed) == (len(done) + 1, 5 - len(done)) and res.complete
    assert pd.read_csv(out)["x"].tolist() == [0, 1, 2, 3, 4, 5]


# --- the real experiments, local and Ray ------------------------------------------------------
def _off_loopback() -> set[str]:
    """Listening sockets of Ray processes off loopback, and TCP peers of any socket off the
    machine's loopback (ss lines, state and addresses only)."""
    out = set()
    text = subprocess.run(["ss", "-tanpH"], capture_output=True, text=True).stdout
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 5:
            continue
        state, local, peer = parts[0], parts[3], parts[4]
        loop = ("127.", "[::ffff:127.", "[::1]")
        if state == "LISTEN":
            if ("ray" in line or "gcs_server" in line) and not local.startswith(loop):
                out.add(f"listen {local} {line[-60:]}")
        elif not peer.startswith(loop):
            out.add(f"{state} {local} -> {peer}")
    return out


@pytest.mark.slow
def test_ray_and_local_give_identical_records_loopback_only(tmp_path):
    g = build_grid("noise", TINY_NOISE, "0,1")
    assert g.n_tasks == 8
    local = run_sweep(g, "local", workers=2, out=tmp_path / "local.csv")
    has_ss = shutil.which("ss") is not None
    before = _off_loopback() if has_ss else set()
    seen = set()

    def check_network(p):          # while Ray runs (a closed connection lingers 60 s)
        if has_ss:
            seen.update(_off_loopback() - before)

    ray_res = run_sweep(g, "ray", workers=2, out=tmp_path / "ray.csv", progress=check_network)
    assert local.complete and ray_res.complete
    assert (tmp_path / "local.csv").read_text() == (tmp_path / "ray.csv").read_text()
    assert {"code_dim", "seed", "noise_std", "method"} <= set(local.records.columns)
    ours = {x for x in seen if x.startswith("listen") or "169.254." in x}
    assert not ours, ours          # no Ray listener off loopback, no cloud-metadata probe
    # split noise_stds: the records of one run with the whole tuple, measured per level
    whole = run_experiment("noise", seed=1, n_memories=60, n_queries=20, code_dim=512,
                           noise_stds=(0.05, 0.2), methods=("hopfield", "hebbian"),
                           embed_dim=64)
    mine = local.records[(local.records.code_dim == 512) & (local.records.seed == 1)]
    pd.testing.assert_frame_equal(mine.drop(columns="task").reset_index(drop=True),
                                  whole[mine.columns.drop("task")], check_dtype=False)
    procs = subprocess.run(["ps", "-eo", "comm"], capture_output=True, text=True).stdout
    assert "raylet" not in procs and "gcs_server" not in procs   # shut down cleanly


def test_cli_errors_and_help(capsys):
    assert main(["noise", "--code_dim", "1024,x"]) == 2
    assert "'x'" in capsys.readouterr().err
    assert main(["noise", "--backend", "spark"]) == 2
    assert "spark" in capsys.readouterr().err
    assert main(["nope"]) == 2
    assert main(["noise", "--help"]) == 0
    assert "one task per value" in capsys.readouterr().out
