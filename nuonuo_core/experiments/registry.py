"""The experiments registry and everything it reads from a config dataclass.

An experiment is a plain function ``fn(config, seed, progress=None) -> list[dict]`` over a
frozen config dataclass, registered with :func:`experiment`::

    @experiment("noise", NoiseConfig, title="...", reported="...", presets={"quick": {...}})
    def run_noise(cfg, seed=0, progress=None): ...

A config field is described once, by its annotation (real types, resolved with
``typing.get_type_hints``: ``int``, ``float``, ``bool``, ``str`` or ``tuple[X, ...]``) and its
default; :func:`option` adds the allowed ``choices`` of a set-like field and old names
(``aliases``, e.g. ``k`` for ``wta_k``). From that one description come the type and choice
checks (:func:`validate_fields`), the text parsing of the command lines and the sweep
(:func:`parse_text`), the argparse options of both command lines (:func:`add_arguments`) and
the parameter columns of every record (:func:`record`).
"""
from __future__ import annotations

import argparse
import math
import re
import typing
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Callable, Mapping

import numpy as np

from ..limits import LIMITS

Progress = Callable[[int, int], None] | None
SCALARS = (int, float, bool, str)
RESERVED = ("list", "summarize")       # command names, not experiments


def check(ok: bool, message: str) -> None:
    """Raise ValueError(message) unless ``ok``."""
    if not ok:
        raise ValueError(message)


def option(default: Any, *, choices: tuple | None = None, aliases: tuple[str, ...] = (),
           help: str = "") -> Any:
    """A config field with its allowed ``choices`` (a str field: one of them; a tuple field:
    a non-empty selection of them), old names it is still read under, and a help line."""
    return field(default=default, metadata={"choices": tuple(choices) if choices else None,
                                            "aliases": tuple(aliases), "help": help})


@dataclass(frozen=True)
class FieldSpec:
    """What a config field is: ``kind`` is the scalar type (of each item for a tuple)."""

    name: str
    kind: type
    is_tuple: bool
    default: Any
    choices: tuple | None = None
    aliases: tuple[str, ...] = ()
    help: str = ""

    @property
    def kind_name(self) -> str:
        return self.kind.__name__

    def default_text(self) -> str:
        return show(self.default)


def show(value: Any) -> str:
    """A value as the command line writes it: tuples as comma lists."""
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


_SPECS: dict[type, dict[str, FieldSpec]] = {}


def field_specs(cls: type) -> dict[str, FieldSpec]:
    """name -> :class:`FieldSpec` of every field of the config dataclass ``cls``, from its
    resolved type hints (never from annotation strings); computed once per class."""
    if cls not in _SPECS:
        _SPECS[cls] = _field_specs(cls)
    return _SPECS[cls]


def _field_specs(cls: type) -> dict[str, FieldSpec]:
    hints = typing.get_type_hints(cls)
    out = {}
    for f in fields(cls):
        t = hints[f.name]
        is_tuple = typing.get_origin(t) is tuple
        kind = typing.get_args(t)[0] if is_tuple else t
        if kind not in SCALARS:
            raise TypeError(f"{cls.__name__}.{f.name}: unsupported type {t!r}; use int, float, "
                            "bool, str or tuple[<one of them>, ...]")
        default = f.default if f.default is not MISSING else None
        meta: Mapping[str, Any] = f.metadata or {}
        out[f.name] = FieldSpec(f.name, kind, is_tuple, default, meta.get("choices"),
                                tuple(meta.get("aliases", ())), meta.get("help", ""))
    return out


def field_kind(annotation: Any) -> tuple[str, bool]:
    """A resolved annotation (``int``, ``tuple[float, ...]``) -> (scalar kind name, is_tuple)."""
    if typing.get_origin(annotation) is tuple:
        return typing.get_args(annotation)[0].__name__, True
    return annotation.__name__, False


def _ok_scalar(value: Any, kind: type) -> bool:
    if kind is bool:
        return isinstance(value, (bool, np.bool_))
    if isinstance(value, (bool, np.bool_)):
        return False
    if kind is int:
        return isinstance(value, (int, np.integer))
    if kind is float:
        return isinstance(value, (int, float, np.number)) and math.isfinite(float(value))
    return isinstance(value, str)


