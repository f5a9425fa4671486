"""Turn retrieval over conversation memory: methods and evaluation loops.

Every method maps (a :class:`Corpus` of n turns, m query strings) to a (m, n) score matrix;
ranking = argsort(-scores). Methods (each a table row; later rows add one component):

- ``cosine``: flat cosine, query vs the paper's turn text ``{speaker} said, "{text}"``.
- ``hopfield``: the engine's two-stage Hopfield recall on the same embeddings (top-K cosine,
  softmax settling), rest of the ranking by cosine.
- ``cosine+links``: ``cosine`` plus one hop through the engine's Hebbian W over session links.
- ``bm25``: lexical only (Okapi BM25 over turn words, names removed from the query).
- ``cue``: speaker-factored cue: the turn's own words vs the question with speaker names removed
  (the speaker becomes an attribute channel instead of dominating the embedding).
- ``+bm25``, ``+context`` (a second cue per turn: the turn with its predecessor in the session),
  ``+speaker`` (turns by the one speaker a question names), channels z-scored and summed.
- ``hybrid``: ``+speaker`` plus the engine's association: Hebbian links between neighbouring
  turns of a session, followed one hop from the top first-hop turns (second-hop evidence).
- ``hybrid+entities``: ``hybrid`` with extra Hebbian links between turns of different sessions
  that share a rare capitalised word (names, places, titles).
Only the memory's own turns build it: no answers or evidence labels are used."""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

Embed = Callable[[list[str]], np.ndarray]
METHODS = ("cosine", "hopfield", "cosine+links", "bm25", "cue", "+bm25", "+context", "+speaker",
           "hybrid", "hybrid+entities")
_STOP = set("""a an the and or but if of to in on at for with from by about as is are was were be been
being do does did have has had i you he she it we they me him her us them my your his its our their
this that these those what when where who whom which why how not no so than too very can will would
should could just also there here said shared into any some all get got like really""".split())


@dataclass(frozen=True)
class RetrievalConfig:
    """Weights of the fused channels (z-scored per query) and of the association hop."""
    w_bm25: float = 0.6        # lexical channel
    w_context: float = 1.0     # context cue (turn + predecessor)
    w_speaker: float = 1.5     # question names exactly one speaker -> that speaker's turns
    w_links: float = 0.1       # second hop through Hebbian W
    spread_top: int = 50       # first-hop turns the association spreads from
    entity_max_df: int = 4     # a capitalised word links turns when in <= this many turns
    beta: float = 64.0         # Hopfield inverse temperature (16 collapses on these turns)
    seed: int = 0

    def __post_init__(self) -> None:
        if self.spread_top < 1 or self.entity_max_df < 2:
            raise ValueError("spread_top must be >= 1 and entity_max_df >= 2, got "
                             f"{self.spread_top!r}, {self.entity_max_df!r}")


@dataclass
class Corpus:
    """The turns of one memory. ``paper`` (n,) texts in the paper's format, ``raw`` the turn's
    own words, ``session`` (n,) session numbers (turns in order), ``speaker`` (n,) names,
    ``names`` the participants' names (removed from queries for the cue channels)."""
    paper: list[str]
    raw: list[str]
    session: np.ndarray
    speaker: list[str]
    names: list[str]

    def __post_init__(self) -> None:
        n = len(self.paper)
        if not (len(self.raw) == len(self.session) == len(self.speaker) == n) or n == 0:
            raise ValueError(f"corpus fields must be non-empty and of equal length, got "
                             f"{n}, {len(self.raw)}, {len(self.session)}, {len(self.speaker)}")

    def context(self) -> list[str]:
        """Each turn preceded by the previous turn of its session (the context cue)."""
        return [(self.raw[i - 1] + " " if i and self.session[i - 1] == self.session[i] else "")
                + self.raw[i] for i in range(len(self.raw))]


def _z(s: np.ndarray) -> np.ndarray:  # row-wise z-score of a (m, n) matrix
    return (s - s.mean(1, keepdims=True)) / (s.std(1, keepdims=True) + 1e-9)


