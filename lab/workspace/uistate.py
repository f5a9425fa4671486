"""The page settings a reload brings back: a small, bounded, validated JSON in the owner's
folder, ``$NUONUO_WORKSPACES/<owner>/_ui.json``, beside the autosaved workspace.

What it holds (:data:`SCHEMA`, one validator per key): the recall controls (query mode, the
typed query up to ``limits.UI_QUERY_CHARS``, the picked memory, noise σ, the noise sweep's
settings), the chain start and hops, the night stepper's settings and its *plan* (which days,
the nights stepped with the settings of each: the stepper is replayed from it, it is
deterministic), the pattern page's controls, its chosen pattern per set, your drawings and the
canvas. Thresholds are not here: they are part of the workspace's config (saved with it).

Rules: a key not in the schema is ignored; a value that fails its check is dropped (the
caller says which settings were reset); a file over ``limits.UI_STATE_BYTES`` or not a JSON
object of this version is refused whole before it is parsed further (the caller starts from
the defaults and says so). Writes are atomic (a unique temporary file renamed over the old
one) under the owner's lock, like the autosave, and refuse to write more than the budget.
Pure: no Streamlit.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Callable

from nuonuo_core.atomic import atomic_write

from lab import limits

from . import files

VERSION = 1
FILE = "_ui.json"
MAX_BYTES = limits.UI_STATE_BYTES
HEX_BITS = re.compile(r"^[0-9a-f]{256}$")          # 1024 pixels, 4 a hex digit
LABEL = re.compile(r"^[A-Za-z0-9 _\-]{1,12}$")     # a drawing's label (lab.patterns.view)
MAX_OWN = limits.OWN_PATTERNS                      # drawings kept (the pattern page)
MAX_SEGMENTS = 32                                  # runs of nights with one setting
MAX_NIGHTS = 5_000                                 # nights replayed at most (PER_DAY 1, ...)
MAX_ID = 2**46                                     # memory ids (the engine's next_id)


@dataclass(frozen=True)
class Field:
    """One saved setting: ``check(value) -> value`` raises ValueError when it is not valid."""

    check: Callable[[Any], Any]
    widget: bool = True       # a widget key: captured from and seeded into session state


def _number(lim) -> Callable[[Any], Any]:
    def check(v):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ValueError("not a number")
        if lim.integer and not (isinstance(v, int) or float(v).is_integer()):
            raise ValueError("not a whole number")
        v = int(v) if lim.integer else float(v)
        if not lim.contains(v):
            raise ValueError("out of range")
        return v
    return check


def _choice(*options) -> Callable[[Any], Any]:
    def check(v):
        for o in options:          # 16 == 16.0 in Python: keep the option's own type
            if type(v) is type(o) and v == o:
                return o
        raise ValueError("not one of the choices")
    return check


def _flag(v):
    if not isinstance(v, bool):
        raise ValueError("not true or false")
    return v


def _text(max_chars: int) -> Callable[[Any], Any]:
    def check(v):
        if not isinstance(v, str) or len(v) > max_chars or "\x00" in v:
            raise ValueError("not a short text")
        return v
    return check


def _memory_id(v):
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < MAX_ID:
        raise ValueError("not a memory id")
    return v


def _ids(max_len: int) -> Callable[[Any], Any]:
    def check(v):
        if not isinstance(v, list) or len(v) > max_len:
            raise ValueError("not a short list")
        return [_memory_id(x) for x in v]
    return check


def _bits(v):
    if not isinstance(v, str) or not HEX_BITS.fullmatch(v):
        raise ValueError("not 256 lower-case hex digits")
    return v


def _own(v):
    if not isinstance(v, list) or len(v) > MAX_OWN:
        raise ValueError(f"not a list of at most {MAX_OWN} drawings")
    out, seen = [], set()
    for item in v:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)
                and LABEL.fullmatch(item[0]) and item[0] not in seen):
            raise ValueError("a drawing needs a unique 1-12 character label")
        seen.add(item[0])
        out.append([item[0], _bits(item[1])])
    return out


_NIGHT_KEYS = ("epochs", "homeostasis", "prune_threshold", "replay_noise", "keep_fraction")
_SOURCES = ("teaching", "assistant", "my workspace")


def _plan(v):
    """The night stepper: {"source", "per_day", "workspace": [memories, id sum] (my
    workspace only, else null), "nights": [[count, epochs, h, θ, σ, keep], …]}."""
    if not isinstance(v, dict) or set(v) != {"source", "per_day", "workspace", "nights"}:
        raise ValueError("not a night plan")
    ws = v["workspace"]
    if ws is not None and not (isinstance(ws, list) and len(ws) == 2
                               and all(isinstance(x, int) and not isinstance(x, bool)
                                       and 0 <= x < 2**62 for x in ws)):
        raise ValueError("not a workspace signature")
    segs = v["nights"]
    if not isinstance(segs, list) or len(segs) > MAX_SEGMENTS:
        raise ValueError(f"more than {MAX_SEGMENTS} runs of nights")
    out, total = [], 0
    for seg in segs:
        if not isinstance(seg, list) or len(seg) != 1 + len(_NIGHT_KEYS):
            raise ValueError("not a run of nights")
        count = _number(limits.Limit("nights", 1, MAX_NIGHTS, True))(seg[0])
        values = [_number(limits.NIGHT[k])(x) for k, x in zip(_NIGHT_KEYS, seg[1:])]
        values = [v if isinstance(v, int) else round(v, 6) for v in values]  # slider steps
        total += count
        out.append([count, *values])
    if total > MAX_NIGHTS:
        raise ValueError(f"more than {MAX_NIGHTS} nights")
    return {"source": _choice(*_SOURCES)(v["source"]),
            "per_day": _number(limits.PAGE["per_day"])(v["per_day"]),
            "workspace": ws, "nights": out}


P = limits.PAGE
N = limits.NIGHT
BETAS = (0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128)
PC_BETAS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 1024)
PC_SETS = ("glyphs", "random", "own")
PC_MAX = {"glyphs": 36, "random": 300, "own": 36}

SCHEMA: dict[str, Field] = {
    # Recall & noise
    "mode": Field(_choice("Pick a stored memory", "Type a query")),
    "query": Field(_text(limits.UI_QUERY_CHARS)),
    "pick": Field(_memory_id),
    "noise": Field(_number(P["noise"])),
    "sweep_max": Field(_number(P["sweep_max"])),
    "sweep_seeds": Field(_number(P["sweep_seeds"])),
    # Multi-hop chains
    "chain_start": Field(_memory_id),
    "hops": Field(_number(P["hops"])),
    # Inside the network
    "beta": Field(_choice(*BETAS)),
    "beta_noise": Field(_number(P["beta_noise"])),
    "beta_query": Field(_memory_id),
    "raster_ids": Field(_ids(16)),
    # Consolidation nights: the controls and the stepper's plan
    "night_source": Field(_choice(*_SOURCES)),
    "per_day": Field(_number(P["per_day"])),
    "epochs": Field(_number(N["epochs"])),
    "homeostasis": Field(_number(N["homeostasis"])),
    "prune": Field(_number(N["prune_threshold"])),
    "replay_noise": Field(_number(N["replay_noise"])),
    "keep": Field(_number(N["keep_fraction"])),
    "metric": Field(_choice("recall", "code_cos")),
    "night_plan": Field(_plan, widget=False),
    # Pattern completion: controls, the chosen pattern of each set (by label), drawings
    "pc_set": Field(_choice(*PC_SETS)),
    **{f"pc_n_{s}": Field(_number(limits.Limit("stored patterns", 1, PC_MAX[s], True)))
       for s in PC_SETS},
    "pc_flip": Field(_number(P["pc_flip"])),
    "pc_occlude": Field(_flag),
    "pc_beta": Field(_choice(*PC_BETAS)),
    "pc_update": Field(_choice("async", "sync")),
    "pc_seed": Field(_number(P["pc_seed"])),
    **{f"pc_t_{s}": Field(_text(12)) for s in PC_SETS},
    "pc_own": Field(_own, widget=False),
    "pc_canvas": Field(_bits, widget=False),
}
WIDGETS = tuple(k for k, f in SCHEMA.items() if f.widget)


def clean(raw: Any) -> tuple[dict, list[str]]:
    """(the valid settings of ``raw``, the names of the known settings that were not valid).
    Unknown keys are ignored; ``raw`` that is not an object gives ({}, ["the file"])."""
    if not isinstance(raw, dict):
        return {}, ["the file"]
    good, bad = {}, []
    for key, value in raw.items():
        field = SCHEMA.get(key) if isinstance(key, str) else None
        if field is None:
            continue
        try:
            good[key] = field.check(value)
        except (ValueError, TypeError, OverflowError):
            bad.append(key)
    return good, bad


def dumps(values: dict) -> bytes:
    """The file's bytes for ``values`` (checked again); ValueError over the budget."""
    good, bad = clean(values)
    if bad:
        raise ValueError(f"page settings not valid: {', '.join(sorted(bad))}")
    data = json.dumps({"version": VERSION, "settings": good}, sort_keys=True,
                      separators=(",", ":"), allow_nan=False,
                      ensure_ascii=False).encode("utf-8")
    if len(data) > MAX_BYTES:
        raise ValueError(f"the page settings take {len(data):,} bytes; at most {MAX_BYTES:,} "
                         f"are saved")
    return data


