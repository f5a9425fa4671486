"""One typed, frozen configuration of conversation retrieval, and the named ablation rows.

A search scores every turn as a weighted sum of channels (each z-scored per question when
``normalize``), optionally adds one hop through the engine's Hebbian W (``w_links``), and
optionally lets the engine rank its top ``engine_top`` turns first (``engine``). Every row of
the LoCoMo table is one :class:`RetrievalConfig` (:data:`PRESETS`); the default is the best row
on the tuning conversations, ``hybrid+lists`` (issue 18; before it, ``hybrid+time``). Weights
were chosen on conv-26/30/41 only (docs/retrieval.md).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from ..limits import LIMITS

# Fused channels in the order they are summed (the order fixes the float result).
CHANNELS = ("paper", "cue", "bm25", "tokens", "context", "reply", "speaker", "question",
            "length", "time", "day", "session", "links", "diversity")
CHANNEL_LABELS = {
    "paper": "dense: question vs 'Speaker said, \"text\"'",
    "cue": "dense cue: name-free question vs the turn's words",
    "bm25": "BM25 (words)",
    "tokens": "tokens (late interaction over MiniLM token vectors)",
    "context": "context: the turn after its predecessor",
    "reply": "context: the turn before its reply",
    "speaker": "speaker the question names",
    "question": "prior: the turn asks a question",
    "length": "prior: turn length",
    "time": "date the question names",
    "day": "calendar day the question names",
    "session": "session stage: the best turn of the turn's session",
    "links": "Hebbian W hop (question -> reply)",
    "diversity": "list question: suppressed by a turn ranked above it",
}
# Channels computed from the others (they cannot rank alone).
DERIVED = ("session", "links", "diversity")
LINKS = ("reply", "session", "reply+entities")
SPACES = ("words", "paper")
ENGINES = ("off", "hopfield", "hopfield-seq", "cosine")
# The numeric fields' ranges are rows of the one table of limits (nuonuo_core/limits.py): the
# channel weights (w_*) share "channel_weight"; beta and seed are the engine's own
INT_FIELDS = ("spread_top", "engine_top", "entity_max_df", "fanout", "diversity_depth", "seed")


@dataclass(frozen=True)
class RetrievalConfig:
    """Channel weights and the engine's part in ranking.

    Dense channels compare MiniLM embeddings (cosine): ``w_paper`` the question as asked vs
    the paper's turn text ``{speaker} said, "{text}"``; ``w_cue`` the question without the
    participants' names vs the turn's own words; ``w_context`` / ``w_reply`` the same question
    vs the turn with its predecessor / with its reply in the session. ``w_bm25``: Okapi BM25
    over words. ``w_tokens``: late interaction (each content word of the question takes its
    best cosine with a MiniLM token vector of the turn, idf-weighted). ``w_speaker``: added
    on the turns of the one participant a question names. ``w_question`` (subtracted on turns
    that ask a question, dialogues only) and ``w_length`` (x z-scored log(1 + content words)):
    a turn prior. ``w_time``: added on turns whose date fits the month or year a question
    names; ``w_day``: added on turns dated the calendar day a question names. ``w_session``:
    a session-level stage, added x the z-scored (over sessions) best score so far of the
    turn's session. ``normalize``: z-score each weighted dense/lexical channel per question before
    summing (False: raw scores, for single-channel rows).

    ``w_links``: the sum so far (the first hop) gains one hop through the engine's Hebbian W:
    ``links`` stored as cue -> target (question turn -> its reply; or all session
    neighbours; or replies plus turns sharing a rare capitalised word, in at most
    ``entity_max_df`` turns), over embeddings of ``link_space``; turn j gains
    ``w_links · max_i relu(first_i) · W-recall(i -> j)`` over the ``spread_top`` best first-hop
    turns i; each turn recalls at most ``fanout`` targets.

    ``w_diversity`` (>= 0): after the hop, list questions take their first
    ``diversity_depth`` turns one at a time, each turn suppressed by ``w_diversity`` x its
    largest (centred) cosine with the turns taken before it (maximal marginal relevance).
    ``list_gate``: list questions (they ask for several things gathered across sessions:
    :func:`~nuonuo_core.retrieval.channels.is_list_question`) get no session stage and are
    the only ones diversified; False: every question gets both.

    ``engine``: "off", or the engine recalls the top ``engine_top`` turns with "hopfield"
    (two-stage, inverse temperature ``beta``), "hopfield-seq" (sequential attractors: settle,
    take the turn it settles to, remove it from the candidates, settle again from the
    question) or "cosine" over ``engine_space`` embeddings
    (with the two context texts as paraphrase cue rows when ``engine_paraphrases``); they rank
    first, in the engine's order, the rest by the fused score. ``seed`` seeds the engine's
    projection.
    """
    w_paper: float = 0.0
    w_cue: float = 0.5
    w_bm25: float = 0.3
    w_tokens: float = 1.0
    w_context: float = 0.5
    w_reply: float = 0.5
    w_speaker: float = 2.5
    w_question: float = 1.5
    w_length: float = 0.6
    w_time: float = 2.0
    w_day: float = 4.0
    w_session: float = 1.0
    w_links: float = 0.5
    w_diversity: float = 1.5
    normalize: bool = True
    list_gate: bool = True
    diversity_depth: int = 40
    links: str = "reply"
    link_space: str = "words"
    spread_top: int = 50
    fanout: int = 4
    entity_max_df: int = 4
    engine: str = "off"
    engine_space: str = "words"
    engine_paraphrases: bool = False
    engine_top: int = 50
    beta: float = 64.0
    seed: int = 0

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name.startswith("w_"):
                LIMITS["channel_weight"].check(v, f.name)
            elif f.name in INT_FIELDS or f.name == "beta":
                LIMITS[f.name].check(v)
            elif f.name in ("normalize", "engine_paraphrases", "list_gate") and \
                    not isinstance(v, bool):
                raise ValueError(f"{f.name} must be True or False, got {v!r}")
        for name, allowed in (("links", LINKS), ("link_space", SPACES), ("engine", ENGINES),
                              ("engine_space", SPACES)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if self.engine_paraphrases and self.engine_space != "words":
            raise ValueError("engine_paraphrases needs engine_space='words' (the context "
                             "texts are in the turns' own words)")
        if self.w_diversity < 0:
            raise ValueError(f"w_diversity must be >= 0 (a suppression), got {self.w_diversity!r}")
        if not any(self.weight(c) for c in CHANNELS if c not in DERIVED):
            raise ValueError("at least one channel other than " + ", ".join(DERIVED) +
                             " needs a non-zero weight")

    def weight(self, channel: str) -> float:
        return getattr(self, "w_" + channel)

    def active(self) -> tuple[str, ...]:
        """Channels with a non-zero weight, in summing order."""
        return tuple(c for c in CHANNELS if self.weight(c))

    def needs(self) -> set[str]:
        """Embedding spaces this configuration reads: "words", "paper", "pairs" (context
        texts), "tokens"."""
        out = set()
        if self.w_paper:
            out.add("paper")
        if self.w_cue or self.w_diversity:
            out.add("words")
        if self.w_context or self.w_reply or (self.engine != "off" and self.engine_paraphrases):
            out.add("pairs")
        if self.w_tokens:
            out.add("tokens")
        if self.w_links:
            out.add(self.link_space)
        if self.engine != "off":
            out.add(self.engine_space)
        return out

    def replace(self, **changes) -> "RetrievalConfig":
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RetrievalConfig":
        if not isinstance(data, dict):
            raise ValueError(f"config must be a dict, got {type(data).__name__}")
        unknown = sorted(str(k)[:40] for k in set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown RetrievalConfig fields: {unknown[:10]}")
        return cls(**data)


_OFF = {f"w_{c}": 0.0 for c in CHANNELS}


def _row(**kw) -> RetrievalConfig:
    return RetrievalConfig(**{**_OFF, **kw})


_D = RetrievalConfig()
_CUE = dict(w_cue=_D.w_cue, w_bm25=_D.w_bm25)
_TOK = dict(_CUE, w_tokens=_D.w_tokens)
_CTX = dict(_TOK, w_context=_D.w_context, w_reply=_D.w_reply)
_SPK = dict(_CTX, w_speaker=_D.w_speaker)
_PRI = dict(_SPK, w_question=_D.w_question, w_length=_D.w_length)
_HYB = dict(_PRI, w_links=_D.w_links)
_TIME = dict(_HYB, w_time=_D.w_time)
_DAY = dict(_TIME, w_day=_D.w_day)
_SES = dict(_DAY, w_session=_D.w_session)

# The rows of the LoCoMo table (docs/retrieval.md); from "cue" to "hybrid+time" each adds to
# the row above; from "hybrid+day" on, each adds to hybrid+time (the best row before issue 18).
PRESETS: dict[str, RetrievalConfig] = {
    "cosine": _row(w_paper=1.0, normalize=False),
    "hopfield": _row(w_paper=1.0, normalize=False, engine="hopfield", engine_space="paper"),
    "cosine+links": _row(w_paper=1.0, w_links=_D.w_links, links="session", link_space="paper"),
    "bm25": _row(w_bm25=1.0, normalize=False),
    "cue": _row(w_cue=1.0),
    "cue+paraphrases": _row(w_cue=1.0, engine="cosine", engine_paraphrases=True),
    "+bm25": _row(**_CUE),
    "+tokens": _row(**_TOK),
    "+context": _row(**_CTX),
    "+speaker": _row(**_SPK),
    "+prior": _row(**_PRI),
    "hybrid": _row(**_HYB, w_time=0.0),
    "hybrid+time": _row(**_TIME),
    "hybrid-session": _row(**_HYB, links="session"),
    "hybrid+entities": _row(**_HYB, links="reply+entities"),
    "hopfield-seq": _row(w_paper=1.0, normalize=False, engine="hopfield-seq",
                         engine_space="paper", beta=256.0),
    "hybrid+day": _row(**_DAY),
    "hybrid+session": _row(**_SES),
    "hybrid+session-all": _row(**_SES, list_gate=False),
    "hybrid+lists": _row(**_SES, w_diversity=_D.w_diversity),
}
METHODS = tuple(PRESETS)


def preset(name: str) -> RetrievalConfig:
    """The configuration of a named table row; ValueError listing the names otherwise."""
    if name not in PRESETS:
        raise ValueError(f"unknown configuration {str(name)[:40]!r}; choose from {list(PRESETS)}")
    return PRESETS[name]
