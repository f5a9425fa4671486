"""Bulk import of memories from CSV, JSON or plain text, with per-row errors.

Whole-file problems (too big, not UTF-8, malformed CSV/JSON, no ``cue`` column) raise
ValueError; row problems are collected as :class:`RowError` and the good rows still import.
"""
from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field

import pandas as pd

from lab import limits
from nuonuo_core import safejson
from nuonuo_core.limits import LIMITS

MAX_UPLOAD_BYTES = 5 * 2**20   # 5 MB per import (the server's maxUploadSize is 20 MB)
MAX_ROWS = 5000
# what one memory may hold: the engine's limits, so that every memory the engine holds
# exports and imports back whole (export -> import is the identity)
MAX_TEXT = LIMITS["text_chars"].hi         # characters per cue / target / paraphrase
MAX_PARAPHRASES = LIMITS["paraphrases"].hi  # per memory
MAX_TEXTS = 20_000             # texts (cues, targets, paraphrases) encoded by one import
# values one JSON import may hold: each row is an object of at most 4 fields (5 values with
# its separator) plus one value per paraphrase; counted while the JSON is read
MAX_JSON_VALUES = 5 * MAX_ROWS + MAX_TEXTS + 64
FORMATS = ("csv", "json", "text")
# OWASP CSV injection: a cell starting with one of these is a formula in a spreadsheet
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class MemoryRow:
    cue: str
    target: str | None = None
    paraphrases: list[str] = field(default_factory=list)
    importance: float = 1.0


@dataclass
class RowError:
    row: int          # 1-based row / line / item number as the user sees it
    message: str


@dataclass
class ImportResult:
    rows: list[MemoryRow]
    errors: list[RowError]

    def preview(self) -> pd.DataFrame:
        ok = [{"row": i + 1, "status": "ok", "cue": r.cue, "target": r.target or "",
               "paraphrases": " | ".join(r.paraphrases), "importance": r.importance}
              for i, r in enumerate(self.rows)]
        return pd.DataFrame(ok, columns=["row", "status", "cue", "target", "paraphrases",
                                         "importance"])

    def errors_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"row": e.row, "error": e.message} for e in self.errors],
                            columns=["row", "error"])


def check_importance(value) -> float:
    """Importance (replay weight) in (0, 100]; empty means 1. NaN, inf, text, <= 0 and
    > 100 are refused with the range in the message."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 1.0
    return limits.FORMS["importance"].parse(value)


def _text(value, what: str, required: bool) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        value = ""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be text, got {type(value).__name__}")
    value = value.strip()   # the engine stores texts stripped too
    if not value:
        if required:
            raise ValueError(f"{what} is empty")
        return None
    if len(value) > MAX_TEXT:
        raise ValueError(f"{what} is longer than {MAX_TEXT:,} characters")
    return value


def make_row(cue, target=None, paraphrases=None, importance=1.0) -> MemoryRow:
    """Validate one memory; raises ValueError with a message fit for the user."""
    cue = _text(cue, "cue", True)
    target = _text(target, "target", False)
    if paraphrases is None:
        paras: list = []
    elif isinstance(paraphrases, str):
        paras = _paraphrase_cell(paraphrases)
    elif isinstance(paraphrases, list):
        paras = paraphrases
    else:
        raise ValueError(f"paraphrases must be a list or '|'-separated text, "
                         f"got {type(paraphrases).__name__}")
    if len(paras) > MAX_PARAPHRASES:
        raise ValueError(f"paraphrases: at most {MAX_PARAPHRASES} per memory, got {len(paras)}")
    clean = [p for p in (_text(p, "paraphrase", False) for p in paras) if p]
    return MemoryRow(cue, target, clean, check_importance(importance))


def decode(data: bytes) -> str:
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValueError(f"file is {len(data) / 2**20:.1f} MB; the limit is "
                         f"{MAX_UPLOAD_BYTES // 2**20} MB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("file is not UTF-8 text") from None


def guess_format(filename: str) -> str:
    name = filename.lower()
    if name.endswith(".csv"):
        return "csv"
    if name.endswith(".json"):
        return "json"
    return "text"


def parse(data: bytes | str, fmt: str) -> ImportResult:
    """Parse an upload or pasted text in ``fmt`` ("csv", "json" or "text")."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    text = decode(data) if isinstance(data, bytes) else data
    if isinstance(data, str) and len(data.encode("utf-8")) > MAX_UPLOAD_BYTES:
        raise ValueError(f"text is larger than {MAX_UPLOAD_BYTES // 2**20} MB")
    if not text.strip():
        raise ValueError("nothing to import: the file is empty")
    items = {"csv": _csv_items, "json": _json_items, "text": _text_items}[fmt](text)
    if len(items) > MAX_ROWS:
        raise ValueError(f"{len(items)} rows; at most {MAX_ROWS} can be imported at once")
    rows, errors = [], []
    for number, item in items:
        try:
            if isinstance(item, Exception):
                raise item
            rows.append(make_row(**item))
        except ValueError as exc:
            errors.append(RowError(number, str(exc)))
    return ImportResult(rows, errors)


