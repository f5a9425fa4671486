"""Finding 6 - encoder discrimination gap on the paraphrase set.

For each query q of fact i: cos(q, cue_i) is a *matching* pair, cos(q, cue_j), j ≠ i, are
*non-matching* pairs. gap = mean(matching) − mean(non-matching); also reported: the
fraction of queries whose own cue is the nearest cue ("nn_accuracy") and, for a harder
contrast, the gap against the other facts about the same person ("same_subject_gap").
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .registry import Progress, experiment, option, validate_fields
from .paraphrase import ASSET, ENCODERS, embed, load_facts


@dataclass(frozen=True)
class EncoderGapConfig:
    encoders: tuple[str, ...] = option(("minilm", "hashing"), choices=ENCODERS)
    asset: str = str(ASSET)

    def __post_init__(self) -> None:
        validate_fields(self)


def _subject(cue: str) -> str:
    first = cue.split()[0]
    return first[:-2] if first.endswith("'s") else first


@experiment("encoder_gap", EncoderGapConfig,
            data="the hand-written fact set (nuonuo_core/data/paraphrase_facts.json): statements "
                 "about people and questions a person would ask about them, embedded by each "
                 "encoder",
            title="Encoder discrimination gap: mean cos(match) - mean cos(non-match)",
            reported="no figure given (gap per encoder)")
def run_encoder_gap(cfg: EncoderGapConfig, seed: int = 0, progress: Progress = None
                    ) -> list[dict]:
    """One row per encoder. ``seed`` is unused (the measurement is deterministic)."""
    facts = load_facts(cfg.asset)
    cues = [f["cue"] for f in facts]
    queries = [q for f in facts for q in f["queries"]]
    owner = np.array([i for i, f in enumerate(facts) for _ in f["queries"]])
    subj = np.array([_subject(c) for c in cues])
    rows = []
    for j, enc in enumerate(cfg.encoders):
        vec = embed(enc, queries + cues)
        sims = vec[:len(queries)] @ vec[len(queries):].T  # (n_queries, n_facts)
        match = np.zeros_like(sims, dtype=bool)
        match[np.arange(len(queries)), owner] = True
        same = (subj[None, :] == subj[owner][:, None]) & ~match
        m, nm = sims[match].mean(), sims[~match].mean()
        rows.append({"encoder": enc, "mean_match": float(m), "mean_nonmatch": float(nm),
                     "gap": float(m - nm),
                     "same_subject_gap": float(m - sims[same].mean()) if same.any()
                     else float("nan"),
                     "nn_accuracy": float(np.mean(sims.argmax(1) == owner)),
                     "n_facts": len(facts), "n_queries": len(queries)})
        if progress is not None:
            progress(j + 1, len(cfg.encoders))
    return rows
