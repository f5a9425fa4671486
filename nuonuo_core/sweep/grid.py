"""A sweep grid: an experiment, fixed parameters, grid axes and seeds -> ordered tasks.

A comma list given to a *scalar* field is a grid axis. A *tuple* field passes through whole to
every task, unless the experiment's config names it in ``sweep_split`` (noise: ``noise_stds``):
then each of its values is its own task, and since the experiment measures each value
independently, the records equal one run with the whole tuple. Tasks are ordered as the
product of the axes (in the order given), seeds innermost; that order is the output order.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..experiments import (Experiment, canonical_params, check, field_specs, get_experiment,
                           parse_text)
from ..experiments.values import parse_seeds  # noqa: F401  (grid.parse_seeds, sweep.parse_seeds)
from ..experiments.values import distinct_values as _distinct
from ..experiments.values import split_values as _split
from ..limits import LIMITS

# Bounds from the one table of limits (nuonuo_core/limits.py); the lab page passes a smaller
# max_tasks. A seed is the engine's: [0, 2**32 - 1].
MAX_TASKS = int(LIMITS["grid_tasks"].hi)
MAX_SEED = int(LIMITS["seed"].hi)


def code_version() -> str:
    """A short hash of every nuonuo_core source file: results are keyed by it."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:12]


@dataclass(frozen=True)
class Task:
    """One grid point x seed: ``params`` are the experiment's coerced keyword arguments."""

    index: int
    params: dict
    seed: int
    key: str

    def label(self, axes: tuple[str, ...]) -> str:
        bits = [f"{a}={_show(self.params[a])}" for a in axes]
        return " ".join(bits + [f"seed={self.seed}"])


def task_key(experiment: str, func_ref: str, params: dict, seed: int, version: str) -> str:
    """The key of one task: a hash of (experiment, function, parameters, seed, code version)."""
    blob = json.dumps({"experiment": experiment, "func": func_ref,
                       "params": {k: params[k] for k in sorted(params)}, "seed": seed,
                       "code": version}, sort_keys=True, default=list)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _show(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


def _ref(obj: Any) -> str:
    return f"{obj.__module__}:{obj.__qualname__}"


@dataclass(frozen=True)
class Grid:
    """A validated sweep: every grid point's config was built (and range-checked) up front."""

    experiment: str
    func_ref: str             # "module:qualname" of the experiment function
    config_ref: str           # "module:qualname" of its config class
    fixed: dict
    axes: tuple[tuple[str, tuple], ...]
    seeds: tuple[int, ...]
    version: str

    @property
    def axis_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.axes)

    @property
    def n_tasks(self) -> int:
        return math.prod(len(v) for _, v in self.axes) * len(self.seeds)

    def tasks(self) -> list[Task]:
        out = []
        names = self.axis_names
        for point in itertools.product(*(v for _, v in self.axes)):
            params = {**self.fixed, **dict(zip(names, point))}
            for seed in self.seeds:
                out.append(Task(len(out), params, seed, self._key(params, seed)))
        return out

    def _key(self, params: dict, seed: int) -> str:
        return task_key(self.experiment, self.func_ref, params, seed, self.version)

    def config_cls(self) -> type | None:
        """The config dataclass the grid's tasks are built with (None if it cannot load)."""
        from .task import resolve
        try:
            return resolve(self.config_ref)
        except (ImportError, AttributeError):
            return None

    def signature(self) -> str:
        """A hash of (experiment, grid, seeds, code version): the lab's cache key."""
        blob = json.dumps({"experiment": self.experiment, "func": self.func_ref,
                           "fixed": self.fixed, "axes": self.axes, "seeds": self.seeds,
                           "code": self.version}, sort_keys=True, default=list)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def cli_args(self) -> list[str]:
        """The ``python -m nuonuo_core.sweep`` arguments that rebuild this grid."""
        args = [self.experiment]
        for name, value in self.fixed.items():
            args += [f"--{name}", _show(value)]
        for name, values in self.axes:
            args += [f"--{name}", ",".join(_show(v) for v in values)]
        return args + ["--seeds", ",".join(map(str, self.seeds))]


def build_grid(experiment: str | Experiment, params: dict[str, Any], seeds: Any = (0,),
               max_tasks: int = MAX_TASKS) -> Grid:
    """Parse CLI-style values into a validated Grid (ValueError names the bad value/range)."""
    exp = get_experiment(experiment) if isinstance(experiment, str) else experiment
    specs = field_specs(exp.config_cls)
    try:
        params = canonical_params(exp.config_cls, params)     # old names (k) read as today's
    except ValueError as exc:
        raise ValueError(str(exc).replace(f"for {exp.config_cls.__name__}",
                                          f"for {exp.name!r}")) from None
    splittable = set(getattr(exp.config_cls, "sweep_split", ()))
    fixed, axes = {}, []
    for name, raw in params.items():
        spec = specs[name]
        if spec.is_tuple:
            whole = parse_text(spec, _split(name, raw))
            if name in splittable and len(whole) > 1:
                axes.append((name, _distinct(name, [(v,) for v in whole])))
            else:
                fixed[name] = whole
        else:
            values = _distinct(name, [parse_text(spec, v) for v in _split(name, raw)])
            if len(values) > 1:
                axes.append((name, values))
            else:
                fixed[name] = values[0]
    seed_list = parse_seeds(seeds)
    n = math.prod(len(v) for _, v in axes) * len(seed_list)
    check(n <= max_tasks, f"the grid has {n} tasks (points x seeds); at most {max_tasks} allowed")
    grid = Grid(exp.name, _ref(exp.func), _ref(exp.config_cls), fixed, tuple(axes), seed_list,
                code_version())
    for point in itertools.product(*(v for _, v in axes)):  # every point is a valid config
        chosen = dict(zip(grid.axis_names, point))
        try:
            exp.config_cls(**{**fixed, **chosen})
        except (TypeError, ValueError) as exc:
            where = " ".join(f"{k}={_show(v)}" for k, v in chosen.items())
            raise ValueError(f"{where}: {exc}" if where else str(exc)) from None
    return grid
