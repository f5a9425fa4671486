"""Reproducible experiments, one per reported finding.

Each experiment is a plain function ``fn(config, seed, progress=None) -> list[dict]`` over a
frozen, validated config dataclass; every record (row) carries all parameters it was measured
under, so ``pandas.DataFrame(records)`` is tidy. The Streamlit pages, the CLI
(``python -m nuonuo_core.experiments``) and the tests all go through :func:`run_experiment`.

Random memories are seeded unit Gaussian vectors (d = 384 unless stated); recall@1 counts a
query as right when the top answer is the memory whose cue it was made from.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Mapping

import numpy as np

Progress = Callable[[int, int], None] | None

_SCALARS = {"int": int, "float": float, "bool": bool, "str": str}


def check(ok: bool, message: str) -> None:
    """Raise ValueError(message) unless ``ok``."""
    if not ok:
        raise ValueError(message)


def field_kind(annotation: Any) -> tuple[str, bool]:
    """A dataclass field annotation -> (scalar kind, is_tuple); e.g. 'tuple[int, ...]'."""
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    text = text.replace(" ", "")
    if text.startswith("tuple["):
        return text[len("tuple["):].split(",")[0].rstrip("]"), True
    return text, False


def _ok_scalar(value: Any, kind: str) -> bool:
    if kind == "bool":
        return isinstance(value, (bool, np.bool_))
    if isinstance(value, (bool, np.bool_)):
        return False
    if kind == "int":
        return isinstance(value, (int, np.integer))
    if kind == "float":
        return isinstance(value, (int, float, np.number)) and math.isfinite(float(value))
    if kind == "str":
        return isinstance(value, str)
    return True


def validate_fields(cfg: Any) -> None:
    """Type-check every field of a config dataclass (tuples must be non-empty)."""
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        kind, is_tuple = field_kind(f.type)
        if is_tuple:
            check(isinstance(value, tuple) and len(value) > 0,
                  f"{f.name} must be a non-empty tuple of {kind}, got {value!r}")
            for v in value:
                check(_ok_scalar(v, kind), f"{f.name} must hold {kind} values, got {v!r}")
        else:
            check(_ok_scalar(value, kind), f"{f.name} must be a {kind}, got {value!r}")


def check_range(cfg: Any, name: str, lo: float | None = None, hi: float | None = None) -> None:
    """Every value of field ``name`` (scalar or tuple) lies in [lo, hi]."""
    value = getattr(cfg, name)
    for v in value if isinstance(value, tuple) else (value,):
        check((lo is None or v >= lo) and (hi is None or v <= hi),
              f"{name} must be in [{lo if lo is not None else '-inf'}, "
              f"{hi if hi is not None else 'inf'}], got {v!r}")


def unit_vectors(n: int, d: int, seed: int) -> np.ndarray:
    """(n, d) float32 unit Gaussian vectors, seeded."""
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@dataclass(frozen=True)
class Experiment:
    """One registered experiment: its function, config class, title and the reported figure."""

    name: str
    func: Callable[..., list[dict]]
    config_cls: type
    title: str
    reported: str
    presets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def _build_registry() -> dict[str, Experiment]:
    import importlib

    items = [  # name, module, function, config class, title, reported figure
        ("noise", "noise", "run_noise", "NoiseConfig",
         "Noise tolerance: recall@1 vs cue noise for hopfield / hebbian / cosine",
         "flat Hebbian 20% -> two-stage Hopfield 100%"),
        ("capacity", "capacity", "run_capacity", "CapacityConfig",
         "Capacity: recall vs memories, k and code_dim; classical Hopfield bound 0.138·N",
         "no figure given; compare with the classical bound 0.138·N"),
        ("multihop", "multihop", "run_multihop", "MultihopConfig",
         "Multi-hop: code cosine at each hop of a chain, vs chains sharing W",
         "6 hops at cosine 1.0"),
        ("sleep_basic", "sleep", "run_basic", "BasicConfig",
         "Sleep (a): 100/500 pairs x 1/3/5/10 epochs, recall before/after, W-norm, sparsity",
         "no figure given (before/after recall, W-norm, sparsity)"),
        ("sleep_noisy_replay", "sleep", "run_noisy_replay", "NoisyReplayConfig",
         "Sleep (b): replay noise x test noise", "no figure given"),
        ("sleep_multi_night", "sleep", "run_multi_night", "MultiNightConfig",
         "Sleep (c): day-1 survival over 7 nights of new learning, selective clearing 30%",
         "no figure given (day-1 recall after 7 nights)"),
        ("sleep_priority", "sleep_decay", "run_priority", "PriorityConfig",
         "Sleep (d): 50 important (5x replay) vs 50 unimportant, homeostasis 0.90, 10 epochs",
         "no figure given (important outlast unimportant)"),
        ("sleep_forgetting", "sleep_decay", "run_forgetting", "ForgettingConfig",
         "Sleep (e): forgetting curve over 10 nights, with vs without replay",
         "no figure given (forgetting curve)"),
        ("sleep_phase", "sleep_phase", "run_phase", "PhaseConfig",
         "Sleep phase map: day-1 survival over homeostasis x prune threshold x nights, "
         "replay vs no replay", "no figure given (where forgetting starts)"),
        ("paraphrase", "paraphrase", "run_paraphrase", "ParaphraseConfig",
         "Paraphrase augmentation: recall@1 vs stored cue variants (assets set)",
         "55% -> 100%"),
        ("encoder_gap", "encoders_gap", "run_encoder_gap", "EncoderGapConfig",
         "Encoder discrimination gap: mean cos(match) - mean cos(non-match)",
         "no figure given (gap per encoder)"),
        ("spiking", "spiking", "run_spiking", "SpikingConfig",
         "Spiking encoder: embedding -> spike train -> embedding, cosine vs time steps",
         "cosine 0.99"),
        ("pattern_completion", "pattern_completion", "run_pattern_completion",
         "PatternCompletionConfig",
         "Pattern completion on ±1 images: overlap after settling vs stored patterns, "
         "classical / modern Hopfield / hybrid",
         "classical bound 0.138·N (Amit et al.); modern: exponential capacity"),
    ]
    out = {}
    for name, module, func, cls, title, reported in items:
        mod = importlib.import_module(f"{__name__}.{module}")
        presets = getattr(mod, "PRESETS", {}).get(name, {})
        out[name] = Experiment(name, getattr(mod, func), getattr(mod, cls), title, reported,
                               presets)
    return out


def _coerce(value: Any, kind: str, is_tuple: bool, name: str) -> Any:
    """CLI strings / lists -> the field's type ('1,2,3' -> (1, 2, 3))."""
    def one(v: Any) -> Any:
        if not isinstance(v, str) or kind == "str":
            return v
        try:
            if kind == "bool":
                if v.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(v)
                return v.lower() in ("true", "1", "yes")
            return _SCALARS[kind](v) if kind in _SCALARS else v
        except ValueError:
            raise ValueError(f"{name} must be {kind}, got {v!r}") from None
    if is_tuple:
        if isinstance(value, str):
            value = [p for p in value.split(",") if p.strip()]
        elif not isinstance(value, (list, tuple)):
            value = [value]
        return tuple(one(v.strip() if isinstance(v, str) else v) for v in value)
    return one(value)


