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
from nuonuo_core.pattern_hybrid import K as HYBRID_K
from nuonuo_core.pattern_hybrid import HybridPatterns

from lab import limits

N_UNITS, SIDE = 1024, 32
DRAW_SIDE = SIDE          # the canvas paints the 32×32 pixels themselves
SETS = {"glyphs": "Letters", "random": "Random", "own": "Your own"}  # short: narrow columns
MAX_STORED = {"glyphs": len(ps.GLYPHS), "random": 300, "own": len(ps.GLYPHS)}
MAX_OWN = limits.OWN_PATTERNS
HEX_DIGITS = N_UNITS // 4  # a drawing travels as 256 hex digits (4 pixels each)
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
    """A SIDE × SIDE grid of 0/1 (True = ink) -> a (N_UNITS,) ±1 pattern."""
    g = np.asarray(grid)
    if g.shape != (DRAW_SIDE, DRAW_SIDE):
        raise ValueError(f"the drawing must be {DRAW_SIDE}×{DRAW_SIDE} pixels, got {g.shape}")
    ink = np.asarray(g, dtype=bool)
    if not ink.any() or ink.all():
        raise ValueError(f"the drawing has {int(ink.sum())} of {ink.size} pixels inked: "
                         f"ink between 1 and {ink.size - 1} pixels")
    return np.where(ink, 1.0, -1.0).astype(np.float32).reshape(-1)


def ink_of_hex(text) -> np.ndarray:
    """A drawing as the canvas sends it (HEX_DIGITS lower-case hex digits, 4 pixels each,
    row by row, the first pixel in the highest bit) -> (SIDE, SIDE) bool. Whatever a browser
    sends is checked: anything else is refused with a message, never parsed further."""
    if not isinstance(text, str) or len(text) != HEX_DIGITS \
            or any(ch not in "0123456789abcdef" for ch in text):
        shown = repr(text) if not isinstance(text, str) or len(text) <= 40 else \
            repr(text[:37] + "…")
        raise ValueError(f"a drawing must be {HEX_DIGITS} hex digits (0-9, a-f), got "
                         f"{type(text).__name__} {shown}")
    nibbles = np.array([int(ch, 16) for ch in text], dtype=np.uint8)
    bits = (nibbles[:, None] >> np.array([3, 2, 1, 0], dtype=np.uint8)) & 1
    return bits.reshape(SIDE, SIDE).astype(bool)


def hex_of_ink(ink) -> str:
    """(SIDE, SIDE) or (N_UNITS,) ink (bool, or a ±1 pattern: > 0 is ink) -> HEX_DIGITS hex."""
    bits = (np.asarray(ink).reshape(-1) > 0).astype(np.uint8)
    if bits.size != N_UNITS:
        raise ValueError(f"a drawing has {N_UNITS} pixels, got {bits.size}")
    nib = bits.reshape(-1, 4) @ np.array([8, 4, 2, 1], dtype=np.uint8)
    return "".join("0123456789abcdef"[int(v)] for v in nib)


def pattern_of_hex(text) -> np.ndarray:
    """A saved drawing (hex, checked) -> its (N_UNITS,) ±1 pattern."""
    return np.where(ink_of_hex(text).reshape(-1), 1.0, -1.0).astype(np.float32)


BLANK = "0" * HEX_DIGITS


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


def energy_lines(c: Completion, k: int = HYBRID_K) -> dict[str, str]:
    """One line per model defining the energy its panel shows (each model has its own units,
    so each panel has its own axis), with its value at the last step, from the frame."""
    last = {m: float(c.frame[c.frame.model == m].energy.iloc[-1]) for m in c.runs}
    n, p = c.probe.size, len(c.pset.patterns)
    out = {"classical": (f"Classical: E = −½ sᵀWs with W = (1/N) Σ ξξᵀ (N = {n}, zero "
                         f"diagonal): lower when more pixels agree with their field; a stored "
                         f"pattern alone would sit near −N/2 = −{n / 2:g}, crosstalk of the "
                         f"other {p - 1} moves it. Last step: {last['classical']:.1f}."),
           "modern": ("Modern: E = −(1/β) log Σ_μ exp(β x_μᵀξ) + ½‖ξ‖², with x_μ = ξ^μ/√N unit "
                      "vectors: one stored pattern reached alone gives −1 + ½ = −0.5, a blend "
                      f"of several sits higher. Last step: {last['modern']:.3f}.")}
    if "hybrid" in last:
        out["hybrid"] = (f"Hybrid: E = −½ cᵀWc = −½ Σ_μ (c·c_μ)² over k-WTA codes (k = {k}, "
                         f"W = Σ c_μ c_μᵀ): a code equal to one stored code gives −½k² = "
                         f"−{k * k / 2:g}, units shared with other stored codes lower it "
                         f"further. Last step: {last['hybrid']:.1f}.")
    return out


def hybrid_outcome(c: Completion) -> str:
    """What the hybrid did, from its frame: W holds codes, not pixels, so it ends in a stored
    pattern whole (the right one or another) or in nothing (grey)."""
    rows = c.frame[c.frame.model == "hybrid"]
    final = str(rows.state.iloc[-1])
    want = f"pattern {c.pset.labels[c.target]}"
    n = int(rows.step.iloc[-1])
    steps = f"after {n} hop{'s' if n != 1 else ''}"
    if final == want:
        return f"returned {c.pset.labels[c.target]} whole {steps}"
    if final.startswith("pattern "):
        return (f"returned another stored letter whole, {final.split(' ', 1)[1]}, {steps} "
                f"(overlap with {c.pset.labels[c.target]} {rows.overlap.iloc[-1]:.2f}): its "
                f"codes link letters, not pixels, so a probe that drifts ends in a wrong "
                f"letter, never in a blend")
    if final == "nothing recalled":
        return f"recalled nothing {steps} (the grey image): no stored code was close enough"
    return f"ended in {final} {steps}"


def tour_letter(letter: str = "A", n_patterns: int = 10, flip: float = 0.3,
                seed: int = 0, beta: float = 64.0) -> tuple[Completion, str]:
    """The guided-tour stop: corrupt 30 % of a letter among ``n_patterns`` letters; the
    sentence covers every image it sits beside (input, classical, modern, hybrid) and the
    modern model's step strip, computed from the run."""
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
                f"({flip:.0%}) with {n_patterns} letters stored. Modern Hopfield (β = {beta:g}) "
                f"{modern}: {came} (the strip below shows its steps). The classical network "
                f"{classical}{why}. The hybrid (k-WTA codes and W) {hybrid_outcome(c)}.")
    return c, sentence
