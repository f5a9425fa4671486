"""When to answer: match scores of held and unheld questions, and the answer thresholds.

Data: ``tests/fixtures/calibration.json`` (hand-written; README, "When to answer"). For each
shipped demo set it holds questions the set holds in new words (``held``: the question and
the stored cue of the memory that answers it) and questions of the same style the set does
not hold (``unheld``); each item is in the ``tune`` or the ``test`` half.

Each demo set is stored in its own memory (as the lab loads it); every question is recalled
once per method without abstention, keeping the method's best answer and its match score.
A threshold t then answers a question when its score >= t:

* paraphrase *right*: answered with the memory it paraphrases; *wrong*: answered with
  another; *abstained*: not answered. unheld *abstained*: not answered (what we want).
* the default threshold of a method is chosen on the tune half: on the grid 0.00, 0.01, …,
  1.00 the threshold that maximises min(paraphrases right, unheld abstained) (the issue's
  two targets weigh alike); among equal ones, the middle one.

    python -m nuonuo_core.bench calibration [--data tests/fixtures/calibration.json]
        [--no-word-match]

The questions are recalled as texts, as a user asks them. With ``MemoryConfig.word_match``
(the default) hopfield / cosine scores are cue cosine × word coverage
(:mod:`nuonuo_core.wordmatch`) against ``min_score_words``; ``--no-word-match`` scores the
cue cosine alone against ``min_score_<method>``. Hebbian is the same either way.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from nuonuo_core.config import METHODS, NO_ABSTENTION, WORD_METHODS

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "fixtures" / "calibration.json"
ASSETS = ROOT / "assets"
GRID = tuple(round(0.01 * i, 2) for i in range(101))


def load(path: str | Path = DATA) -> dict:
    """The calibration file: {"sets": {name: {"asset", "held": [{q, cue, split}],
    "unheld": [{q, split}]}}}."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    for name, s in data["sets"].items():
        for group in ("held", "unheld"):
            for it in s[group]:
                if it.get("split") not in ("tune", "test") or not it.get("q") \
                        or (group == "held") != ("cue" in it):
                    raise ValueError(f"calibration set {name!r}: bad {group} item {it!r}")
    return data


def demo_memory(asset: str | Path, encoder, config=None):
    """A fresh memory holding one demo set (a JSON list of {cue, target, paraphrases,
    importance}) -> (memory, {cue text: id})."""
    from nuonuo_core import HybridMemory, MemoryConfig

    rows = json.loads(Path(asset).read_text(encoding="utf-8"))
    mem = HybridMemory(config or MemoryConfig(device="cpu"), encoder=encoder)
    ids = mem.add([r["cue"] for r in rows], targets=[r.get("target") or r["cue"] for r in rows],
                  paraphrases=[r.get("paraphrases", []) for r in rows],
                  importance=[r.get("importance", 1.0) for r in rows])
    return mem, {r["cue"]: i for r, i in zip(rows, ids)}


def score(data: dict, encoder, methods: Sequence[str] = METHODS, config=None,
          assets: str | Path = ASSETS) -> list[dict]:
    """One record per (method, question): set, group ("held" / "unheld"), split, q, method,
    best (the method's best answer without abstention, -1 if none), score (its match
    score), want (the id of the memory a held question paraphrases, else -1)."""
    out = []
    for name, s in data["sets"].items():
        mem, by_cue = demo_memory(Path(assets) / s["asset"], encoder, config)
        for group in ("held", "unheld"):
            items = s[group]
            if not items:
                continue
            # word match scores text queries (their words matter); without it texts and
            # their vectors recall alike: vectors, encoded once (and a caller's encoder may
            # be a plain function)
            texts = [it["q"] for it in items]
            vectors = encoder(texts)
            for method in methods:
                queries = texts if mem.word_match_applies(method) else vectors
                r = mem.recall_details(queries, k=1, method=method, min_score=NO_ABSTENTION)
                for it, best, sc in zip(items, r.best_ids[:, 0], r.best_scores[:, 0]):
                    if group == "held" and it["cue"] not in by_cue:
                        raise ValueError(f"{name}: no stored cue {it['cue']!r}")
                    out.append({"set": name, "group": group, "split": it["split"],
                                "q": it["q"], "method": method, "best": int(best),
                                "score": float(sc) if best >= 0 else 0.0,
                                "want": by_cue[it["cue"]] if group == "held" else -1})
    return out


def _pick(records: Iterable[dict], method: str, split: str | None, group: str) -> list[dict]:
    return [r for r in records if r["method"] == method and r["group"] == group
            and (split is None or r["split"] == split)]