def _csv_items(text: str):
    try:
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        table = [r for r in reader]
    except csv.Error as exc:
        raise ValueError(f"malformed CSV: {exc}") from None
    table = [r for r in table if any(c.strip() for c in r)]
    if not table:
        raise ValueError("nothing to import: the CSV is empty")
    header = [h.strip().lower() for h in table[0]]
    text_cols = [j for j, h in enumerate(header) if h in ("cue", "target", "paraphrases")]
    if "cue" not in header:
        raise ValueError(f"malformed CSV: the first row must be a header with a 'cue' column "
                         f"(optional: target, paraphrases, importance); got {str(table[0])[:80]}")
    unknown = sorted(set(header) - {"cue", "target", "paraphrases", "importance"})
    if unknown:
        raise ValueError(f"malformed CSV: unknown columns {str(unknown)[:80]}")
    items = []
    for i, r in enumerate(table[1:], start=2):
        if len(r) != len(header):
            items.append((i, ValueError(f"has {len(r)} fields, the header has {len(header)}")))
        else:
            for j in text_cols:
                r[j] = unescape_cell(r[j])
            items.append((i, dict(zip(header, r))))
    return items


def _json_items(text: str):
    data = limits.load_json(text, max_items=MAX_JSON_VALUES, max_len=MAX_ROWS,
                            what="the JSON")
    if isinstance(data, dict) and isinstance(data.get("memories"), list):
        data = data["memories"]
    if not isinstance(data, list):
        raise ValueError("malformed JSON: expected a list of {cue, target, paraphrases, "
                         "importance} objects")
    items = []
    for i, obj in enumerate(data, start=1):
        if isinstance(obj, str):
            obj = {"cue": obj}
        if not isinstance(obj, dict):
            items.append((i, ValueError(f"item must be an object, got {type(obj).__name__}")))
            continue
        unknown = sorted(set(obj) - {"cue", "target", "paraphrases", "importance"})
        if unknown:
            items.append((i, ValueError(f"unknown fields {str(unknown)[:80]}")))
            continue
        if "cue" not in obj:
            items.append((i, ValueError("has no cue (every memory needs one)")))
            continue
        items.append((i, obj))
    return items


def _text_items(text: str):
    """One memory per line: ``cue``, ``cue -> target`` or ``cue => target``; '#' comments."""
    items = []
    for i, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        for sep in ("=>", "->", "\t"):
            if sep in line:
                cue, target = line.split(sep, 1)
                items.append((i, {"cue": cue, "target": target}))
                break
        else:
            items.append((i, {"cue": line}))
    return items


def check_work(mem, rows: list[MemoryRow]) -> None:
    """Refuse an addition that would encode too many texts at once or grow the workspace's
    file past what the lab can open again (bounded work and memory per request)."""
    texts = sum(1 + (r.target is not None) + len(r.paraphrases) for r in rows)
    if texts > MAX_TEXTS:
        raise ValueError(f"this import has {texts:,} texts to encode (cues, targets, "
                         f"paraphrases); at most {MAX_TEXTS:,} at once")
    limits.check_room(mem, limits.rows_growth(mem.config, rows), f"adding {len(rows):,} memories")


