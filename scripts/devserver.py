"""Start the lab on a free localhost port (for the real-browser test and the screenshots)."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]


def find_chromium() -> str | None:
    for cand in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                 shutil.which("chromium-browser")):
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            return cand
    return None


def chromium_or_skip() -> str:
    """Chromium's path for a browser test module; skips the module (with the reason) when there
    is none, except in CI (NUONUO_REQUIRE_BROWSER=1), where that fails."""
    import pytest

    path = find_chromium()
    if path is None:
        reason = ("no Chromium found at /usr/bin/chromium (install Debian's `chromium` "
                  "package; .ci/run does)")
        if os.environ.get("NUONUO_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " but NUONUO_REQUIRE_BROWSER=1", pytrace=False)
        pytest.skip(reason, allow_module_level=True)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(workspaces_dir: str | os.PathLike, timeout: float = 90.0,
                   info: dict | None = None):
    """Yield the base URL of `streamlit run app.py` started from the repo root; stop it after.
    ``info``, if given, receives the server's ``pid``."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NUONUO_WORKSPACES": str(workspaces_dir),
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    log = open(Path(workspaces_dir).parent / f"streamlit-{port}.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py",
                             "--server.port", str(port), "--server.headless", "true",
                             "--server.address", "127.0.0.1",
                             "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    if info is not None:
        info["pid"] = proc.pid
    try:
        deadline = time.time() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}; see {log.name}")
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError(f"streamlit did not start within {timeout:.0f} s")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


# --- playwright page helpers shared by the browser tests and scripts ---------------------------
WAIT_MS = 60_000


def goto(page, title: str, timeout: int = WAIT_MS) -> None:
    """Client-side navigation via the sidebar (a full reload would start a new session)."""
    import re

    page.get_by_role("link", name=re.compile(title)).first.click()
    page.get_by_role("heading", name=re.compile(title)).first.wait_for(timeout=timeout)


def idle(page, timeout: int = WAIT_MS) -> None:
    """Wait until the app has finished its current run (the status widget is hidden)."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=timeout)