def validate_fields(cfg: Any) -> None:
    """Type-check every field of a config dataclass (tuples non-empty) and its choices."""
    for spec in field_specs(type(cfg)).values():
        value = getattr(cfg, spec.name)
        kind = spec.kind_name
        if spec.is_tuple:
            check(isinstance(value, tuple) and len(value) > 0,
                  f"{spec.name} must be a non-empty tuple of {kind}, got {value!r}")
            items = value
        else:
            items = (value,)
        for v in items:
            check(_ok_scalar(v, spec.kind),
                  f"{spec.name} must {'hold' if spec.is_tuple else 'be a'} {kind}"
                  f"{' values' if spec.is_tuple else ''}, got {v!r}")
            if spec.choices is not None:
                how = "from" if spec.is_tuple else "one of"
                check(v in spec.choices, f"{spec.name} must be {how} {spec.choices}, got {v!r}")


# Config fields named after a value of the engine (MemoryConfig, a night, a recall's noise)
# lie in the engine's range too: the row of the one table of limits (nuonuo_core.limits)
# named here, narrowed by the experiment's own bounds. ``beta`` is not among them: several
# experiments' β is their own model's; those whose β reaches the engine name its row.
ENGINE_LIMITS = {"code_dim": "code_dim", "code_dims": "code_dim", "wta_k": "wta_k",
                 "wta_ks": "wta_k", "embed_dim": "embed_dim", "top_k": "top_k",
                 "importance": "importance", "importance_levels": "importance",
                 "keep_fraction": "keep_fraction", "noise_stds": "noise_std",
                 "query_noise": "noise_std", "test_noise": "noise_std"}


def check_range(cfg: Any, name: str, lo: float | None = None, hi: float | None = None,
                limit: str | None = None) -> None:
    """Every value of field ``name`` (scalar or tuple) lies in [lo, hi], and, for a field
    that reaches the engine (:data:`ENGINE_LIMITS`, or the table's row ``limit``), inside
    the engine's range as well (the two ranges intersected)."""
    lim = LIMITS[limit] if limit else LIMITS.get(ENGINE_LIMITS.get(name, ""))
    lo_open = False
    if lim is not None:
        if lo is None or lo < lim.lo or (lo == lim.lo and lim.lo_open):
            lo, lo_open = lim.lo, lim.lo_open
        hi = lim.hi if hi is None else min(hi, lim.hi)
    value = getattr(cfg, name)
    for v in value if isinstance(value, tuple) else (value,):
        check((lo is None or (v > lo if lo_open else v >= lo)) and (hi is None or v <= hi),
              f"{name} must be in {'(' if lo_open else '['}"
              f"{lo if lo is not None else '-inf'}, {hi if hi is not None else 'inf'}], "
              f"got {v!r}")


def unit_vectors(n: int, d: int, seed: int) -> np.ndarray:
    """(n, d) float32 unit Gaussian vectors, seeded."""
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


# --- text -> values (command lines, sweeps, forms) --------------------------------------------
_INT = re.compile(r"[+-]?[0-9]{1,30}")
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


def parse_scalar(text: Any, kind: type, name: str) -> Any:
    """One value: strings parsed strictly by ``kind`` ("1_000" is no int); others pass."""
    if not isinstance(text, str) or kind is str:
        return text
    s = text.strip()
    if kind is bool:
        check(s.lower() in _TRUE + _FALSE, f"{name} must be true or false, got {text!r}")
        return s.lower() in _TRUE
    if kind is int:
        check(bool(_INT.fullmatch(s)), f"{name} must be int, got {text!r}")
        return int(s)
    try:
        check("_" not in s, "")
        return float(s)
    except ValueError:
        raise ValueError(f"{name} must be float, got {text!r}") from None


def parse_text(spec: FieldSpec, value: Any) -> Any:
    """A field's value from text ('1,2,3' -> (1, 2, 3) for a tuple field) or from values."""
    if spec.is_tuple:
        if isinstance(value, str):
            value = [p for p in value.split(",") if p.strip()]
        elif not isinstance(value, (list, tuple)):
            value = [value]
        return tuple(parse_scalar(v.strip() if isinstance(v, str) else v, spec.kind, spec.name)
                     for v in value)
    return parse_scalar(value, spec.kind, spec.name)