def strip_names(text: str, names: Sequence[str]) -> str:
    """Remove participant names (and 's) from a query: "What did Mel's son do" -> "What did son do"."""
    for n in names:
        if n:
            text = re.sub(rf"\b{re.escape(n)}(?:'s|’s)?\b", " ", text, flags=re.I)
    return re.sub(r"\s+", " ", text).strip() or text


def _stem(w: str) -> str:
    for suf in ("ing", "ed", "es", "s"):
        if len(w) > 4 and w.endswith(suf):
            return w[: -len(suf)]
    return w


def tokens(text: str) -> list[str]:
    """Lower-cased, stop-word-free, crudely stemmed words."""
    return [_stem(w) for w in re.findall(r"[a-z0-9']+", text.lower())
            if w not in _STOP and len(w) > 1]


def bm25_scores(docs: Sequence[str], queries: Sequence[str], k1: float = 1.2,
                b: float = 0.75) -> np.ndarray:
    """Okapi BM25 (idf = ln(1 + (N - df + .5) / (df + .5))) -> (m, n) float32."""
    toks = [tokens(d) for d in docs]
    n, avg = len(toks), max(np.mean([len(t) for t in toks]), 1.0)
    df = Counter(w for t in toks for w in set(t))
    post: dict[str, list[tuple[int, float]]] = {}
    for j, t in enumerate(toks):
        norm = k1 * (1 - b + b * len(t) / avg)
        for w, f in Counter(t).items():
            post.setdefault(w, []).append((j, f * (k1 + 1) / (f + norm)))
    out = np.zeros((len(queries), n), dtype=np.float32)
    for i, q in enumerate(queries):
        for w in set(tokens(q)):
            idf = math.log(1 + (n - df[w] + 0.5) / (df[w] + 0.5)) if w in df else 0.0
            for j, v in post.get(w, ()):
                out[i, j] += idf * v
    return out


def speaker_mask(corpus: Corpus, queries: Sequence[str]) -> np.ndarray:
    """(m, n) 1.0 on the turns of the one participant a query names (0 if it names 0 or 2)."""
    spk = np.array(corpus.speaker)
    out = np.zeros((len(queries), len(spk)), dtype=np.float32)
    for i, q in enumerate(queries):
        hit = [n for n in corpus.names if n and re.search(rf"\b{re.escape(n)}\b", q, re.I)]
        if len(hit) == 1:
            out[i] = spk == hit[0]
    return out


def session_links(corpus: Corpus) -> list[tuple[int, int]]:
    """Directed links between neighbouring turns of a session (i -> i+1 and i+1 -> i)."""
    s = corpus.session
    return [p for i in range(len(s) - 1) if s[i] == s[i + 1] for p in ((i, i + 1), (i + 1, i))]


def entity_links(corpus: Corpus, max_df: int) -> list[tuple[int, int]]:
    """Links between turns of different sessions sharing a rare capitalised word (not a name)."""
    names = {n.lower() for n in corpus.names}
    where: dict[str, set[int]] = {}
    for j, t in enumerate(corpus.raw):
        for w in set(re.findall(r"(?<![.!?]\s)(?<!^)\b([A-Z][a-zA-Z]{2,})", t)):
            if w.lower() not in names and w.lower() not in _STOP:
                where.setdefault(w, set()).add(j)
    out = set()
    for js in where.values():
        if 2 <= len(js) <= max_df:
            out.update((a, b) for a in js for b in js if a != b and
                       corpus.session[a] != corpus.session[b])
    return sorted(out)


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
                  cfg: RetrievalConfig = RetrievalConfig(), k_max: int = 50) -> dict:
    """Score matrices (m, n) for each requested method (see the module docstring)."""
    bad = [x for x in methods if x not in METHODS]
    if bad:
        raise ValueError(f"unknown methods {bad!r}; choose from {list(METHODS)}")
    queries, out, need = list(queries), {}, set(methods)
    if need & {"cosine", "hopfield", "cosine+links"}:
        E, Q = embed(corpus.paper), embed(queries)
        cos = Q @ E.T
        out["cosine"] = cos
        if "hopfield" in need:
            out["hopfield"] = _hopfield(E, Q, cos, cfg, k_max)
        if "cosine+links" in need:
            L = hebbian_link_matrix(E, session_links(corpus), cfg)
            out["cosine+links"] = _z(cos) + cfg.w_links * spread(_z(cos), L, cfg.spread_top)
    if "bm25" in need or any(x.startswith(("+", "hybrid", "cue")) for x in need):
        stripped = [strip_names(q, corpus.names) for q in queries]
        bm = bm25_scores(corpus.raw, stripped)
        out["bm25"] = bm
        R, QS = embed(corpus.raw), embed(stripped)
        out["cue"] = fused = _z(QS @ R.T)
        out["+bm25"] = fused = fused + cfg.w_bm25 * _z(bm)
        if need & {"+context", "+speaker", "hybrid", "hybrid+entities"}:
            out["+context"] = fused = fused + cfg.w_context * _z(QS @ embed(corpus.context()).T)
            out["+speaker"] = fused = fused + cfg.w_speaker * speaker_mask(corpus, queries)
            links = session_links(corpus)
            if "hybrid" in need:
                L = hebbian_link_matrix(R, links, cfg)
                out["hybrid"] = fused + cfg.w_links * spread(fused, L, cfg.spread_top)
            if "hybrid+entities" in need:
                L = hebbian_link_matrix(R, links + entity_links(corpus, cfg.entity_max_df), cfg)
                out["hybrid+entities"] = fused + cfg.w_links * spread(fused, L, cfg.spread_top)
    return {m: out[m] for m in methods}


