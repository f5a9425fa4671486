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
    """The experiment's records for one task (each with every parameter of its config, as
    :func:`nuonuo_core.experiments.run_experiment` gives them), ``experiment`` first and
    ``seed`` last."""
    import sys

    from nuonuo_core.experiments.registry import record

    func, cfg_cls = resolve(func_ref), resolve(config_ref)
    if "torch" in sys.modules:   # the experiment's module imported it
        sys.modules["torch"].set_num_threads(1)
    cfg = cfg_cls(**params)
    rows = func(cfg, int(seed), None)
    return [{"experiment": experiment, **record(cfg, **row), "seed": int(seed)} for row in rows]


def ignore_sigint() -> None:
    """Pool initializer: Ctrl-C reaches the whole process group; only the driver handles it.
    Also one BLAS/OpenMP thread per worker, like Ray's workers."""
    import os

    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"
    signal.signal(signal.SIGINT, signal.SIG_IGN)
