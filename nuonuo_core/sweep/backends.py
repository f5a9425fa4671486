"""Where tasks run: a local process pool (spawn) or Ray core tasks, behind one small interface.

``submit(task)`` starts a task; ``wait(timeout)`` returns the tasks that finished since, as
``(task, records or None, error text or None)``; ``cancel()`` stops everything still running;
``close()`` releases the workers (and a Ray runtime this backend started). Retrying is the
runner's job, so neither backend retries by itself.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import traceback
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path

from ..limits import LIMITS
from .grid import Grid, Task
from .task import ignore_sigint, run_task

BACKENDS = ("local", "ray")
MAX_WORKERS = int(LIMITS["workers"].hi)   # the one table of limits


def cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _error(exc: BaseException) -> str:
    last = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return last[:2000]


class LocalBackend:
    """A spawn-context process pool of ``workers`` processes on this machine."""

    name = "local"

    def __init__(self, grid: Grid, workers: int):
        self.grid, self.workers = grid, workers
        self._pool: ProcessPoolExecutor | None = None
        self._running: dict = {}   # future -> task

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=get_context("spawn"),
                                             initializer=ignore_sigint)
        return self._pool

    def submit(self, task: Task) -> None:
        g = self.grid
        try:
            fut = self._executor().submit(run_task, g.experiment, g.func_ref, g.config_ref,
                                          task.params, task.seed)
        except BrokenProcessPool:   # a worker died earlier: start a fresh pool
            self._pool = None
            fut = self._executor().submit(run_task, g.experiment, g.func_ref, g.config_ref,
                                          task.params, task.seed)
        self._running[fut] = task

    def wait(self, timeout: float) -> list[tuple[Task, list | None, str | None]]:
        if not self._running:
            return []
        done, _ = wait(list(self._running), timeout=timeout, return_when=FIRST_COMPLETED)
        out = []
        for fut in done:
            task = self._running.pop(fut)
            try:
                out.append((task, fut.result(), None))
            except BrokenProcessPool as exc:
                self._pool = None
                out.append((task, None, f"worker process died ({_error(exc)})"))
            except Exception as exc:  # noqa: BLE001 - a task's failure is data, reported
                out.append((task, None, _error(exc)))
        return out

    def cancel(self) -> None:
        pool, self._pool = self._pool, None
        self._running.clear()
        if pool is not None:
            procs = list(getattr(pool, "_processes", {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for p in procs:     # running tasks do not stop on shutdown: end our workers
                if p.is_alive():
                    p.terminate()
            for p in procs:
                p.join(timeout=5)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


# Ray's usage-stats module probes cloud metadata servers (169.254.169.254,
# metadata.google.internal) at start-up even with usage stats disabled; through a proxy that
# is a closed loopback port those probes fail at once, and no request leaves the machine.
_DEAD_PROXY = "http://127.0.0.1:9"
_LOCAL = "127.0.0.1,localhost,::1"
LOOPBACK_ONLY = {"http_proxy": _DEAD_PROXY, "https_proxy": _DEAD_PROXY,
                 "HTTP_PROXY": _DEAD_PROXY, "HTTPS_PROXY": _DEAD_PROXY,
                 "no_proxy": _LOCAL, "NO_PROXY": _LOCAL, "grpc_proxy": "", "no_grpc_proxy": _LOCAL}


@contextlib.contextmanager
def _env(values: dict[str, str]):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _loopback(address: str) -> bool:
    host = address.split("://")[-1].rsplit(":", 1)[0].strip("[]")
    return host in ("localhost", "::1") or host.startswith("127.")


class RayBackend:
    """Ray core tasks. No address: a private local runtime bound to loopback only, with
    ``workers`` CPUs, shut down by close(). An address joins that cluster (and ships
    nuonuo_core to it); close() then only disconnects."""

    name = "ray"

    def __init__(self, grid: Grid, workers: int, address: str | None = None):
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        if address is None or _loopback(address):
            # Local mode: every Ray process binds to and dials 127.0.0.1 only (no cluster IP
            # lookup). Read when ray is imported, and inherited by the processes it starts.
            os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
        import ray

        self.ray, self.grid, self._tmp = ray, grid, None
        if ray.is_initialized():
            raise ValueError("Ray is already initialised in this process")
        try:
            if address is None:
                # a private session folder (logs, sockets), removed by close()
                self._tmp = tempfile.mkdtemp(prefix="nuonuo-ray-", dir="/tmp")
                with _env(LOOPBACK_ONLY):     # inherited by every process Ray starts
                    ray.init(num_cpus=workers, include_dashboard=False,
                             _node_ip_address="127.0.0.1", configure_logging=False,
                             log_to_driver=False, _temp_dir=self._tmp)
            else:
                pkg = str(Path(__file__).resolve().parents[1])
                ray.init(address=address, include_dashboard=False, log_to_driver=False,
                         configure_logging=False, runtime_env={"py_modules": [pkg]})
        except KeyboardInterrupt:
            self.close()                # whatever the interrupted start left running
            raise
        except (ConnectionError, RuntimeError) as exc:
            self.close()
            where = f"the Ray cluster at {address}" if address else "a local Ray runtime"
            hint = (" (a cluster with token authentication needs RAY_AUTH_MODE=token and its "
                    "token: see docs/sweep.md)" if address else "")
            raise ValueError(f"could not reach {where}: {str(exc).splitlines()[0][:300]}"
                             f"{hint}") from None
        self.workers = max(1, int(ray.cluster_resources().get("CPU", workers)))
        self._remote = ray.remote(num_cpus=1, max_retries=0)(run_task)
        self._running: dict = {}   # ObjectRef -> task

    def submit(self, task: Task) -> None:
        g = self.grid
        ref = self._remote.remote(g.experiment, g.func_ref, g.config_ref, task.params,
                                  task.seed)
        self._running[ref] = task

    def wait(self, timeout: float) -> list[tuple[Task, list | None, str | None]]:
        if not self._running:
            return []
        ready, _ = self.ray.wait(list(self._running), num_returns=1, timeout=timeout)
        out = []
        for ref in ready:
            task = self._running.pop(ref)
            try:
                out.append((task, self.ray.get(ref), None))
            except Exception as exc:  # noqa: BLE001 - a task's failure is data, reported
                cause = getattr(exc, "cause", None) or exc
                out.append((task, None, _error(cause)))
        return out

    def cancel(self) -> None:
        for ref in list(self._running):
            try:
                self.ray.cancel(ref, force=True)
            except Exception:  # noqa: BLE001 - already finished or gone
                pass
        self._running.clear()

    def close(self) -> None:
        if self.ray.is_initialized():
            self.ray.shutdown()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)


PROBE_TIMEOUT_S = 5.0
_H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
_EXPECTED = ("a Ray cluster's GCS server (the HOST:PORT `ray start --head` prints, port 6379 "
             "by default) or a Ray Client server (ray://HOST:10001)")


def parse_address(address: str) -> tuple[str, str, int] | None:
    """'HOST:PORT' or 'ray://HOST:PORT' -> (scheme, host, port); None for Ray's own 'auto' /
    'local' (found by Ray itself); ValueError naming the address otherwise."""
    if not isinstance(address, str) or not address.strip():
        raise ValueError(f"--address must be HOST:PORT, got {address!r}")
    if address in ("auto", "local"):
        return None
    scheme, _, rest = address.rpartition("://")
    if scheme not in ("", "ray"):
        raise ValueError(f"--address {address!r}: expected HOST:PORT or ray://HOST:PORT")
    host, sep, port = rest.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"--address {address!r}: expected HOST:PORT (a port in 1..65535)")
    return scheme or "gcs", host, int(port)


def probe_address(address: str, timeout: float = PROBE_TIMEOUT_S) -> None:
    """Refuse, within about 2 x ``timeout`` seconds, an address where no Ray cluster can be:
    nothing accepts a connection there, or what answers does not speak gRPC (HTTP/2), as
    Ray's GCS and client servers do. ValueError names the address and what was expected."""
    import socket

    parsed = parse_address(address)
    if parsed is None:
        return
    _, host, port = parsed
    try:
        conn = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise ValueError(f"could not reach the Ray cluster at {address}: nothing accepts "
                         f"connections there ({exc.strerror or exc}); expected {_EXPECTED}"
                         ) from None
    with conn:
        try:
            conn.settimeout(timeout)
            conn.sendall(_H2_PREFACE)
            reply = conn.recv(64)
        except OSError as exc:
            reply = f"no reply ({exc.strerror or exc})".encode()
    if len(reply) >= 9 and reply[3] == 0x04:      # an HTTP/2 SETTINGS frame: gRPC speaks
        return
    seen = reply[:40].decode("latin-1", "replace").splitlines()[0] if reply else "nothing"
    raise ValueError(f"could not reach the Ray cluster at {address}: something answers there "
                     f"but not as a Ray cluster (it replied {seen!r} instead of gRPC); "
                     f"expected {_EXPECTED}")


def check_backend(name: str, workers: int | None = None, address: str | None = None) -> int:
    """The worker count to use (default: this machine's CPUs) after checking the backend's
    arguments; ValueError names the bad one. Nothing is started."""
    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {name!r}")
    workers = cpu_count() if workers is None else workers
    workers = LIMITS["workers"].check(workers, "workers")
    if address is not None and name != "ray":
        raise ValueError("--address is for the ray backend (a Ray cluster to join)")
    if address is not None:
        probe_address(address)
    return workers


def make_backend(name: str, grid: Grid, workers: int | None = None,
                 address: str | None = None):
    """A backend by name; ``workers`` defaults to this machine's CPU count."""
    workers = check_backend(name, workers, address)
    if name == "local":
        return LocalBackend(grid, workers)
    return RayBackend(grid, workers, address)