def canonical_params(cls: type, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` with old names (aliases) replaced by field names; unknown names refused."""
    specs = field_specs(cls)
    alias = {a: s.name for s in specs.values() for a in s.aliases}
    out: dict[str, Any] = {}
    for key, value in params.items():
        name = alias.get(key, key)
        check(name in specs, f"unknown parameters for {cls.__name__}: {[key]}; known: "
                             f"{sorted(specs)}")
        check(name not in out, f"{name} is given twice (also as {key!r})")
        out[name] = value
    return out


# --- records --------------------------------------------------------------------------------
def record(cfg: Any, **values: Any) -> dict:
    """One tidy record: the measured ``values`` first, then every parameter of ``cfg`` the
    values do not already carry (a tuple field is left out where the record holds one of its
    items under the field's name or its singular, e.g. ``method`` for ``methods``; otherwise
    it is written as a comma list)."""
    out = dict(values)
    for spec in field_specs(type(cfg)).values():
        if spec.name in out:
            continue
        value = getattr(cfg, spec.name)
        if spec.is_tuple:
            if spec.name.endswith("s") and spec.name[:-1] in out:
                continue
            value = show(value)
        out[spec.name] = value
    return out


# --- the registry ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Experiment:
    """One registered experiment: its function, config class, title and the reported figure;
    ``presets`` are named settings ("seed": the seed code's own, "quick": a short run);
    ``data`` says in one line what data it generates or reads (random unit vectors of
    dimension d, clustered sets, letters, the hand-written fact set …)."""

    name: str
    func: Callable[..., list[dict]]
    config_cls: type
    title: str
    reported: str
    presets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    data: str = ""


EXPERIMENTS: dict[str, Experiment] = {}


def experiment(name: str, config: type, *, title: str, reported: str,
               presets: Mapping[str, Mapping[str, Any]] | None = None, data: str = ""):
    """Register the decorated function as experiment ``name`` (its config class ``config``);
    every preset is checked to build a valid config at registration. ``data``: one line on
    the data the experiment runs on (the lab's Sweep page and ``list`` show it)."""
    check(bool(re.fullmatch(r"[a-z][a-z0-9_]*", name)) and name not in RESERVED,
          f"bad experiment name {name!r}")

    def register(fn: Callable[..., list[dict]]) -> Callable[..., list[dict]]:
        check(name not in EXPERIMENTS, f"experiment {name!r} is registered twice")
        canon = {p: canonical_params(config, v) for p, v in (presets or {}).items()}
        for preset, values in canon.items():
            check(preset != "ours", "'ours' names the defaults; it is no preset")
            config(**values)
        exp = Experiment(name, fn, config, title, reported, canon, " ".join(data.split()))
        EXPERIMENTS[name] = exp
        return fn
    return register


# --- argparse from the dataclass ---------------------------------------------------------------
class _Once(argparse.Action):
    """Store an option's value; refuse it given twice (under any of its names)."""

    def __call__(self, parser, namespace, values, option_string=None):
        if hasattr(namespace, self.dest):
            parser.error(f"{option_string} is given twice")
        setattr(namespace, self.dest, values)


def _converter(spec: FieldSpec) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return parse_text(spec, text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    convert.__name__ = spec.kind_name
    return convert


def option_strings(name: str, aliases: tuple[str, ...] = ()) -> list[str]:
    out = []
    for n in (name,) + aliases:
        for form in (n, n.replace("_", "-")):
            if f"--{form}" not in out:
                out.append(f"--{form}")
    return out


def add_arguments(parser: argparse.ArgumentParser, cls: type, as_text: bool = False,
                  how: Callable[[FieldSpec], str] | None = None) -> None:
    """One ``--name`` option per field of ``cls`` (``-`` and ``_`` both accepted, aliases too),
    absent from the namespace unless given. ``as_text`` keeps values as text (the sweep parses
    comma lists into grid axes); otherwise each is parsed to the field's type. ``how`` adds a
    note per field to its help line."""
    group = parser.add_argument_group(f"parameters of {cls.__name__}")
    for spec in field_specs(cls).values():
        bits = [f"{spec.kind_name}{' list' if spec.is_tuple else ''}",
                f"default {spec.default_text()}"]
        if spec.choices:
            bits.append(f"from {','.join(map(str, spec.choices))}")
        if spec.aliases:
            bits.append(f"old name {', '.join(spec.aliases)}")
        if how is not None:
            bits.append(how(spec))
        text = "; ".join(bits) + (f". {spec.help}" if spec.help else "")
        group.add_argument(*option_strings(spec.name, spec.aliases), dest=spec.name,
                           default=argparse.SUPPRESS, action=_Once,
                           type=str if as_text else _converter(spec),
                           metavar=spec.kind_name.upper(), help=text.replace("%", "%%"))


def given(namespace: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The config parameters given on the command line."""
    return {name: getattr(namespace, name) for name in field_specs(cls)
            if hasattr(namespace, name)}


def presets_text(exp: Experiment) -> str:
    lines = [f"--preset {p}: " + ", ".join(f"{name}={show(v)}" for name, v in values.items())
             for p, values in exp.presets.items()]
    return "\n".join(lines)


__all__ = ["EXPERIMENTS", "Experiment", "FieldSpec", "Progress", "add_arguments",
           "canonical_params", "check", "check_range", "experiment", "field_kind",
           "field_specs", "given", "option", "parse_scalar", "parse_text", "record", "show",
           "unit_vectors", "validate_fields"]