def rates(records: Sequence[dict], method: str, threshold: float,
          split: str | None = None) -> dict:
    """At ``threshold``: paraphrases right / wrong / abstained and unheld abstained (fractions)
    and the counts behind them."""
    held = _pick(records, method, split, "held")
    unheld = _pick(records, method, split, "unheld")
    answered = [r["best"] >= 0 and r["score"] >= threshold for r in held]
    right = sum(a and r["best"] == r["want"] for a, r in zip(answered, held))
    wrong = sum(answered) - right
    quiet = sum(not (r["best"] >= 0 and r["score"] >= threshold) for r in unheld)
    n, u = max(len(held), 1), max(len(unheld), 1)
    return {"method": method, "threshold": threshold, "split": split or "all",
            "n_held": len(held), "n_unheld": len(unheld), "right": right / n,
            "wrong": wrong / n, "abstained": (len(held) - sum(answered)) / n,
            "unheld_abstained": quiet / u}


def choose(records: Sequence[dict], method: str, split: str = "tune",
           grid: Sequence[float] = GRID) -> float:
    """The grid threshold maximising min(right, unheld abstained) on ``split``; the middle of
    the best ones."""
    value = [min(r["right"], r["unheld_abstained"]) for r in
             (rates(records, method, t, split) for t in grid)]
    top = max(value)
    best = [t for t, v in zip(grid, value) if v >= top - 1e-12]
    return best[(len(best) - 1) // 2]


def auc(records: Sequence[dict], method: str, split: str | None = None) -> float:
    """P(score of a held question > score of an unheld one), ties counted half."""
    h = np.array([r["score"] for r in _pick(records, method, split, "held")])
    u = np.array([r["score"] for r in _pick(records, method, split, "unheld")])
    if not len(h) or not len(u):
        return float("nan")
    return float(((h[:, None] > u[None]).sum() + 0.5 * (h[:, None] == u[None]).sum())
                 / (len(h) * len(u)))


def table(records: Sequence[dict], method: str, thresholds: Sequence[float],
          default: float) -> str:
    """Markdown trade-off table of one method: every threshold on the tune half, the held-out
    (test) half and all items."""
    head = " | ".join(f"{half} {col}" for half in ("tune", "held-out") for col in (
        "right", "wrong", "abstained", "unheld abstained"))
    lines = [f"| {method} threshold | {head} | all right | all unheld abstained |",
             "|---:" * 11 + "|"]
    for t in sorted(set(thresholds) | {default}):
        a, b, c = (rates(records, method, t, s) for s in ("tune", "test", None))
        mark = "none (−1)" if t == NO_ABSTENTION else f"{t:.2f}"
        mark = f"**{mark}** (default)" if abs(t - default) < 1e-9 else mark
        cells = [x[key] for x in (a, b) for key in ("right", "wrong", "abstained",
                                                   "unheld_abstained")]
        cells += [c["right"], c["unheld_abstained"]]
        lines.append(f"| {mark} | " + " | ".join(f"{v:.3f}" for v in cells) + " |")
    return "\n".join(lines)


THRESHOLDS = {"hopfield": (NO_ABSTENTION, 0.4, 0.5, 0.55, 0.6, 0.62, 0.65, 0.7, 0.8),
              "cosine": (NO_ABSTENTION, 0.4, 0.5, 0.55, 0.6, 0.62, 0.65, 0.7, 0.8),
              "hebbian": (NO_ABSTENTION, 0.05, 0.1, 0.15, 0.18, 0.2, 0.25, 0.3, 0.5)}

WORD_THRESHOLDS = (NO_ABSTENTION, 0.1, 0.15, 0.18, 0.2, 0.22, 0.25, 0.3, 0.4)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m nuonuo_core.bench calibration",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(DATA), help="calibration JSON (default: %(default)s)")
    ap.add_argument("--assets", default=str(ASSETS), help="folder of the demo sets")
    ap.add_argument("--word-match", action=argparse.BooleanOptionalAction, default=True,
                    help="score hopfield / cosine text recall by word match, threshold "
                         "min_score_words (MemoryConfig's default); --no-word-match: the cue "
                         "cosine alone, threshold min_score_<method>")
    a = ap.parse_args(argv)
    from nuonuo_core import MemoryConfig, get_minilm_encoder

    data = load(a.data)
    cfg = MemoryConfig(device="cpu", word_match=a.word_match)
    methods = METHODS
    recs = score(data, get_minilm_encoder(), methods, config=cfg, assets=a.assets)
    n = {g: sum(len(s[g]) for s in data["sets"].values()) for g in ("held", "unheld")}
    print(f"{n['held']} paraphrases and {n['unheld']} unheld questions over "
          f"{len(data['sets'])} demo sets (tune / test halves)\n")
    for method in methods:
        words = a.word_match and method in WORD_METHODS
        default = cfg.text_min_score(method)
        what = "cue cosine × word coverage" if words else (
            "support × overlap" if method == "hebbian" else "cue cosine")
        print(f"{method} ({what}): default {default:.2f}; chosen on the tune half: "
              f"{choose(recs, method):.2f}; AUC held vs unheld {auc(recs, method):.3f} "
              f"(tune {auc(recs, method, 'tune'):.3f}, held-out {auc(recs, method, 'test'):.3f})")
        grid = WORD_THRESHOLDS if words else THRESHOLDS[method]
        print(table(recs, method, grid, default) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
