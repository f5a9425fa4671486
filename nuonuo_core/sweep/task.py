"""What a worker runs: one grid point x seed through the experiment function.

Top-level and import-light so that spawned processes and Ray workers can load it. Every task
runs torch with one thread on every backend, so a grid gives bit-identical records wherever it
runs (and parallel tasks do not oversubscribe the cores).
"""
from __future__ import annotations

import importlib
import signal
from typing import Any


def resolve(ref: str) -> Any:
    """'package.module:Qual.name' -> the object."""
    module, _, qual = ref.partition(":")
    obj = importlib.import_module(module)
    for part in qual.split("."):
        obj = getattr(obj, part)
    return obj


def run_task(experiment: str, func_ref: str, config_ref: str, params: dict,
             seed: int) -> list[dict]:
    """The experiment's records for one task, each with ``experiment`` first and ``seed``."""
    import torch

    torch.set_num_threads(1)
    cfg = resolve(config_ref)(**params)
    rows = resolve(func_ref)(cfg, int(seed), None)
    return [{"experiment": experiment, **row, "seed": int(seed)} for row in rows]


def ignore_sigint() -> None:
    """Pool initializer: Ctrl-C reaches the whole process group; only the driver handles it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