OURS = "ours"  # the label of a run without a preset: our own defaults


def resolve_params(name: str, preset: str | None = None, **params: Any) -> dict[str, Any]:
    """The preset's overrides (none for ``None`` / "ours") with ``params`` on top."""
    exp = get_experiment(name)
    if preset in (None, OURS):
        return dict(params)
    check(preset in exp.presets, f"unknown preset {preset!r} for {name!r}; known: "
          f"{sorted(exp.presets) + [OURS]}")
    return {**exp.presets[preset], **params}


def make_config(name: str, preset: str | None = None, **params: Any) -> Any:
    """Build experiment ``name``'s config from a preset (e.g. "seed") and params (strings
    and lists are coerced; params override the preset's values)."""
    exp = get_experiment(name)
    params = resolve_params(name, preset, **params)
    kinds = {f.name: field_kind(f.type) for f in fields(exp.config_cls)}
    unknown = sorted(set(params) - set(kinds))
    check(not unknown, f"unknown parameters for {name!r}: {unknown}; known: {sorted(kinds)}")
    kw = {k: _coerce(v, *kinds[k], k) for k, v in params.items()}
    return exp.config_cls(**kw)


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
    df = pd.DataFrame(rows)
    df.insert(0, "experiment", name)
    df.insert(1, "preset", preset or OURS)
    df.insert(2, "changed", _changed(name, preset, cfg))
    for f in fields(cfg):
        if f.name not in df.columns:
            value = getattr(cfg, f.name)
            df[f.name] = ",".join(map(str, value)) if isinstance(value, tuple) else value
    df["seed"] = int(seed)
    return df


EXPERIMENTS: dict[str, Experiment] = _build_registry()

__all__ = ["EXPERIMENTS", "OURS", "Experiment", "run_experiment", "make_config",
           "get_experiment", "resolve_params"]
