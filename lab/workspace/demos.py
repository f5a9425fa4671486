"""Demo sets shipped in ``assets/`` (JSON lists of {cue, target, paraphrases, importance})."""
from __future__ import annotations

from pathlib import Path

from lab import limits

from . import memory_rows

ASSETS = Path(__file__).resolve().parents[2] / "assets"
DEMOS = {
    "assistant": ("Personal assistant", "demo_assistant.json",
                  "Facts a personal assistant should remember about its user."),
    "chains": ("Association chains", "demo_chains.json",
               "Chains A→B→C…: each target is the next memory's cue (for multi-hop)."),
    "teaching": ("Teaching set", "demo_teaching.json",
                 "Short facts on three topics, with paraphrases, for classroom demos."),
}


def load(key: str) -> list[memory_rows.MemoryRow]:
    if key not in DEMOS:
        raise KeyError(f"unknown demo set {key!r}; choose one of {sorted(DEMOS)}")
    result = memory_rows.parse((ASSETS / DEMOS[key][1]).read_bytes(), "json")
    if result.errors:  # shipped data must be clean
        raise ValueError(f"demo set {key!r} has bad rows: {result.errors[:3]}")
    return result.rows


def texts() -> list[str]:
    """Every text of every demo set (cues, targets, paraphrases), in order, repeats kept."""
    return [t for key in DEMOS for r in load(key)
            for t in (r.cue, *([r.target] if r.target else []), *r.paraphrases)]


def split_days(rows: list[memory_rows.MemoryRow], per_day) -> list[list[memory_rows.MemoryRow]]:
    per_day = limits.number("memories per day", per_day, *limits.PER_DAY, integer=True)
    return [rows[i:i + per_day] for i in range(0, len(rows), per_day)]


def chain_rows(text: str) -> list[memory_rows.MemoryRow]:
    """Lines of comma- or arrow-separated items ``A, B, C`` -> memories A→B, B→C."""
    rows = []
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        parts = [p.strip() for p in line.replace("->", ",").replace("→", ",").split(",")]
        parts = [p for p in parts if p]
        if len(parts) < 2:
            raise ValueError(f"line {n}: a chain needs at least two items, got {line!r}")
        rows += [memory_rows.make_row(a, b) for a, b in zip(parts, parts[1:])]
    if not rows:
        raise ValueError("no chain given: write items like 'A, B, C' (one chain per line)")
    return rows
