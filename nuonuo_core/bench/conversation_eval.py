"""Turn retrieval over conversation memory: methods and evaluation loops.

Every method maps (a :class:`~nuonuo_core.bench.corpus.Corpus` of n turns, m query strings) to a
(m, n) score matrix; ranking = argsort(-scores). Methods (each a table row; from ``cue`` to
``hybrid`` each row adds one component to the row above; channels are z-scored and summed):

- ``cosine``: flat cosine, query vs the paper's turn text ``{speaker} said, "{text}"``.
- ``hopfield``: the engine's two-stage Hopfield recall on the same embeddings (top-K cosine,
  softmax settling), rest of the ranking by cosine.
- ``cosine+links``: ``cosine`` plus one hop through the engine's Hebbian W over session links.
- ``bm25``: lexical only (Okapi BM25 over turn words, names removed from the query).
- ``cue``: speaker-factored cue: the turn's own words vs the question with speaker names removed
  (the speaker becomes an attribute channel instead of dominating the embedding).
- ``cue+paraphrases``: ``cue`` with the engine's paraphrase cue rows: each turn is stored once,
  with its two context texts (below) as extra cue rows; a memory scores its best row.
- ``+bm25`` (adds to ``cue``); ``+tokens`` (late interaction: each content word of the
  question matched to its best MiniLM token vector in the turn, idf-weighted); ``+context``
  (two more cues per turn: the turn with its predecessor in the session, and with its reply);
  ``+speaker`` (turns by the one speaker a question names); ``+prior`` (a turn prior: question
  turns down, longer turns up).
- ``hybrid``: ``+prior`` plus the engine's association: Hebbian links from each question turn
  to its reply, followed one hop from the top first-hop turns (a reply inherits its question's
  match: "What are their names?" -> "Luna and Oliver!").
- ``hybrid+time``: ``hybrid`` plus the session dates: turns from the month a question names
  (or the month after) or the year it names.
- ``hybrid-session``: the same hop over links between all neighbouring turns instead.
- ``hybrid+entities``: ``hybrid`` with extra links between turns of different sessions that
  share a rare capitalised word (names, places, titles).
Only the memory's own turns build it: no answers or evidence labels are used."""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Callable, Sequence

import numpy as np

from nuonuo_core.bench.corpus import (Corpus, bm25_scores, entity_links, reply_links,
                                      parse_month, session_links, speaker_mask, strip_names,
                                      time_match, token_maxsim, tokens, turn_prior, zscore)

__all__ = ["Corpus", "METHODS", "RetrievalConfig", "bm25_scores", "entity_links",
           "evaluate_locomo", "evaluate_longmemeval", "hebbian_link_matrix", "rank",
           "reply_links", "score_methods", "session_links", "speaker_mask", "spread",
           "parse_month", "strip_names", "time_match", "token_maxsim", "tokens"]

Embed = Callable[[list[str]], np.ndarray]
TokenEmbed = Callable[[list[str]], list]   # texts -> [(tokens, (t, d) unit vectors)]
METHODS = ("cosine", "hopfield", "cosine+links", "bm25", "cue", "cue+paraphrases", "+bm25",
           "+tokens", "+context", "+speaker", "+prior", "hybrid", "hybrid+time", "hybrid-session",
           "hybrid+entities")
_FUSED = {"+context", "+speaker", "+prior", "hybrid", "hybrid+time", "hybrid-session",
          "hybrid+entities"}
_z = zscore


@dataclass(frozen=True)
class RetrievalConfig:
    """Weights of the fused channels (each z-scored per query) and of the association hop.
    Chosen by a grid on three LoCoMo conversations (docs/retrieval.md), not on all seven."""
    w_cue: float = 0.5         # dense cue: the turn's own words vs the name-free question
    w_bm25: float = 0.3        # lexical channel
    w_tokens: float = 1.0      # late interaction over MiniLM token vectors
    w_context: float = 0.5     # context cue: the turn preceded by its predecessor
    w_reply: float = 0.5       # context cue: the turn followed by its reply
    w_speaker: float = 2.5     # question names exactly one speaker -> that speaker's turns
    w_question: float = 1.5    # prior: a turn that asks a question states no fact
    w_length: float = 0.6      # prior: z-scored log(1 + content words)
    w_links: float = 0.5       # second hop through Hebbian W
    w_time: float = 2.0        # session date fits the month / year the question names
    spread_top: int = 50       # first-hop turns the association spreads from
    engine_top: int = 50       # turns the engine-ranked rows (hopfield, paraphrases) rank
    entity_max_df: int = 4     # a capitalised word links turns when in <= this many turns
    beta: float = 64.0         # Hopfield inverse temperature (16 collapses on these turns)
    seed: int = 0

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, float) and not math.isfinite(v):
                raise ValueError(f"{f.name} must be finite, got {v!r}")
        if self.spread_top < 1 or self.engine_top < 1 or self.entity_max_df < 2:
            raise ValueError("spread_top and engine_top must be >= 1 and entity_max_df >= 2, "
                             f"got {self.spread_top!r}, {self.engine_top!r}, "
                             f"{self.entity_max_df!r}")
        if self.beta <= 0:
            raise ValueError(f"beta must be > 0, got {self.beta!r}")


