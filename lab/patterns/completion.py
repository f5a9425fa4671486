"""Pattern-completion sandbox (page 9 and its guided-tour stop): no Streamlit here.

Every model settles the same corrupted probe of one stored pattern; the results come back as a
tidy frame (model, step, energy, overlap, state) plus the image at every step.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nuonuo_core import pattern_sets as ps
from nuonuo_core import patterns as pt
from nuonuo_core.blas import one_blas_thread
from nuonuo_core.experiments import run_experiment
from nuonuo_core.pattern_hybrid import HybridPatterns

N_UNITS, SIDE, DRAW_SIDE = 1024, 32, 16
SETS = {"glyphs": "Letters", "random": "Random", "own": "Your own"}  # short: narrow columns
MAX_STORED = {"glyphs": len(ps.GLYPHS), "random": 300, "own": len(ps.GLYPHS)}
MAX_OWN = 12
MODELS = ("classical", "modern", "hybrid")
MODEL_TITLES = {"classical": "Classical Hopfield", "modern": "Modern Hopfield",
                "hybrid": "Hybrid (k-WTA + W)"}
CAPACITY_LOADS = (0.02, 0.06, 0.10, 0.12, 0.14, 0.16, 0.20, 0.25, 0.30)


def check_int(value, name: str, lo: int, hi: int) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) \
            or not lo <= value <= hi:
        raise ValueError(f"{name} must be an int in [{lo}, {hi}], got {value!r}")
    return int(value)


def stored_set(kind: str, n_patterns: int, seed: int = 0,
               own: list[tuple[str, np.ndarray]] | None = None) -> ps.PatternSet:
    """The stored patterns of a set: random, glyphs, or own (your patterns, then letters)."""
    if kind not in SETS:
        raise ValueError(f"pattern set must be one of {sorted(SETS)}, got {kind!r}")
    n_patterns = check_int(n_patterns, "stored patterns", 1, MAX_STORED[kind])
    if kind == "random":
        return ps.random_set(n_patterns, N_UNITS, seed)
    glyphs = ps.glyph_set(len(ps.GLYPHS), N_UNITS)
    if kind == "glyphs":
        return ps.glyph_set(n_patterns, N_UNITS)
    own = list(own or [])[:MAX_OWN]
    mine = [p for _, p in own][:n_patterns]
    fill = n_patterns - len(mine)
    x = np.concatenate([np.asarray(mine, np.float32).reshape(-1, N_UNITS),
                        glyphs.patterns[:fill]])
    labels = tuple(lbl for lbl, _ in own[:n_patterns]) + glyphs.labels[:fill]
    return ps.PatternSet("own", x, labels, (SIDE, SIDE))


def drawing_pattern(grid) -> np.ndarray:
    """A DRAW_SIDE² grid of 0/1 (True = ink) -> a (N_UNITS,) ±1 pattern, each cell 2×2."""
    g = np.asarray(grid)
    if g.shape != (DRAW_SIDE, DRAW_SIDE):
        raise ValueError(f"the drawing must be {DRAW_SIDE}×{DRAW_SIDE} cells, got {g.shape}")
    ink = np.asarray(g, dtype=bool)
    if not ink.any() or ink.all():
        raise ValueError(f"the drawing has {int(ink.sum())} of {ink.size} cells inked: "
                         f"ink between 1 and {ink.size - 1} cells")
    scale = SIDE // DRAW_SIDE
    return np.where(np.kron(ink, np.ones((scale, scale))) > 0, 1.0, -1.0).astype(
        np.float32).reshape(-1)


def blank_drawing() -> pd.DataFrame:
    """An empty drawing grid for st.data_editor (columns '1'..'16' of booleans)."""
    return pd.DataFrame(np.zeros((DRAW_SIDE, DRAW_SIDE), dtype=bool),
                        columns=[str(i + 1) for i in range(DRAW_SIDE)])


@dataclass
class Completion:
    """One probe settled by each model. runs: model -> Run (one probe);
    frame: model, step, energy, overlap, state (named per step)."""

    pset: ps.PatternSet
    target: int
    probe: np.ndarray
    runs: dict[str, pt.Run]
    frame: pd.DataFrame

    def final_name(self, model: str) -> pt.StateName:
        return pt.name_state(self.runs[model].final[0], self.pset.patterns, self.pset.labels)

    def image(self, model: str, step: int) -> np.ndarray:
        states = self.runs[model].states
        return states[min(step, len(states) - 1)][0]

    @property
    def max_step(self) -> int:
        return max(len(r.states) for r in self.runs.values()) - 1


def complete(pset: ps.PatternSet, target: int, flip: float, occlude: bool, beta: float,
             update: str, seed: int, hybrid: HybridPatterns | None = None,
             max_steps: int = 20, hybrid_hops: int = 3, w: np.ndarray | None = None
             ) -> Completion:
    """Corrupt stored pattern ``target`` and settle it with every model (hybrid if given;
    ``w``: the classical W of the set, if already built)."""
    target = check_int(target, "pattern", 0, len(pset.patterns) - 1)
    x = pset.patterns
    probe = pt.corrupt(x[target:target + 1], flip, seed, occlude, pset.shape)
    with one_blas_thread():
        w = pt.hebbian_weights(x) if w is None else w
        runs = {"classical": pt.classical_run(w, probe, update, max_steps, seed),
                "modern": pt.modern_run(x, probe, beta, max_steps)}
        if hybrid is not None:
            runs["hybrid"] = hybrid.run(probe, hybrid_hops)
    rows = []
    for model, run in runs.items():
        for step, (s, e) in enumerate(zip(run.states, run.energy)):
            rows.append({"model": model, "step": step, "energy": float(e[0]),
                         "overlap": float(pt.overlap(s[0], x[target])),
                         "state": pt.name_state(s[0], x, pset.labels).text,
                         "pattern_set": pset.name, "n_patterns": len(x), "target":
                         pset.labels[target], "flip_fraction": flip, "occlude": occlude,
                         "beta": beta, "update": update, "seed": seed})
    return Completion(pset, target, probe[0], runs, pd.DataFrame(rows))


def capacity_frame(update: str = "async", seed: int = 0, beta: float = 64.0,
                   flip: float = 0.1, n_probes: int = 8, max_steps: int = 20,
                   progress=None) -> pd.DataFrame:
    """Overlap vs load P/N for classical and modern Hopfield on random patterns, N = 1024
    (about 1 s on one thread: see ``nuonuo_core.blas.one_blas_thread``)."""
    n_patterns = ",".join(str(max(1, round(a * N_UNITS))) for a in CAPACITY_LOADS)
    return run_experiment("pattern_completion", seed=seed, progress=progress,
                          pattern_set="random", n_units=N_UNITS, n_patterns=n_patterns,
                          flip_fraction=str(flip), models="classical,modern", beta=beta,
                          update=update, n_probes=n_probes, max_steps=max_steps)


def outcome(c: Completion, model: str) -> str:
    """'restored it at step k (overlap a → b)' or 'ended in … after n steps (…)'."""
    rows = c.frame[c.frame.model == model]
    back = rows[rows.state == f"pattern {c.pset.labels[c.target]}"]
    a, b = rows.overlap.iloc[0], rows.overlap.iloc[-1]
    if len(back) and back.step.iloc[0] > 0 and rows.state.iloc[-1] == back.state.iloc[0]:
        return f"restored it at step {back.step.iloc[0]} (overlap {a:.2f} → {b:.2f})"
    n = int(c.runs[model].steps[0])
    return (f"ended in {rows.state.iloc[-1]} after {n} step{'s' if n != 1 else ''} "
            f"(overlap {a:.2f} → {b:.2f})")


def story(c: Completion) -> str:
    """One sentence per model, from the data shown: where each one ended and how fast."""
    start = float(pt.overlap(c.probe, c.pset.patterns[c.target]))
    parts = [f"{MODEL_TITLES[m]} {outcome(c, m)}" for m in c.runs]
    return (f"Pattern {c.pset.labels[c.target]}, {len(c.pset.patterns)} patterns stored, "
            f"starting at overlap {start:.2f}: " + "; ".join(parts) + ".")


def tour_letter(letter: str = "A", n_patterns: int = 10, flip: float = 0.3,
                seed: int = 0, beta: float = 64.0) -> tuple[Completion, str]:
    """The guided-tour stop: corrupt 30 % of a letter among ``n_patterns`` letters."""
    pset = stored_set("glyphs", n_patterns)
    target = pset.labels.index(letter)
    with one_blas_thread():
        hybrid = HybridPatterns(pset.patterns, seed=seed)
    c = complete(pset, target, flip, False, beta, "async", seed, hybrid)
    flipped = int(round(flip * N_UNITS))
    modern, classical = outcome(c, "modern"), outcome(c, "classical")
    why = "" if classical.startswith("restored") else (
        ": the letters share most of their background pixels, and its Hebbian W cannot "
        "keep such alike patterns apart")
    came = "it came back" if modern.startswith("restored") else "it did not come back"
    sentence = (f"We flipped {flipped} of the {N_UNITS} pixels of the letter {letter} "
                f"({flip:.0%}) with {n_patterns} letters stored, and {came}: modern Hopfield "
                f"(β = {beta:g}) {modern}; the classical network {classical}{why}.")
    return c, sentence
