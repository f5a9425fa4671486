"""The owner's last sweep, kept in their private folder so that a reload brings it back:
``$NUONUO_WORKSPACES/<owner>/last_sweep.json`` (the folder of :mod:`lab.workspace.files`).

One JSON file, replaced atomically (:func:`nuonuo_core.atomic.atomic_write`: a unique
temporary file, fsync, rename) under the owner's lock (``files.owner_lock``: two tabs or two
server processes of one owner read-modify-write it one at a time), with one entry per kind of
run, so a sweep of generated data and a run on the workspace do not push each other out::

    {"version": 1, "source": "generated" | "workspace",
     "generated": {"settings": {...}, "chart": {...}, "grid": [...], "complete": bool,
                   "records": "<CSV>", "saved_at": 1.7e9},
     "workspace": {"settings": {...}, "chart": {...}, "workspace": "name", "memories": 24,
                   "records": "<CSV>", "saved_at": 1.7e9}}

``settings`` are the form's values (text as typed), ``chart`` the chart's choices, ``grid``
the grid's command-line arguments (what the records were computed for). Records are kept up
to :data:`MAX_RECORD_BYTES` of CSV; a larger result keeps its settings only (the sweep cache
still holds the records while it lasts).

Read back as hostile input: at most :data:`MAX_FILE_BYTES`, bounded JSON nesting, every value
type- and size-checked against :data:`SHAPES` (an entry that fails is dropped, and the caller
says so), records at most :data:`MAX_ROWS` rows. The page then rebuilds the grid from the
settings through the form's own parser (``jobs.page_grid``), so a saved file can never ask
for more than the form could. Only the owner's own folder is read or written
(``files.folder`` checks the key). Pure: no Streamlit.
"""
from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import pandas as pd

from nuonuo_core.atomic import atomic_write

from lab import limits
from lab.workspace import files

NAME = "last_sweep.json"
VERSION = 1
KINDS = ("generated", "workspace")
MAX_FILE_BYTES = 8 * 2**20
MAX_RECORD_BYTES = 3 * 2**20
MAX_ROWS = 50_000
MAX_TEXT = 4_000           # characters of one value (the grid's own bound on a value list)
MAX_ITEMS = 64             # entries of one dict or list
MAX_DEPTH = 6

# What each entry may hold: "text" (a string up to MAX_TEXT), "int", "float", "bool",
# "texts" (a list of strings), "map" (names -> text), "args" (a list of strings, the grid).
SHAPES: dict[str, dict[str, str]] = {
    "generated": {"settings": "obj:generated", "chart": "obj:chart", "grid": "texts",
                  "complete": "bool", "records": "records", "saved_at": "float"},
    "workspace": {"settings": "obj:workspace", "chart": "obj:chart", "workspace": "text",
                  "memories": "int", "records": "records", "saved_at": "float"},
}
OBJECTS: dict[str, dict[str, str]] = {
    "generated": {"experiment": "text", "vary": "map", "fixed": "map", "seeds": "text",
                  "backend": "text", "workers": "int"},
    "workspace": {"noise_stds": "text", "seeds": "text", "n_queries": "int",
                  "methods": "texts"},
    "chart": {"metric": "text", "x": "text", "colour": "text", "show": "texts",
              "view": "text", "interval": "text"},
}


def path(owner: str, base=None) -> Path:
    """The owner's last-sweep file (``files.folder`` refuses a bad owner key)."""
    return files.folder(owner, base) / NAME


