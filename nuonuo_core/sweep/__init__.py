"""Parameter sweeps over the experiments registry, on this machine or a Ray cluster.

``build_grid(name, {"code_dim": "1024,2048", ...}, seeds="0,1")`` parses CLI-style values into
a validated :class:`Grid`; ``run_sweep(grid, backend="local"|"ray", out=...)`` runs each grid
point x seed as one task of the existing experiment function and returns the records in task
order. ``python -m nuonuo_core.sweep --help`` is the command line. See docs/sweep.md.
"""
from .backends import BACKENDS, cpu_count
from .grid import MAX_TASKS, Grid, Task, build_grid, code_version, parse_seeds
from .runner import Progress, SweepInterrupted, SweepResult, run_sweep
from .output import sidecar_path

__all__ = ["BACKENDS", "MAX_TASKS", "Grid", "Progress", "SweepInterrupted", "SweepResult",
           "Task", "build_grid", "code_version", "cpu_count", "parse_seeds", "run_sweep",
           "sidecar_path"]
