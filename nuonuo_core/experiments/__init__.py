"""Reproducible experiments, one per reported finding.

Each experiment is a plain function ``fn(config, seed, progress=None) -> list[dict]`` over a
frozen, validated config dataclass; every record (row) carries all parameters it was measured
under, so ``pandas.DataFrame(records)`` is tidy. The Streamlit pages, the CLI
(``python -m nuonuo_core.experiments``) and the tests all go through :func:`run_experiment`.

Random memories are seeded unit Gaussian vectors (d = 384 unless stated); recall@1 counts a
query as right when the top answer is the memory whose cue it was made from.
"""
from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np

from .registry import (EXPERIMENTS, Experiment, FieldSpec, Progress, add_arguments,
                       canonical_params, check, check_range, experiment, field_kind,
                       field_specs, option, parse_text, record, show, unit_vectors,
                       validate_fields)


OURS = "ours"  # the label of a run without a preset: our own defaults


def resolve_params(name: str, preset: str | None = None, **params: Any) -> dict[str, Any]:
    """The preset's overrides (none for ``None`` / "ours") with ``params`` on top (old field
    names in ``params`` override the preset's values under the new ones)."""
    exp = get_experiment(name)
    if preset in (None, OURS):
        return dict(params)
    check(preset in exp.presets, f"unknown preset {preset!r} for {name!r}; known: "
          f"{sorted(exp.presets) + [OURS]}")
    mine = canonical_params(exp.config_cls, params)
    return {**exp.presets[preset], **mine}


def make_config(name: str, preset: str | None = None, **params: Any) -> Any:
    """Build experiment ``name``'s config from a preset (e.g. "seed") and params (text and
    lists are parsed by each field's type; old names such as ``k`` for ``wta_k`` are read;
    params override the preset's values)."""
    exp = get_experiment(name)
    cls = exp.config_cls
    params = resolve_params(name, preset, **params)
    try:
        params = canonical_params(cls, params)
    except ValueError as exc:
        raise ValueError(str(exc).replace(f"for {cls.__name__}", f"for {name!r}")) from None
    specs = field_specs(cls)
    return cls(**{name: parse_text(specs[name], v) for name, v in params.items()})


def get_experiment(name: str) -> Experiment:
    check(name in EXPERIMENTS, f"unknown experiment {name!r}; known: {sorted(EXPERIMENTS)}")
    return EXPERIMENTS[name]


def _changed(name: str, preset: str | None, cfg: Any) -> str:
    """Comma-separated fields of ``cfg`` that differ from the preset (or our defaults)."""
    base = make_config(name, preset)
    return ",".join(f.name for f in fields(cfg) if getattr(cfg, f.name) != getattr(base, f.name))


def run_experiment(name: str, seed: int = 0, progress: Progress = None,
                   preset: str | None = None, **params: Any):
    """Run one experiment and return its tidy records as a pandas DataFrame.

    ``preset`` names a set of settings (``"seed"``: the seed code's own) that ``params``
    may override. Columns added to every record: ``preset`` ("seed" / "ours"), ``changed``
    (fields set away from that preset, comma-separated, "" if none), every config field
    the rows do not carry already (tuples joined with ","), and ``seed``."""
    import pandas as pd

    check(isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0,
          f"seed must be an int >= 0, got {seed!r}")
    cfg = make_config(name, preset, **params)
    rows = get_experiment(name).func(cfg, int(seed), progress)
    df = pd.DataFrame([record(cfg, **r) for r in rows])
    df.insert(0, "experiment", name)
    df.insert(1, "preset", preset or OURS)
    df.insert(2, "changed", _changed(name, preset, cfg))
    df["seed"] = int(seed)
    return df


# registering order = the order of ``list``
from . import (noise, capacity, multihop, sleep, sleep_decay, sleep_phase,  # noqa: E402,F401
               paraphrase, encoders_gap, spiking, pattern_completion, single_hop_value,
               hebbian_capacity, modern_capacity, sleep_interference)
from .summary import summarize  # noqa: E402

__all__ = ["EXPERIMENTS", "OURS", "Experiment", "FieldSpec", "Progress", "add_arguments",
           "check", "check_range", "experiment", "field_kind", "field_specs", "get_experiment",
           "make_config", "option", "parse_text", "record", "resolve_params", "run_experiment",
           "show", "summarize", "unit_vectors", "validate_fields"]