def _check(value: Any, shape: str, where: str) -> Any:
    def bad(what: str) -> ValueError:
        return ValueError(f"{where}: {what}")
    if shape.startswith("obj:"):
        fields = OBJECTS[shape[4:]]
        if not isinstance(value, dict):
            raise bad("not an object")
        unknown = set(value) - set(fields)
        if unknown:
            raise bad(f"unknown fields {sorted(unknown)[:5]}")
        return {k: _check(v, fields[k], f"{where}.{k}") for k, v in value.items()}
    if shape in ("text", "records"):
        limit = MAX_RECORD_BYTES if shape == "records" else MAX_TEXT
        if not isinstance(value, str) or len(value) > limit:
            raise bad(f"not text of at most {limit} characters")
        return value
    if shape == "int":
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > 2**31:
            raise bad("not a whole number")
        return value
    if shape == "float":
        return limits.number(where, value, 0.0, 1e12)
    if shape == "bool":
        if not isinstance(value, bool):
            raise bad("not true or false")
        return value
    if shape == "texts":
        if not isinstance(value, list) or len(value) > 4 * MAX_ITEMS:
            raise bad("not a short list")
        return [_check(v, "text", f"{where}[]") for v in value]
    if shape == "map":
        if not isinstance(value, dict) or len(value) > MAX_ITEMS:
            raise bad("not a short object")
        return {_check(k, "text", f"{where} key"): _check(v, "text", f"{where}.{k}")
                for k, v in value.items()}
    raise AssertionError(shape)


def load(owner: str, base=None) -> tuple[dict, list[str]]:
    """(the owner's saved entries, problems): ``{"source": ..., "generated": {...},
    "workspace": {...}}`` with only the entries that passed every check; ``problems`` says
    what was dropped (empty when nothing was wrong). No file: ``({}, [])``."""
    p = path(owner, base)
    if not p.is_file():
        return {}, []
    try:
        if p.stat().st_size > MAX_FILE_BYTES:
            raise ValueError(f"larger than {MAX_FILE_BYTES // 2**20} MB")
        data = limits.load_json(p.read_text(encoding="utf-8"), MAX_DEPTH)
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise ValueError("not a saved sweep of this version")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return {}, [f"the saved last sweep could not be read ({exc})"]
    out: dict = {}
    problems = []
    for kind in KINDS:
        if kind not in data:
            continue
        try:
            entry = _entry(kind, data[kind])
        except ValueError as exc:
            problems.append(f"the saved {kind} sweep was dropped ({exc})")
            continue
        out[kind] = entry
    if data.get("source") in out:
        out["source"] = data["source"]
    return out, problems


def _entry(kind: str, value: Any) -> dict:
    if not isinstance(value, dict):
        raise ValueError(f"{kind}: not an object")
    fields = SHAPES[kind]
    unknown = set(value) - set(fields)
    if unknown:
        raise ValueError(f"{kind}: unknown fields {sorted(unknown)[:5]}")
    missing = {"settings", "records"} - set(value)
    if missing:
        raise ValueError(f"{kind}: missing {sorted(missing)}")
    return {k: _check(v, fields[k], f"{kind}.{k}") for k, v in value.items()}


def records_text(df: pd.DataFrame | None) -> str:
    """The records as CSV, or "" when they are larger than MAX_RECORD_BYTES (or absent)."""
    if df is None or len(df) > MAX_ROWS:
        return ""
    text = df.to_csv(index=False)
    return text if len(text) <= MAX_RECORD_BYTES else ""


def records(entry: dict) -> pd.DataFrame | None:
    """An entry's records (None when none were kept or they do not parse)."""
    text = entry.get("records") or ""
    if not text:
        return None
    try:
        df = pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[""],
                         nrows=MAX_ROWS + 1)
    except (ValueError, pd.errors.ParserError):
        return None
    return df if 0 < len(df) <= MAX_ROWS and "seed" in df.columns else None


def save(owner: str, kind: str, entry: dict, base=None) -> Path:
    """Make ``entry`` the owner's last ``kind`` sweep (and ``kind`` the last source); the
    other kind's entry is kept. The entry is checked as :func:`load` would check it, so
    nothing is written that could not be read back; written atomically."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    entry = _entry(kind, {**entry, "saved_at": float(entry.get("saved_at", time.time()))})
    with files.owner_lock(owner, base):   # two tabs saving both kinds: neither is lost
        old, _ = load(owner, base)
        data = {"version": VERSION, "source": kind,
                **{k: old[k] for k in KINDS if k in old and k != kind}, kind: entry}
        blob = json.dumps(data, ensure_ascii=False).encode("utf-8")
        if len(blob) > MAX_FILE_BYTES:        # two large entries: keep only this one
            data = {"version": VERSION, "source": kind, kind: entry}
            blob = json.dumps(data, ensure_ascii=False).encode("utf-8")
        return atomic_write(path(owner, base), blob)