def loads(data: bytes) -> tuple[dict, list[str]]:
    """Parse a settings file: (settings, names reset). ValueError when the file as a whole
    is refused (too large, not JSON, not this version)."""
    if len(data) > MAX_BYTES:
        raise ValueError(f"it is {len(data):,} bytes; at most {MAX_BYTES:,} are read")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("it is not UTF-8 text") from None
    raw = limits.load_json(text, max_depth=6, max_items=4_000, what="page settings")
    if not isinstance(raw, dict) or raw.get("version") != VERSION \
            or not isinstance(raw.get("settings"), dict):
        raise ValueError(f"it is not a version-{VERSION} settings object")
    return clean(raw["settings"])


def path(owner: str, base=None):
    return files.folder(owner, base) / FILE


def read(owner: str, base=None) -> tuple[dict, list[str]]:
    """The owner's saved settings ({} when there are none) and the names reset; ValueError
    (with the reason) when the file is refused whole."""
    p = path(owner, base)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        return {}, []
    if size > MAX_BYTES:                     # never read a large file into memory
        raise ValueError(f"it is {size:,} bytes; at most {MAX_BYTES:,} are read")
    return loads(p.read_bytes())


def write(owner: str, values: dict, base=None) -> int:
    """Write the owner's settings atomically under the owner's lock; returns the bytes."""
    data = dumps(values)
    with files.owner_lock(owner, base) as home:
        atomic_write(home / FILE, data)
    return len(data)


def jsonable(value):
    """A widget value as JSON keeps it (numpy scalars to Python, tuples to lists); None
    when it cannot be saved."""
    if hasattr(value, "item") and callable(value.item):
        try:
            value = value.item()
        except (ValueError, TypeError):
            return None
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        items = [jsonable(v) for v in value]
        return None if any(v is None for v in items) else items
    return value if isinstance(value, (str, int, float, bool, dict)) else None
