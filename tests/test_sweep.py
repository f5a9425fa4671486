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
from nuonuo_core.sweep.output import frame
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

    probed = []

    def check_network(p):          # while Ray runs (a closed connection lingers 60 s)
        if has_ss:
            seen.update(_off_loopback() - before)
        if not probed:             # the real GCS passes the address probe (issue 20.15)
            import ray

            from nuonuo_core.sweep.backends import probe_address
            probe_address(ray.get_runtime_context().gcs_address)
            probed.append(True)

    ray_res = run_sweep(g, "ray", workers=2, out=tmp_path / "ray.csv", progress=check_network)
    assert local.complete and ray_res.complete and probed
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


# --- hostile round (issue 20): nothing written before a refusal; one atomic unit ----------------
def test_workers_0_is_refused_before_anything_is_written(tmp_path, capsys):
    """Issue 20.4: ``--workers 0`` used to write an empty CSV and sidecar, then refuse."""
    out = tmp_path / "w.csv"
    assert main(["noise", "--n_memories", "20", "--workers", "0", "--out", str(out)]) == 2
    assert "--workers" in capsys.readouterr().err
    assert not out.exists() and not sidecar_path(out).exists()
    with pytest.raises(ValueError, match="workers"):
        run_sweep(build_grid(FLAKY, {"x": "1"}), "local", workers=0, out=out)
    assert not out.exists() and not sidecar_path(out).exists()
    assert list(tmp_path.iterdir()) == []


class _Inline:
    """A backend that runs each task at once in this process (the output-file tests are about
    the files, not the pool; a spawned pool costs seconds per run)."""

    workers = 1

    def __init__(self, grid, *args):
        self.grid, self.done = grid, []

    def submit(self, task):
        g = self.grid
        self.done.append((task, run_task(g.experiment, g.func_ref, g.config_ref, task.params,
                                         task.seed), None))

    def wait(self, timeout):
        out, self.done = self.done, []
        return out

    def cancel(self):
        self.done = []

    def close(self):
        pass


@pytest.fixture
def inline(monkeypatch):
    from nuonuo_core.sweep import runner
    monkeypatch.setattr(runner, "make_backend", lambda name, grid, *a: _Inline(grid))


def _fresh(grid) -> pd.DataFrame:
    from nuonuo_core.sweep.output import frame as make_frame
    return make_frame({t.index: run_task(grid.experiment, grid.func_ref, grid.config_ref,
                                         t.params, t.seed) for t in grid.tasks()})


@pytest.mark.parametrize("crash_at", [1, 2, 3])
def test_a_crash_between_any_two_writes_never_mixes_tasks(tmp_path, monkeypatch, inline,
                                                          crash_at):
    """Issue 20.10: run seeds 0,1; grow to 0,1,2 and crash at the n-th file replacement of
    that run (on main: between the CSV rename and the sidecar rename the rerun reported 6 of
    6 done with one task twice). After the rerun every task's rows are its own, once."""
    from nuonuo_core.sweep import output

    params = {"x": "3,7", "scale": "0.5", "tags": "a,b"}
    out = tmp_path / "c.csv"
    run_sweep(build_grid(FLAKY, params, "0,1"), "local", workers=1, out=out)
    grown = build_grid(FLAKY, params, "0,1,2")
    real, calls = output.atomic_write, []

    def crashing(path, data):
        calls.append(Path(path).name)
        if len(calls) == crash_at:
            raise KeyboardInterrupt("killed")      # the process dies here
        return real(path, data)
    monkeypatch.setattr(output, "atomic_write", crashing)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(grown, "local", workers=1, out=out)
    monkeypatch.setattr(output, "atomic_write", real)
    res = run_sweep(grown, "local", workers=1, out=out)
    assert res.complete and res.resumed + res.executed == 6
    disk = pd.read_csv(out)
    assert disk.to_csv(index=False) == _fresh(grown).to_csv(index=False)
    assert sorted(disk.groupby(["x", "seed"]).size().tolist()) == [2] * 6  # each task once