def _hopfield(E: np.ndarray, Q: np.ndarray, cos: np.ndarray, cfg: RetrievalConfig,
              k_max: int) -> np.ndarray:
    """Engine two-stage Hopfield for the top ``k_max``; below them, cosine order."""
    from nuonuo_core import HybridMemory, MemoryConfig
    mem = HybridMemory(MemoryConfig(embed_dim=E.shape[1], beta=cfg.beta, seed=cfg.seed,
                                    device="cpu"))
    ids = np.asarray(mem.add_vectors(E))
    pos = {int(x): i for i, x in enumerate(ids)}
    k = min(k_max, len(E))
    _, got = mem.recall_vectors(Q, k=k, method="hopfield")
    out = cos - 10.0  # everything the Hopfield stage did not return ranks below it
    for q in range(len(Q)):
        for r, mid in enumerate(got[q]):
            if mid >= 0:
                out[q, pos[int(mid)]] = 10.0 + k - r
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
                  [conv.speaker_a, conv.speaker_b])


def _records(acc: dict[tuple, list[float]]) -> list[dict]:
    return [{"method": m, "metric": met, "category": c, "k": k, "value": float(np.mean(v)),
             "n": len(v)} for (m, met, c, k), v in acc.items()]


def evaluate_locomo(convs, methods: Sequence[str], ks: Sequence[int], embed: Embed,
                    cfg: RetrievalConfig = RetrievalConfig(),
                    progress: Progress | None = None) -> list[dict]:
    """LoCoMo turn recall@k per method, overall and per category. Questions whose evidence is
    empty after normalisation are skipped (not counted in ``n``)."""
    from nuonuo_core.bench.metrics import recall_at_k
    from nuonuo_core.datasets.locomo import CATEGORIES
    acc: dict[tuple, list[float]] = {}
    for ci, conv in enumerate(convs):
        qs = [q for q in conv.questions if q.evidence]
        if progress:
            progress(ci, len(convs), f"{conv.sample_id}: {len(conv.turns)} turns, {len(qs)} questions")
        if not qs:
            continue
        corpus = locomo_corpus(conv)
        ids = [t.dia_id for t in conv.turns]
        scores = score_methods(corpus, [q.question for q in qs], methods, embed, cfg, max(ks))
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
    return Corpus(texts, texts, np.array([x.session_index for x in c]), ["user"] * len(c), [])


def evaluate_longmemeval(questions, methods: Sequence[str], ks: Sequence[int], embed: Embed,
                         cfg: RetrievalConfig = RetrievalConfig(),
                         progress: Progress | None = None) -> list[dict]:
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
        scores = score_methods(corpus, [q.question], methods, embed, cfg, max(ks))
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
