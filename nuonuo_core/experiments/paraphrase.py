"""Finding 5 - paraphrase augmentation: recall@1 vs the number of stored cue variants.

Facts come from ``nuonuo_core/data/paraphrase_facts.json`` (hand-written; every query is a
question a person would ask, never equal to a stored variant). Each fact is stored as its cue
statement plus the first ``n`` variants from :func:`nuonuo_core.paraphrase.paraphrase` (offline
rules), all pointing at the same memory; each query must recall its own fact among all of them.
Texts are embedded once per encoder and stored with ``add_vectors``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nuonuo_core import NO_ABSTENTION, HashingEncoder, get_minilm_encoder
from nuonuo_core.paraphrase import paraphrase

from .engine import ANSWERS, memory
from .registry import Progress, check, check_range, experiment, option, validate_fields

ASSET = Path(__file__).resolve().parents[1] / "data" / "paraphrase_facts.json"
ENCODERS = ("minilm", "hashing", "wordllama")
METHODS = ("hopfield", "cosine", "hebbian")


def load_facts(path: str | Path = ASSET) -> list[dict]:
    """The facts: list of {cue, target, queries: [str, ...]}."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    facts = data["facts"] if isinstance(data, dict) else data
    for i, f in enumerate(facts):
        check(isinstance(f.get("cue"), str) and f["cue"].strip() and f.get("queries"),
              f"fact {i} needs a cue and queries, got {f!r}")
    return facts


def get_encoder(name: str):
    """"minilm" (shared process-wide model), "hashing" (model-free bag of words) or
    "wordllama" (a second neural encoder, 256-d, shipped inside its PyPI package)."""
    check(name in ENCODERS, f"encoder must be one of {ENCODERS}, got {name!r}")
    if name == "wordllama":
        from .wordllama_encoder import WordLlamaEncoder
        return WordLlamaEncoder()
    return get_minilm_encoder() if name == "minilm" else HashingEncoder()


_CACHE: dict[str, dict[str, np.ndarray]] = {}


def embed(name: str, texts: list[str]) -> np.ndarray:
    """(len(texts), d) unit embeddings (d = 384, 256 for wordllama); each text is encoded
    once per encoder and process."""
    cache = _CACHE.setdefault(name, {})
    missing = sorted(set(texts) - set(cache))
    if missing:
        cache.update(zip(missing, get_encoder(name)(missing)))
    return np.stack([cache[t] for t in texts])


@dataclass(frozen=True)
class ParaphraseConfig:
    n_variants: tuple[int, ...] = (0, 1, 3, 5, 8)
    encoders: tuple[str, ...] = option(("minilm",), choices=ENCODERS)
    methods: tuple[str, ...] = option(("hopfield", "cosine"), choices=METHODS)
    code_dim: int = 4096
    wta_k: int = option(20, aliases=("k",), help="k-WTA winners per code")
    asset: str = str(ASSET)

    def __post_init__(self) -> None:
        validate_fields(self)
        check_range(self, "n_variants", 0, 50)
        check_range(self, "code_dim", max(self.wta_k, 2))
        check_range(self, "wta_k", 1)
        check(Path(self.asset).is_file(), f"asset file not found: {self.asset!r}")


@experiment("paraphrase", ParaphraseConfig,
            data="the hand-written fact set (nuonuo_core/data/paraphrase_facts.json), each fact "
                 "stored with 0–8 rule-made paraphrases and queried by hand-written questions, "
                 "embedded by MiniLM, WordLlama or hashing",
            title="Paraphrase augmentation: recall@1 vs stored cue variants (assets set)",
            reported="55% -> 100%")
def run_paraphrase(cfg: ParaphraseConfig, seed: int = 0, progress: Progress = None
                   ) -> list[dict]:
    """One row per (encoder, n_variants, method): recall@1 over all queries."""
    facts = load_facts(cfg.asset)
    variants = [paraphrase(f["cue"], f.get("target"), max(cfg.n_variants)) for f in facts]
    queries = [q for f in facts for q in f["queries"]]
    owner = np.array([i for i, f in enumerate(facts) for _ in f["queries"]])
    texts = sorted({f["cue"] for f in facts} | {v for vs in variants for v in vs} | set(queries))
    rows, jobs = [], [(e, n) for e in cfg.encoders for n in cfg.n_variants]
    for j, (enc, n) in enumerate(jobs):
        vec = dict(zip(texts, embed(enc, texts)))
        mem = memory(embed_dim=len(next(iter(vec.values()))), code_dim=cfg.code_dim,
                     k=cfg.wta_k, seed=seed)
        paras = [np.stack([vec[v] for v in vs[:n]]) if n and vs[:n] else None
                 for vs in variants]
        ids = np.asarray(mem.add_vectors(np.stack([vec[f["cue"]] for f in facts]),
                                         paraphrases=paras))
        qv = np.stack([vec[q] for q in queries])
        for method in cfg.methods:
            _, got = mem.recall_vectors(qv, k=1, method=method, min_score=NO_ABSTENTION)
            rows.append({"encoder": enc, "n_variants": n, "method": method,
                         "recall_at_1": float(np.mean(got[:, 0] == ids[owner])),
                         "mean_variants_stored": float(np.mean([len(v[:n]) for v in variants])),
                         "n_facts": len(facts), "n_queries": len(queries), **ANSWERS})
        if progress is not None:
            progress(j + 1, len(jobs))
    return rows