def test_swapped_or_edited_journal_keys_are_refused(tmp_path, inline):
    """Issue 20.10: keys swapped between two finished tasks' lines were accepted (each task
    then resumed with the other's rows). A line's key must match its own contents."""
    import json as _json

    params = {"x": "1,2", "scale": "1.0"}
    out = tmp_path / "s.csv"
    g = build_grid(FLAKY, params, "0")
    run_sweep(g, "local", workers=1, out=out)
    side = sidecar_path(out)
    lines = [_json.loads(x) for x in side.read_text().splitlines()]
    assert len(lines) == 2
    lines[0]["key"], lines[1]["key"] = lines[1]["key"], lines[0]["key"]
    side.write_text("".join(_json.dumps(x) + "\n" for x in lines))
    before = out.read_text()
    with pytest.raises(ValueError, match="key does not match"):
        run_sweep(g, "local", workers=1, out=out)
    assert out.read_text() == before                     # nothing overwritten
    lines[0]["key"], lines[1]["key"] = lines[1]["key"], lines[0]["key"]
    lines[0]["rows"][0]["seed"] = 5                      # a row of another task
    side.write_text("".join(_json.dumps(x) + "\n" for x in lines))
    with pytest.raises(ValueError, match="another task"):
        run_sweep(g, "local", workers=1, out=out)


def test_old_k_columns_and_parameters_resume_under_wta_k(tmp_path, inline):
    """Issue 21.4: a sweep journal written when the k-WTA column and parameter were called
    ``k`` resumes, its rows read as ``wta_k``; ``--k`` is still accepted."""
    import json as _json

    from nuonuo_core.sweep.grid import task_key

    tiny = {"n_memories": "30", "n_queries": "10", "code_dim": "256", "noise_stds": "0.0",
            "methods": "cosine", "embed_dim": "32"}
    g = build_grid("noise", {**tiny, "k": "8"}, "0")
    assert g.fixed["wta_k"] == 8 and "k" not in g.fixed
    out = tmp_path / "k.csv"
    run_sweep(g, "local", workers=1, out=out)
    side = sidecar_path(out)
    (line,) = [_json.loads(x) for x in side.read_text().splitlines()]
    old_params = {("k" if k == "wta_k" else k): v for k, v in line["params"].items()}
    line["params"] = old_params
    line["key"] = task_key(line["experiment"], line["func"], old_params, line["seed"],
                           line["code"])
    line["rows"] = [{("k" if k == "wta_k" else k): v for k, v in r.items()}
                    for r in line["rows"]]
    side.write_text(_json.dumps(line) + "\n")
    res = run_sweep(g, "local", workers=1, out=out)
    assert (res.resumed, res.executed) == (1, 0)
    disk = pd.read_csv(out)
    assert "k" not in disk.columns and (disk.wta_k == 8).all()


def _http_server():
    import http.server
    srv = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


@pytest.mark.parametrize("where", ["closed", "http"])
def test_ray_address_without_a_cluster_fails_fast_naming_it(tmp_path, where):
    """Issue 20.15: --address 127.0.0.1:1 (or an HTTP server's port) retried "Failed to
    connect to GCS" for over 7 minutes. Now: refused within 60 s, the message naming the
    address and what should be there; nothing written."""
    srv = _http_server() if where == "http" else None
    address = f"127.0.0.1:{srv.server_address[1]}" if srv else "127.0.0.1:1"
    out = tmp_path / "r.csv"
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "nuonuo_core.sweep", "noise", "--n_memories",
                           "20", "--backend", "ray", "--address", address, "--out", str(out)],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT)
    took = time.perf_counter() - t0
    if srv:
        srv.shutdown()
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert address in proc.stderr and "GCS" in proc.stderr, proc.stderr
    assert ("nothing accepts connections" if where == "closed" else
            "not as a Ray cluster") in proc.stderr
    assert took < 60 and not out.exists()


def test_probe_accepts_a_grpc_speaker_and_refuses_bad_addresses():
    """An HTTP/2 (gRPC) server passes the probe, as Ray's GCS does (the real one is probed in
    the Ray test); malformed addresses are refused by name."""
    import socket

    from nuonuo_core.sweep.backends import parse_address, probe_address

    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)

    def serve():
        conn, _ = lsock.accept()
        conn.recv(64)
        conn.sendall(b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")   # an empty SETTINGS frame
        time.sleep(0.2)
        conn.close()
    threading.Thread(target=serve, daemon=True).start()
    probe_address(f"127.0.0.1:{lsock.getsockname()[1]}")
    lsock.close()
    assert parse_address("auto") is None and parse_address("ray://h:10001") == ("ray", "h",
                                                                                 10001)
    for bad in ("127.0.0.1", "h:0", "h:99999", "http://h:80", ""):
        with pytest.raises(ValueError):
            parse_address(bad)