def center(x: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """(x - mu), L2-normalised rows: removes the component all turns of a memory share."""
    y = x - mu
    return (y / np.maximum(np.linalg.norm(y, axis=-1, keepdims=True), 1e-9)).astype(np.float32)


def hebbian_link_matrix(emb: np.ndarray, links: Sequence[tuple[int, int]],
                        cfg: RetrievalConfig, fanout: int = 4) -> np.ndarray:
    """Store links a -> b in the engine's Hebbian W (cue emb[a], target emb[b]), then recall
    one hop through W from every turn's embedding. Returns L (n, n): L[i, j] = engine score
    (target-code overlap) of reaching turn j from turn i, 0 where not reached.

    Embeddings are centred first: turns of one conversation share a large common component,
    which makes their k-WTA codes overlap and W's recall cross-talk (precision ~0.25 -> ~0.8)."""
    n = len(emb)
    emb = center(emb, emb.mean(0))
    L = np.zeros((n, n), dtype=np.float32)
    if not links:
        return L
    from nuonuo_core import HybridMemory, MemoryConfig
    mem = HybridMemory(MemoryConfig(embed_dim=emb.shape[1], seed=cfg.seed, device="cpu"))
    src = np.array([a for a, _ in links])
    dst = np.array([b for _, b in links])
    ids = mem.add_vectors(emb[src], targets=emb[dst])
    to_dst = dict(zip(ids, dst.tolist()))
    has_out = np.unique(src)
    scores, got = mem.recall_vectors(emb[has_out], k=fanout, method="hebbian")
    for row, i in enumerate(has_out):
        for s, mid in zip(scores[row], got[row]):
            if mid >= 0 and to_dst[int(mid)] != i:
                j = to_dst[int(mid)]
                L[i, j] = max(L[i, j], float(s))
    return L


def spread(first: np.ndarray, L: np.ndarray, top: int) -> np.ndarray:
    """Second hop: turn j gains max over the top first-hop turns i of relu(first[i]) * L[i, j]."""
    m, n = first.shape
    top = min(top, n)
    idx = np.argpartition(-first, top - 1, axis=1)[:, :top]
    out = np.zeros_like(first)
    for q in range(m):
        out[q] = (np.maximum(first[q, idx[q]], 0.0)[:, None] * L[idx[q]]).max(0)
    return out


def score_methods(corpus: Corpus, queries: Sequence[str], methods: Sequence[str], embed: Embed,
                  cfg: RetrievalConfig = RetrievalConfig(),
                  token_embed: TokenEmbed | None = None) -> dict:
    """Score matrices (m, n) for each requested method (see the module docstring).
    ``token_embed`` gives the token vectors of ``+tokens`` and later rows; by default words
    as hashed vectors (``HashingEncoder.token_vectors``: exact word matching)."""
    bad = [x for x in methods if x not in METHODS]
    if bad:
        raise ValueError(f"unknown methods {bad!r}; choose from {list(METHODS)}")
    queries, out, need = list(queries), {}, set(methods)
    if need & {"cosine", "hopfield", "cosine+links"}:
        E, Q = embed(corpus.paper), embed(queries)
        cos = Q @ E.T
        out["cosine"] = cos
        if "hopfield" in need:
            out["hopfield"] = _engine_ranking(E, Q, cos, cfg, "hopfield")
        if "cosine+links" in need:
            L = hebbian_link_matrix(E, session_links(corpus), cfg)
            out["cosine+links"] = _z(cos) + cfg.w_links * spread(_z(cos), L, cfg.spread_top)
    if "bm25" in need or any(x.startswith(("+", "hybrid", "cue")) for x in need):
        stripped = [strip_names(q, corpus.names) for q in queries]
        bm = bm25_scores(corpus.raw, stripped)
        out["bm25"] = bm
        R, QS = embed(corpus.raw), embed(stripped)
        out["cue"] = _z(QS @ R.T)
        if need & (_FUSED | {"cue+paraphrases"}):  # the two context cues of every turn
            X, N = embed(corpus.context()), embed(corpus.next_context())
        if "cue+paraphrases" in need:
            out["cue+paraphrases"] = _engine_ranking(R, QS, out["cue"], cfg, "cosine",
                                                     [np.stack(p) for p in zip(X, N)])
        out["+bm25"] = fused = cfg.w_cue * out["cue"] + cfg.w_bm25 * _z(bm)
        if need & (_FUSED | {"+tokens"}):
            if token_embed is None:
                from nuonuo_core.encoders import HashingEncoder
                token_embed = HashingEncoder(QS.shape[1]).token_vectors
            sim = token_maxsim(token_embed(stripped), token_embed(corpus.raw))
            out["+tokens"] = fused = fused + cfg.w_tokens * _z(sim)
        if need & _FUSED:
            fused = fused + cfg.w_context * _z(QS @ X.T)
            out["+context"] = fused = fused + cfg.w_reply * _z(QS @ N.T)
            out["+speaker"] = fused = fused + cfg.w_speaker * speaker_mask(corpus, queries)
            out["+prior"] = fused = fused + turn_prior(corpus, cfg.w_question, cfg.w_length)

            link_sets = {"reply": lambda: reply_links(corpus),
                         "session": lambda: session_links(corpus),
                         "entities": lambda: reply_links(corpus) +
                         entity_links(corpus, cfg.entity_max_df)}
            mats: dict[str, np.ndarray] = {}

            def hop(first: np.ndarray, links: str) -> np.ndarray:  # + one hop through W
                if links not in mats:
                    mats[links] = hebbian_link_matrix(R, link_sets[links](), cfg)
                return first + cfg.w_links * spread(first, mats[links], cfg.spread_top)

            if "hybrid" in need:
                out["hybrid"] = hop(fused, "reply")
            if "hybrid+time" in need:
                out["hybrid+time"] = hop(fused + cfg.w_time * time_match(corpus, queries), "reply")
            if "hybrid-session" in need:
                out["hybrid-session"] = hop(fused, "session")
            if "hybrid+entities" in need:
                out["hybrid+entities"] = hop(fused, "entities")
    return {m: out[m] for m in methods}


def _engine_ranking(E: np.ndarray, Q: np.ndarray, below: np.ndarray, cfg: RetrievalConfig,
                    method: str, paraphrases: list | None = None) -> np.ndarray:
    """Store turns E (n, d) in the engine (optionally with paraphrase cue rows), recall the
    top ``cfg.engine_top`` for queries Q (m, d) with ``method``; below them, the order of
    ``below``. A fixed depth keeps recall@k independent of which other k are asked."""
    from nuonuo_core import HybridMemory, MemoryConfig
    mem = HybridMemory(MemoryConfig(embed_dim=E.shape[1], beta=cfg.beta, seed=cfg.seed,
                                    device="cpu"))
    ids = np.asarray(mem.add_vectors(E, paraphrases=paraphrases))
    pos = {int(x): i for i, x in enumerate(ids)}
    k = min(cfg.engine_top, len(E))
    _, got = mem.recall_vectors(Q, k=k, method=method)
    out = below - below.max() - 1.0  # everything the engine did not return ranks below it
    for q in range(len(Q)):
        for r, mid in enumerate(got[q]):
            if mid >= 0:
                out[q, pos[int(mid)]] = k - r
    return out


def rank(scores: np.ndarray) -> np.ndarray:  # (m, n) scores -> positions, best first
    return np.argsort(-scores, axis=1, kind="stable")


Progress = Callable[[int, int, str], None]  # evaluation loops: (done, total, message)


def locomo_corpus(conv) -> Corpus:
    """A :class:`Corpus` from a :class:`~nuonuo_core.datasets.locomo.Conversation`."""
    t = conv.turns
    return Corpus([x.render() for x in t],
                  [(x.text + (f" and shared {x.blip_caption}" if x.blip_caption else "")).strip()
                   or x.render() for x in t],
                  np.array([x.session for x in t]), [x.speaker for x in t],
                  [conv.speaker_a, conv.speaker_b],
                  asks=np.array([x.text.rstrip().endswith("?") for x in t]),
                  month=np.array([parse_month(x.date) for x in t]))


def _records(acc: dict[tuple, list[float]]) -> list[dict]:
    return [{"method": m, "metric": met, "category": c, "k": k, "value": float(np.mean(v)),
             "n": len(v)} for (m, met, c, k), v in acc.items()]


def evaluate_locomo(convs, methods: Sequence[str], ks: Sequence[int], embed: Embed,
                    cfg: RetrievalConfig = RetrievalConfig(),
                    progress: Progress | None = None,
                    token_embed: TokenEmbed | None = None) -> list[dict]:
    """LoCoMo turn recall@k per method, overall and per category. Questions whose evidence is
    empty after normalisation are skipped (not counted in ``n``)."""
    from nuonuo_core.bench.metrics import recall_at_k
    from nuonuo_core.datasets.locomo import CATEGORIES
    acc: dict[tuple, list[float]] = {}
    for ci, conv in enumerate(convs):
        qs = [q for q in conv.questions if q.evidence]
        if progress:
            progress(ci, len(convs),
                     f"{conv.sample_id}: {len(conv.turns)} turns, {len(qs)} questions")
        if not qs:
            continue
        corpus = locomo_corpus(conv)
        ids = [t.dia_id for t in conv.turns]
        scores = score_methods(corpus, [q.question for q in qs], methods, embed, cfg,
                               token_embed)
        for m, s in scores.items():
            for q, order in zip(qs, rank(s)):
                ranked = [ids[i] for i in order[: max(ks)]]
                cat = CATEGORIES.get(q.category, str(q.category))
                for k in ks:
                    r = recall_at_k(ranked, q.evidence, k)
                    acc.setdefault((m, "recall", "overall", k), []).append(r)
                    acc.setdefault((m, "recall", cat, k), []).append(r)
    if progress:
        progress(len(convs), len(convs), "done")
    return _records(acc)


def lme_corpus(question) -> Corpus:
    """User turns of a LongMemEval haystack (the official turn-level corpus)."""
    c = question.corpus()
    texts = [x.text if x.text.strip() else "(empty)" for x in c]
    return Corpus(texts, texts, np.array([x.session_index for x in c]), ["user"] * len(c), [],
                  month=np.array([parse_month(x.date) for x in c]))


def evaluate_longmemeval(questions, methods: Sequence[str], ks: Sequence[int], embed: Embed,
                         cfg: RetrievalConfig = RetrievalConfig(),
                         progress: Progress | None = None,
                         token_embed: TokenEmbed | None = None) -> list[dict]:
    """LongMemEval's recall_any/recall_all/ndcg_any@k at turn and session level (turn ranking;
    session metrics by the official turn2session), plus MRR (k None); ``_abs`` questions and
    questions without evidence turns are skipped. Category: ``overall`` and question_type."""
    from nuonuo_core.bench.metrics import (evaluate_retrieval, evaluate_turn2session,
                                           reciprocal_rank, session_of)
    acc: dict[tuple, list[float]] = {}
    qs = [q for q in questions if not q.is_abstention and q.relevant_turn_ids()]
    for qi, q in enumerate(qs):
        if progress and qi % 10 == 0:
            progress(qi, len(qs), q.question_id)
        corpus, ids = lme_corpus(q), [c.corpus_id for c in q.corpus()]
        rel = q.relevant_turn_ids()
        scores = score_methods(corpus, [q.question], methods, embed, cfg, token_embed)
        for m, s in scores.items():
            order = rank(s)[0].tolist()
            vals: list[tuple[str, int | None, float]] = []
            for k in ks:
                for lvl, fn in (("turn", evaluate_retrieval), ("session", evaluate_turn2session)):
                    ra, rl, nd = fn(order, rel, ids, k)
                    vals += [(f"{lvl}_recall_any", k, ra), (f"{lvl}_recall_all", k, rl),
                             (f"{lvl}_ndcg_any", k, nd)]
            sess = list(dict.fromkeys(session_of(ids[i]) for i in order))
            vals += [("turn_mrr", None, reciprocal_rank([ids[i] for i in order], rel)),
                     ("session_mrr", None, reciprocal_rank(sess, {session_of(r) for r in rel}))]
            for met, k, v in vals:
                for cat in ("overall", q.question_type):
                    acc.setdefault((m, met, cat, k), []).append(v)
    if progress:
        progress(len(qs), len(qs), "done")
    return _records(acc)
