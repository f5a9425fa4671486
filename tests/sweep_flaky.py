"""A test-only experiment for the sweep tests: fails where told, logs every execution.

Importable by spawned workers (their sys.path is the test run's), so it needs no registry
entry: a Grid names its function and config by module path.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from nuonuo_core.experiments import Experiment, check_range, validate_fields


@dataclass(frozen=True)
class FlakyConfig:
    x: int = 0
    scale: float = 1.0
    tags: tuple[str, ...] = ("a",)
    fail_at: int = -1          # always fails when x == fail_at
    fail_once_dir: str = ""    # fails the first time each point runs (a marker file per x)
    log_dir: str = ""          # one file per execution: <x>_<seed>_<n>.pid holding the pid
    sleep_s: float = 0.0

    def __post_init__(self) -> None:
        validate_fields(self)
        check_range(self, "x", 0, 1000)
        check_range(self, "sleep_s", 0.0, 30.0)


def run_flaky(cfg: FlakyConfig, seed: int = 0, progress=None) -> list[dict]:
    if cfg.log_dir:
        n = len(list(Path(cfg.log_dir).glob(f"{cfg.x}_{seed}_*")))
        (Path(cfg.log_dir) / f"{cfg.x}_{seed}_{n}.pid").write_text(str(os.getpid()))
    time.sleep(cfg.sleep_s)
    if cfg.x == cfg.fail_at:
        raise RuntimeError(f"fail_at hit at x={cfg.x}")
    if cfg.fail_once_dir:
        marker = Path(cfg.fail_once_dir) / f"{cfg.x}_{seed}.failed"
        if not marker.exists():
            marker.write_text("1")
            raise RuntimeError(f"first attempt fails at x={cfg.x}")
    return [{"x": cfg.x, "tag": t, "value": cfg.x * 10 + seed * cfg.scale} for t in cfg.tags]


FLAKY = Experiment("flaky", run_flaky, FlakyConfig, "Test-only flaky experiment", "")