def add_rows(mem, rows: list[MemoryRow], bounded: bool = True) -> list[int]:
    """Add validated rows to ``mem`` (targets and self-targets in separate batches);
    ``bounded``: refuse more work than :func:`check_work` allows (off for a rebuild, whose
    rows come from a workspace that was bounded when they were added)."""
    if bounded:
        check_work(mem, rows)
    ids: list[int] = []
    for with_target in (True, False):
        group = [r for r in rows if (r.target is not None) == with_target]
        if group:
            ids += mem.add([r.cue for r in group],
                           targets=[r.target for r in group] if with_target else None,
                           paraphrases=[r.paraphrases for r in group],
                           importance=[r.importance for r in group])
    return ids


def memories_frame(mem) -> pd.DataFrame:
    """Every memory of ``mem`` as a table (id, cue, target, paraphrases, importance, day…)."""
    recs = []
    for g in mem.records():
        recs.append({"id": g["id"], "cue": g["cue"] or "", "target": g["target"] or "",
                     "paraphrases": " | ".join(g["paraphrases"]), "importance": g["importance"],
                     "day": g["day"], "in_replay": g["in_replay"]})
    return pd.DataFrame(recs, columns=["id", "cue", "target", "paraphrases", "importance",
                                       "day", "in_replay"])


def rows_of(mem) -> list[MemoryRow]:
    """The text memories of ``mem`` as rows (to replay them into another memory)."""
    return [make_row(g["cue"], g["target"], g["paraphrases"], g["importance"])
            for g in mem.records() if g["cue"]]


COLUMNS = ["cue", "target", "paraphrases", "importance"]


def _paraphrase_cell(cell: str) -> list:
    """A CSV paraphrases cell: a JSON list of strings (what export_csv writes when a
    paraphrase holds '|' or a line break), else texts split on '|' or line breaks."""
    text = cell.strip()
    if text.startswith("["):
        try:
            items = safejson.loads(text, MAX_PARAPHRASES + 2, 1)
        except safejson.TooLarge:
            raise ValueError(f"paraphrases: at most {MAX_PARAPHRASES} per memory") from None
        except ValueError:
            items = None
        if isinstance(items, list) and all(isinstance(p, str) for p in items):
            return items
    return cell.replace("\r\n", "\n").replace("\n", "|").split("|")


def _paraphrase_text(paras: list[str]) -> str:
    if any("|" in p or "\n" in p or "\r" in p for p in paras) or \
            (paras and paras[0].lstrip().startswith("[")):
        return json.dumps(paras, ensure_ascii=False)
    return "|".join(paras)


def escape_cell(text: str) -> str:
    """A text cell safe to open in a spreadsheet (OWASP CSV injection): a cell starting with
    = + - @ tab or CR, after any run of apostrophes, gets one more leading apostrophe, which
    spreadsheets show as text and :func:`unescape_cell` removes again."""
    body = text.lstrip("'")
    return "'" + text if body[:1] in FORMULA_START else text


def unescape_cell(cell: str) -> str:
    """The inverse of :func:`escape_cell` (applied to a stripped cell): one leading
    apostrophe goes when what follows it is an escaped formula start; any other cell, such
    as "'tis", is kept as it is."""
    text = cell.strip()
    if text.startswith("'") and text.lstrip("'")[:1] in FORMULA_START:
        return text[1:]
    return cell


def export_csv(mem) -> str:
    """The workspace's text memories as CSV (cue, target, paraphrases, importance) that
    ``parse(text, "csv")`` reads back to the same memories (every field that holds a line
    break, lone CR included, is quoted; formula-like cells are neutralised, see
    :func:`escape_cell`). Vector-only memories have no text and are left out."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")   # RFC 4180: CR and LF both force quoting
    w.writerow(COLUMNS)
    for g in mem.records():
        if g["cue"]:
            w.writerow([escape_cell(g["cue"]), escape_cell(g["target"] or ""),
                        escape_cell(_paraphrase_text(g["paraphrases"])),
                        repr(float(g["importance"]))])
    return out.getvalue()


def export_json(mem) -> str:
    recs = []
    for g in mem.records():
        recs.append({"cue": g["cue"], "target": g["target"], "paraphrases": g["paraphrases"],
                     "importance": g["importance"]})
    return json.dumps(recs, indent=2, ensure_ascii=False)


def answer_text(mem, memory_id: int) -> str:
    """What a recalled memory says: its target, or its cue for self-associations."""
    if memory_id is None or int(memory_id) < 0:
        return "—"
    g = mem.get(int(memory_id))
    return g["target"] or g["cue"] or f"(vector memory #{memory_id})"
