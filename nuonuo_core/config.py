"""Typed, frozen configuration for the memory engine.

Every field is validated when the config is built; errors quote the bad value.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from .limits import LIMITS, MAX_DENSE_DIM, MAX_PROJECTION

METHODS = ("hopfield", "hebbian", "cosine")
DEVICES = ("auto", "cpu", "cuda")
W_FORMATS = ("auto", "sparse", "dense")
INDEXES = ("auto", "flat", "ivf")
TARGET_PROJECTIONS = ("shared", "separate")
TARGET_SEED_SALT = 0x7A56_E7  # seeds the separate target projection: seed + salt


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


# The allowed range of every numeric field lives in the one table of limits
# (nuonuo_core/limits.py, with the reason for each bound); RANGES is its view for this config.
# A field is checked by the table's row of the same name, except those in LIMIT_OF (the field
# keeps its public name; the row says what it is).
LIMIT_OF = {"k": "wta_k"}
RANGES: dict[str, tuple[float, float, bool]] = {
    name: (LIMITS[LIMIT_OF.get(name, name)].lo, LIMITS[LIMIT_OF.get(name, name)].hi,
           LIMITS[LIMIT_OF.get(name, name)].lo_open)
    for name in ("embed_dim", "code_dim", "k", "top_k", "beta", "max_steps", "eps", "lr",
                 "seed", "min_overlap", "ann_threshold", "ann_nprobe", "min_score_hopfield",
                 "min_score_hebbian", "min_score_cosine", "min_score_words",
                 "chain_min_support")}

NO_ABSTENTION = -1.0  # min_score that answers every query (every match score is >= -1)

# Default thresholds, chosen on the 'tune' half of tests/fixtures/calibration.json by
# scripts/calibrate.py (README, "When to answer"): the grid threshold that maximises the
# smaller of (paraphrases answered right, unheld questions abstained).
DEFAULT_MIN_SCORE = {"hopfield": 0.59, "hebbian": 0.18, "cosine": 0.59}
# With word_match on, text recall scores cue cosine × word coverage: its threshold, chosen by
# the same rule on the same tune half (docs/abstention.md)
DEFAULT_MIN_SCORE_WORDS = 0.22
# the methods whose text recall word_match re-scores
WORD_METHODS = ("hopfield", "cosine")
# What a field missing from a *saved* config meant when the file was written: word_match did
# not exist before it was added, and text recall then scored the cue cosine alone (off). A
# field missing from any other config dict (MemoryConfig.from_dict) takes today's default.
SAVED_BEFORE = {"word_match": False}


def range_text(name: str) -> str:
    """The range of field ``name`` as messages write it."""
    return LIMITS[LIMIT_OF.get(name, name)].span()


def check_range(name: str, value) -> None:
    """Refuse ``value`` of field ``name`` outside its limit with a message naming the value and
    the range (types are checked too: an int field takes only ints)."""
    LIMITS[LIMIT_OF.get(name, name)].check(value, name)


@dataclass(frozen=True)
class MemoryConfig:
    """Configuration of one :class:`~nuonuo_core.HybridMemory`.

    Attributes:
        embed_dim: d, the dimension of cue/target embeddings (384 for MiniLM-L6).
        code_dim: D, size of the pattern-separated code space.
        k: winners kept by k-WTA in each code (exactly k ones per code).
        top_k: K, candidates taken by stage 1 of Hopfield recall.
        beta: β, inverse temperature of the Hopfield softmax.
        max_steps: most settling steps of stage 2.
        eps: settling stops once ‖ξ_new − ξ‖ < eps.
        lr: Hebbian learning rate: W += lr · outer(target_code, cue_code).
        seed: seeds the random projection (same seed → same codes).
        min_overlap: when a Hebbian recall counts. k-WTA winners are taken only among units
            with activity > 0 (no activity -> nothing recalled), and the decoded memory's target
            code must share at least ``min_overlap · k`` units with the recalled code (0.5 =
            the seed's "code cosine > 0.5"); otherwise the answer is id -1, score 0.
        min_score_hopfield, min_score_hebbian, min_score_cosine: when to answer. Each recall's
            score says how well the query matches the answered memory (hopfield and cosine:
            the query's cosine with the memory's best cue row; hebbian: the W-link support of
            the query code times the decoded overlap); below the method's threshold the answer
            is id -1, score 0 ("no memory matches"). In [-1, 1]; -1 answers everything.
            Defaults calibrated on MiniLM questions (README, "When to answer"); vectors of
            another kind need their own. A call's ``min_score=`` overrides them.
        word_match: on by default. Text recall (``recall`` / ``recall_details`` /
            ``settle_trace`` with texts) by hopfield and cosine scores each answer whose memory
            has texts as the query's cosine with the memory's best cue row × its *word
            coverage*: every content word of a cue row must find a counterpart among the
            query's words (MiniLM token vectors; :mod:`nuonuo_core.wordmatch`), so a stored
            "capital of France" matches "capital of Italy" less than its cosine says; those
            answers are compared with ``min_score_words``. Vector queries, vector memories,
            hebbian and encoders without token vectors keep the cue cosine and
            ``min_score_<method>``. ``word_match=False`` scores text recall by the cue cosine
            alone (files saved before the option existed load with it off).
        min_score_words: the threshold of word-match scores (word_match on), in [-1, 1].
        chain_min_support: when a chain hop counts: at least this fraction of the k × k block
            of W between the previous memory's target code and the recalled memory's target
            code holds stored links (a stored link A → B gives 1.0; cross-talk ~0.1). In [0, 1].
        target_projection: "shared" (targets coded by the cue projection, our default) or
            "separate" (a second projection seeded from ``seed``, as the seed code's Experiment 3).
        device: "auto" (CUDA when present, else CPU), "cpu" or "cuda".
        w_format: "sparse" (CPU default), "dense" (small code_dim or a GPU) or "auto".
        index: stage-1 search: "flat" (exact), "ivf" (FAISS, approximate) or "auto"
            (ivf from ``ann_threshold`` cue rows on, CPU only).
        ann_threshold: cue rows from which "auto" switches to the approximate index.
        ann_nprobe: inverted lists visited per query by the approximate index.
    """

    embed_dim: int = 384
    code_dim: int = 16384
    k: int = 20
    top_k: int = 20
    beta: float = 16.0
    max_steps: int = 10
    eps: float = 1e-4
    lr: float = 1.0
    seed: int = 0
    min_overlap: float = 0.5
    min_score_hopfield: float = DEFAULT_MIN_SCORE["hopfield"]
    min_score_hebbian: float = DEFAULT_MIN_SCORE["hebbian"]
    min_score_cosine: float = DEFAULT_MIN_SCORE["cosine"]
    word_match: bool = True
    min_score_words: float = DEFAULT_MIN_SCORE_WORDS
    chain_min_support: float = 0.5
    target_projection: str = "shared"
    device: str = "auto"
    w_format: str = "auto"
    index: str = "auto"
    ann_threshold: int = 200_000
    ann_nprobe: int = 64

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in RANGES:              # type and range, one message; numpy scalars
                object.__setattr__(self, f.name,  # -> int/float
                                   LIMITS[LIMIT_OF.get(f.name, f.name)].check(value, f.name))
                continue
            want = f.type if isinstance(f.type, str) else f.type.__name__
            if want == "int":
                _check(isinstance(value, int) and not isinstance(value, bool),
                       f"{f.name} must be an int, got {value!r}")
            elif want == "float":
                _check(isinstance(value, (int, float)) and not isinstance(value, bool),
                       f"{f.name} must be a number, got {value!r}")
                _check(value == value and abs(value) != float("inf"),
                       f"{f.name} must be finite, got {value!r}")
            elif want == "bool":
                _check(isinstance(value, bool), f"{f.name} must be True or False, got {value!r}")
            elif want == "str":
                _check(isinstance(value, str), f"{f.name} must be text, got {value!r}")
        _check(self.k <= self.code_dim,
               f"k must be in [1, code_dim={self.code_dim}], got {self.k}")
        _check(self.code_dim * self.embed_dim <= MAX_PROJECTION,
               f"code_dim × embed_dim must be <= 2^26 (a 256 MiB projection), got "
               f"{self.code_dim} × {self.embed_dim}")
        _check(self.w_format != "dense" or self.code_dim <= MAX_DENSE_DIM,
               f"w_format='dense' needs code_dim <= {MAX_DENSE_DIM} (a 1 GiB W), "
               f"got {self.code_dim}")
        _check(self.target_projection in TARGET_PROJECTIONS,
               f"target_projection must be one of {TARGET_PROJECTIONS}, "
               f"got {self.target_projection!r}")
        _check(self.device in DEVICES, f"device must be one of {DEVICES}, got {self.device!r}")
        _check(self.w_format in W_FORMATS,
               f"w_format must be one of {W_FORMATS}, got {self.w_format!r}")
        _check(self.index in INDEXES, f"index must be one of {INDEXES}, got {self.index!r}")

    def min_score(self, method: str) -> float:
        """The configured answer threshold of ``method`` (one of METHODS)."""
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        return getattr(self, f"min_score_{method}")

    def text_min_score(self, method: str) -> float:
        """The threshold text recall by ``method`` compares with: ``min_score_words`` where
        word match scores it (``word_match`` on, hopfield or cosine), else ``min_score``."""
        if self.word_match and method in WORD_METHODS:
            self.min_score(method)        # checks the name
            return self.min_score_words
        return self.min_score(method)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "MemoryConfig":
        known = {f.name for f in fields(cls)}
        if not isinstance(data, dict):
            raise ValueError(f"config must be a dict, got {type(data).__name__}")
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown MemoryConfig fields: {unknown}")
        return cls(**data)
