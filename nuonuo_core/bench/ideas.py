"""``python -m nuonuo_core.bench ideas``: the ideas tried for a higher LoCoMo ceiling (issue 18)
that did not become rows of :data:`~nuonuo_core.retrieval.PRESETS`, reproduced on the tuning
(conv-26/30/41) and held-out (conv-42/43/44/50) conversations.

Each idea is a plain function of one conversation's :class:`Case` (its memory, questions and
the scores of the row it builds on) that returns the (m, n) scores it ranks by; its
parameters were fixed by a small grid on the tuning conversations only (``Idea.chosen`` says
which grid), and the held-out conversations were scored once, after. The ideas that became
rows (hybrid+day, hybrid+session, hybrid+lists, hopfield-seq) are in ``bench locomo``.
Only the memory's own turns build anything; labels only score.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Callable

import numpy as np

from nuonuo_core.retrieval import PRESETS, ConversationMemory, RetrievalConfig, Scores
from nuonuo_core.retrieval.channels import (TokenIndex, diversity_penalty, is_list_question,
                                            session_scores, strip_names, zscore)
from nuonuo_core.retrieval.engine import Links, center, hebbian_links, spread
from nuonuo_core.retrieval.turns import Turn

TUNE = ("conv-26", "conv-30", "conv-41")
HELD = ("conv-42", "conv-43", "conv-44", "conv-50")
DEFAULT_DATA = "../shared/data/locomo"


class Case:
    """One LoCoMo conversation as a memory, its labelled questions and shared derived values
    (computed once, on demand)."""

    def __init__(self, conv, encoder) -> None:
        from .conversation_eval import locomo_questions, locomo_turns
        self.name = conv.sample_id
        self.mem = ConversationMemory(encoder=encoder)
        self.mem.add_turns(locomo_turns(conv))
        qs = locomo_questions(conv)
        pos = {t: i for i, t in enumerate(self.mem.ids())}
        self.questions = [q.question for q in qs]
        self.evidence = [[pos[e] for e in q.evidence] for q in qs]
        self.category = [q.category for q in qs]
        self.corpus = self.mem.corpus()
        self.lists = np.array([is_list_question(q) for q in self.questions])
        self._memo: dict = {}

    def memo(self, key, fn):
        if key not in self._memo:
            self._memo[key] = fn()
        return self._memo[key]

    def scores(self, cfg: RetrievalConfig) -> Scores:
        return self.memo(("scores", cfg), lambda: self.mem.scores(self.questions, cfg))

    @property
    def words(self) -> list[str]:
        return [Turn(**t).words for t in self.mem.turns()]

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.mem.embedder.embed(texts)

    def question_vectors(self) -> np.ndarray:
        """The name-free questions' sentence vectors (the cue channels' queries)."""
        return self.memo("QS", lambda: self.mem.embedder.query(
            [strip_names(q, self.corpus.names) for q in self.questions], False)[0])

    def paper_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """(turn vectors, question vectors) of the paper's texts (the hopfield row's space)."""
        return self.memo("paper", lambda: (
            self.embed([Turn(**t).paper for t in self.mem.turns()]),
            self.mem.embedder.query(self.questions, False)[0]))

    def unit_words(self) -> np.ndarray:
        return self.memo("words", lambda: self.embed(self.words))


def with_extra(case: Case, base: RetrievalConfig, extra: np.ndarray) -> np.ndarray:
    """``base``'s scores with ``extra`` (m, n) added to its first hop, the session stage (if
    any) recomputed over it, then the W hop (and diversity) as ``base`` does them."""
    sc = case.scores(base)
    first = sc.first + extra
    if base.w_session:
        first = first - sc.terms["session"]
        ses = session_scores(first, case.corpus.session)
        if base.list_gate:
            ses[case.lists] = 0.0
        first = first + base.w_session * ses
    total = first + base.w_links * spread(first, sc.links, base.spread_top) \
        if base.w_links and sc.links is not None else first
    if base.w_diversity:
        unit = center(case.unit_words(), case.unit_words().mean(0))
        rows = case.lists if base.list_gate else np.ones(len(total), bool)
        total = total - base.w_diversity * diversity_penalty(
            total, unit, base.w_diversity, base.diversity_depth, rows)
    return total


def greedy(total: np.ndarray, penalty: Callable[[int, list[int]], np.ndarray],
           depth: int) -> np.ndarray:
    """Rerank the top ``depth`` of each row one pick at a time: the next pick maximises
    score - penalty(row, picked so far) (n,); picks rank above all other turns."""
    out = total.copy()
    for q in range(total.shape[0]):
        cand = np.argsort(-total[q], kind="stable")[:depth]
        picked: list[int] = []
        left = np.ones(len(cand), bool)
        for _ in range(len(cand)):
            adj = np.where(left, total[q, cand] - penalty(q, picked)[cand], -np.inf)
            b = int(np.argmax(adj))
            left[b] = False
            picked.append(int(cand[b]))
        out[q, picked] = total[q].max() + 1 + np.arange(len(picked))[::-1]
    return out


# --- the ideas -------------------------------------------------------------------------------
def tokens_context(case: Case, a: float = 0.85) -> np.ndarray:
    """Token MaxSim where a query token may also match a token of the turn's neighbours in
    its session, at ``a`` x that cosine (a soft lexical match over a 3-turn window)."""
    def build():
        idx = TokenIndex(case.mem.embedder.tokens(case.words, case.unit_words().shape[1]))
        _, qt = case.mem.embedder.query([strip_names(q, case.corpus.names)
                                         for q in case.questions], True)
        s = case.corpus.session
        prev = np.r_[False, s[1:] == s[:-1]]
        nxt = np.r_[s[:-1] == s[1:], False]
        out = np.zeros((len(case.questions), idx.n), np.float32)
        for i, (toks, vecs) in enumerate(qt or []):
            idf, b = idx.best(toks, vecs)
            if not len(idf):
                continue
            bp = np.zeros_like(b)
            bp[:, 1:] = b[:, :-1]
            bp[:, ~prev] = 0
            bn = np.zeros_like(b)
            bn[:, :-1] = b[:, 1:]
            bn[:, ~nxt] = 0
            out[i] = idf @ np.maximum(b, a * np.maximum(bp, bn)) / max(float(idf.sum()), 1e-9)
        return out
    return case.memo(("tokctx", a), build)


def window_vectors(case: Case, before: int = 2, after: int = 2) -> np.ndarray:
    """Each turn embedded with up to ``before`` / ``after`` turns of its session around it."""
    def build():
        w, s, n = case.words, case.corpus.session, len(case.words)
        texts = [" ".join(w[j] for j in range(i - before, i + after + 1)
                          if 0 <= j < n and s[j] == s[i]) for i in range(n)]
        return case.embed(texts)
    return case.memo(("window", before, after), build)


def wordllama_cosine(case: Case) -> np.ndarray:
    from nuonuo_core.experiments.wordllama_encoder import WordLlamaEncoder
    enc = WordLlamaEncoder()
    q = enc([strip_names(x, case.corpus.names) for x in case.questions])
    return q @ enc(case.words).T


def hopfield_prf(case: Case, base: RetrievalConfig, beta: float = 1.0,
                 top: int = 10) -> np.ndarray:
    """One Hopfield step from the first hop's ``top`` turns: ξ = Xᵀ softmax(β first) over
    them (words space), then every turn's cosine with ξ (pseudo-relevance feedback)."""
    first, X = case.scores(base).first, case.unit_words()
    out = np.zeros_like(first)
    for q in range(len(first)):
        idx = np.argsort(-first[q], kind="stable")[:top]
        a = np.exp(beta * (first[q, idx] - first[q, idx].max()))
        out[q] = X @ (a / a.sum() @ X[idx])
    return out


def link_hop(case: Case, base: RetrievalConfig, pairs: list[tuple[int, int]],
             top: int) -> np.ndarray:
    """One hop through the engine's Hebbian W over extra links ``pairs`` (cue -> target,
    centred words embeddings), spread from ``base``'s first hop as the reply hop is."""
    links: Links = case.memo(("links", tuple(pairs)), lambda: hebbian_links(
        case.unit_words(), pairs, base))
    return spread(case.scores(base).first, links, top)


def speaker_pairs(case: Case, m: int = 4) -> list[tuple[int, int]]:
    """Each turn -> its ``m`` most similar turns (centred words) by the same speaker in other
    sessions: "Hebbian links that carry a speaker's facts across sessions"."""
    X = center(case.unit_words(), case.unit_words().mean(0))
    spk, s = np.array(case.corpus.speaker), case.corpus.session
    sim = X @ X.T
    ok = (spk[:, None] == spk[None, :]) & (s[:, None] != s[None, :])
    sim = np.where(ok, sim, -np.inf)
    return [(i, int(j)) for i in range(len(X)) for j in np.argsort(-sim[i])[:m]
            if np.isfinite(sim[i, j])]


def callback_pairs(case: Case, m: int = 2, floor: float = 0.5) -> list[tuple[int, int]]:
    """Each question turn -> the other speaker's ``m`` most similar turns of earlier sessions
    (centred words, cosine > ``floor``): a later "How did the X go?" recalls the X turn."""
    X = center(case.unit_words(), case.unit_words().mean(0))
    spk, s, asks = np.array(case.corpus.speaker), case.corpus.session, case.corpus.asks
    out = []
    for i in np.nonzero(asks)[0].tolist():
        sim = np.where((s < s[i]) & (spk != spk[i]), X @ X[i], -np.inf)
        out += [(i, int(j)) for j in np.argsort(-sim)[:m] if sim[j] > floor]
    return out


def session_diverse(case: Case, total: np.ndarray, lam: float = 0.1) -> np.ndarray:
    s = case.corpus.session

    def pen(q: int, picked: list[int]) -> np.ndarray:
        return lam * np.bincount(s[picked], minlength=s.max() + 1)[s] if picked else \
            np.zeros(len(s))
    return greedy(total, pen, 60)


def adjacent_suppression(case: Case, total: np.ndarray, lam: float = 0.5) -> np.ndarray:
    s = case.corpus.session
    n = len(s)

    def pen(q: int, picked: list[int]) -> np.ndarray:
        out = np.zeros(n)
        for j in picked:
            for k in (j - 1, j + 1):
                if 0 <= k < n and s[k] == s[j]:
                    out[k] += lam
        return out
    return greedy(total, pen, 40)


def diversify_all(case: Case, base: RetrievalConfig, lam: float = 1.5,
                  depth: int = 40) -> np.ndarray:
    total = case.scores(base).total
    unit = center(case.unit_words(), case.unit_words().mean(0))
    return total - lam * diversity_penalty(total, unit, lam, depth,
                                           np.ones(len(total), bool))


def clamped_hopfield(case: Case, beta: float = 16.0, lam: float = 0.7,
                     top: int = 50) -> np.ndarray:
    """Settling with the question held: ξ ← λ q + (1 - λ) Xᵀ softmax(β X ξ) over the top
    ``top`` cosine candidates (words space) until it stops moving; candidates ranked by
    X ξ*, the rest by cosine (compare with the ``cue`` row)."""
    Q, X = case.question_vectors(), case.unit_words()
    cos = Q @ X.T
    out = cos.copy()
    for i in range(len(Q)):
        cand = np.argsort(-cos[i], kind="stable")[:top]
        xi = Q[i]
        for _ in range(50):
            a = beta * (X[cand] @ xi)
            a = np.exp(a - a.max())
            new = lam * Q[i] + (1 - lam) * (a / a.sum()) @ X[cand]
            done = np.linalg.norm(new - xi) < 1e-5
            xi = new
            if done:
                break
        out[i, cand] = cos[i].max() + 2 + X[cand] @ xi
    return out


def learned_fusion(train: list[Case], base: RetrievalConfig, depth: int = 100,
                   l2: float = 1.0, steps: int = 300):
    """A linear fusion learned on the cases ``train``: logistic regression (L2, gradient
    descent on standardised features) of "is an evidence turn" over ``base``'s top ``depth``
    turns per question; features: every channel's unweighted value (z-scored channels), the
    W hop, log rank, and the list flag times the speaker channel. Returns case -> scores."""
    def feats(case: Case):
        sc = case.scores(base)
        cols, top = [], np.argsort(-sc.total, axis=1, kind="stable")[:, :depth]
        rows = np.arange(len(top))[:, None]
        for k, v in sc.terms.items():
            if k != "diversity":
                cols.append((np.broadcast_to(v, sc.total.shape) / base.weight(k))[rows, top])
        cols.append((sc.hop if sc.hop is not None else np.zeros_like(sc.total))[rows, top])
        cols.append(np.broadcast_to(np.log1p(np.arange(top.shape[1])), top.shape))
        spk = sc.raw.get("speaker", np.zeros_like(sc.total))
        cols.append(case.lists[:, None] * spk[rows, top])
        return np.stack(cols, -1).astype(np.float64), top
    data = [feats(c) for c in train]
    X = np.concatenate([f.reshape(-1, f.shape[-1]) for f, _ in data])
    y = np.concatenate([np.array([[j in set(c.evidence[q]) for j in t[q]]
                                  for q in range(len(t))], float).ravel()
                        for c, (_, t) in zip(train, data)])
    mu, sd = X.mean(0), X.std(0) + 1e-9
    Z = (X - mu) / sd
    w, b = np.zeros(Z.shape[1]), 0.0
    for _ in range(steps):                       # plain gradient descent (convex: enough)
        p = 1 / (1 + np.exp(-(Z @ w + b)))
        g = Z.T @ (p - y) / len(y) + l2 * w / len(y)
        w, b = w - 1.0 * g, b - 1.0 * float(np.mean(p - y))

    def score(case: Case) -> np.ndarray:
        f, top = feats(case)
        out = case.scores(base).total.copy()
        rows = np.arange(len(top))[:, None]
        out[rows, top] = out.max() + 10 + ((f - mu) / sd) @ w
        return out
    return score


@dataclass(frozen=True)
class Idea:
    """A named idea: ``text`` what it does, ``base`` the row it builds on, ``chosen`` the
    tuning grid its parameters came from, ``run`` (case -> (m, n) scores), or ``learn``
    (tuning cases -> that function) for ideas fitted on the tuning conversations."""
    text: str
    base: str
    chosen: str
    run: Callable[[Case], np.ndarray] | None = None
    learn: Callable[[list[Case]], Callable[[Case], np.ndarray]] | None = None


B = PRESETS["hybrid+time"]
S = PRESETS["hybrid+session"]
IDEAS: dict[str, Idea] = {
    "tokens+context": Idea(
        "+0.3 x token MaxSim over the turn and its neighbours (0.85 x their cosines); list "
        "questions skip it", "hybrid+session", "w 0.15/0.3/0.6, a 0.7/0.85",
        lambda c: with_extra(c, S, np.where(c.lists[:, None], 0.0, 0.3) *
                             zscore(tokens_context(c)))),
    "tokens+context alone": Idea(
        "the same, every question, on hybrid+time", "hybrid+time", "w 0.3/0.6, a 0.5-0.85",
        lambda c: with_extra(c, B, 0.3 * zscore(tokens_context(c)))),
    "window rows": Idea(
        "+0.25 x cosine with the turn embedded with two turns before and after it "
        "(paraphrase rows from a turn's context)", "hybrid+time",
        "w 0.25/0.5; windows 1+1, 2+2, 0+2",
        lambda c: with_extra(c, B, 0.25 * zscore(c.question_vectors() @ window_vectors(c).T))),
    "wordllama": Idea(
        "+0.25 x WordLlama cosine (a second encoder, name-free question vs the turn's words)",
        "hybrid+time", "w 0.25/0.5/1; words, context, reply texts",
        lambda c: with_extra(c, B, 0.25 * zscore(wordllama_cosine(c)))),
    "hopfield PRF": Idea(
        "+0.25 x cosine with one Hopfield step from the first hop's top 10 (β 1)",
        "hybrid+time", "β 1/3, w 0.25/0.5; words, context, reply",
        lambda c: with_extra(c, B, 0.25 * zscore(hopfield_prf(c, B)))),
    "speaker links": Idea(
        "+0.25 x one W hop (from the first hop's top 10) over links from each turn to its 4 "
        "most similar turns by the same speaker in other sessions", "hybrid+time",
        "w 0.1/0.25/0.5, 2 or 4 links, top 10/30 (through the engine)",
        lambda c: with_extra(c, B, 0.25 * link_hop(c, B, speaker_pairs(c), 10))),
    "callback links": Idea(
        "+0.25 x one W hop over links from a question turn to the other speaker's 2 most "
        "similar earlier turns (cosine > 0.5)", "hybrid+time", "1/2/4 links, floor 0.3/0.5, "
        "w 0.25/0.5", lambda c: with_extra(c, B, 0.25 * link_hop(c, B, callback_pairs(c), 50))),
    "session-diverse": Idea(
        "rerank the top 60, each pick costing 0.1 per turn of its session already taken",
        "hybrid+time", "0.1/0.2/0.4/0.8", lambda c: session_diverse(c, c.scores(B).total)),
    "adjacent suppression": Idea(
        "rerank the top 40, a pick's session neighbours lose 0.5", "hybrid+time",
        "0.5/1/2, neighbours ±1/±2", lambda c: adjacent_suppression(c, c.scores(B).total)),
    "diversity all questions": Idea(
        "hybrid+lists' suppression on every question (session stage still gated)",
        "hybrid+session", "as hybrid+lists", lambda c: diversify_all(c, S)),
    "reweighted": Idea(
        "hybrid+time's weights by coordinate ascent (x0, 0.5, 0.75, 1.33, 2, two passes) on "
        "tune overall + multi-hop: context 0.665, reply 0.375, links 0.375, time 2.66",
        "hybrid+time", "as said", lambda c: c.scores(B.replace(
            w_context=0.665, w_reply=0.375, w_links=0.375, w_time=2.66)).total),
    "learned fusion": Idea(
        "logistic regression over hybrid+session's channels, its W hop, log rank and list x "
        "speaker, trained on the tuning conversations' top 100 (tune column: each tuning "
        "conversation scored by a model trained on the other two)", "hybrid+session",
        "L2 1, 300 steps", learn=lambda cases: learned_fusion(cases, S)),
    "clamped hopfield": Idea(
        "settling with the question held (ξ ← 0.7 q + 0.3 Xᵀ softmax(16 X ξ)), candidates "
        "ranked by X ξ*: compare with the cue row (cosine, same space)", "cue",
        "β 8/16/64, λ 0.3/0.5/0.7", lambda c: clamped_hopfield(c)),
}


def settling(cases: list[Case], space: str = "paper", beta: float = 64.0,
             top: int = 50) -> dict:
    """Why settling does not rank: per question, stage 1 takes the ``top`` turns most similar
    to the question (``space``: "paper" = the hopfield row's texts, "words"), stage 2 settles
    ξ ← Xᵀ softmax(β X ξ) from the question (the engine's ``hopfield_settle``, 10 steps). Counts
    how often the turn it settles to (nearest to ξ*) is the cosine top-1, how often each is an
    evidence turn, the mean cosine of ξ* with the question and with the attractor, and the
    mean rank of the evidence among the candidates by cos(q, x) and by cos(ξ*, x)."""
    import torch

    from nuonuo_core.functional import hopfield_settle, normalize
    acc: dict = {k: [] for k in ("same_top1", "top1_evidence", "attractor_evidence",
                                 "cos_q_state", "cos_attractor_state", "rank_by_q",
                                 "rank_by_state")}
    for case in cases:
        X, Q = (case.unit_words(), case.question_vectors()) if space == "words" else \
            case.paper_vectors()
        cand = np.argsort(-(Q @ X.T), axis=1, kind="stable")[:, :top]
        settled = hopfield_settle(torch.from_numpy(Q), torch.from_numpy(X[cand]), beta, 10, 1e-4)
        xi = normalize(settled.state).numpy()
        near = np.einsum("mkd,md->mk", X[cand], xi)
        for q, ev in enumerate(case.evidence):
            a = int(cand[q, int(np.argmax(near[q]))])
            acc["same_top1"].append(a == cand[q, 0])
            acc["top1_evidence"].append(cand[q, 0] in ev)
            acc["attractor_evidence"].append(a in ev)
            acc["cos_q_state"].append(float(Q[q] @ xi[q]))
            acc["cos_attractor_state"].append(float(X[a] @ xi[q]))
            by_state = cand[q][np.argsort(-near[q], kind="stable")].tolist()
            for e in ev:
                if e in cand[q]:
                    acc["rank_by_q"].append(cand[q].tolist().index(e) + 1)
                    acc["rank_by_state"].append(by_state.index(e) + 1)
    return {k: float(np.mean(v)) for k, v in acc.items()}


def recall_values(cases: list[Case], scores: Callable[[Case], np.ndarray],
                  at_k=(5, 10)) -> dict:
    """{(at_k, "overall" | "multi-hop"): [recall of each question]} over the cases."""
    acc: dict = {}
    for case in cases:
        order = np.argsort(-scores(case), axis=1, kind="stable")[:, :max(at_k)]
        for q, ev in enumerate(case.evidence):
            for k in at_k:
                r = len(set(order[q, :k].tolist()) & set(ev)) / len(ev)
                acc.setdefault((k, "overall"), []).append(r)
                if case.category[q] == "multi-hop":
                    acc.setdefault((k, "multi-hop"), []).append(r)
    return acc


def evaluate(idea: Idea, tune: list[Case], held: list[Case]) -> tuple[dict, dict]:
    """(tune, held-out) mean recall {(at_k, category): value} of one idea. A learned idea
    scores each tuning conversation with a model fitted on the other two, and the held-out
    ones with a model fitted on all three."""
    def mean(acc: dict) -> dict:
        return {k: float(np.mean(v)) for k, v in acc.items()}
    if idea.learn is not None:
        learn = idea.learn
        pooled: dict = {}
        for i, case in enumerate(tune):
            fitted = learn([c for j, c in enumerate(tune) if j != i])
            for key, v in recall_values([case], fitted).items():
                pooled.setdefault(key, []).extend(v)
        return mean(pooled), mean(recall_values(held, learn(tune))) if held else {}
    assert idea.run is not None
    return mean(recall_values(tune, idea.run)), mean(recall_values(held, idea.run)) \
        if held else {}


def row(cfg: RetrievalConfig) -> Callable[[Case], np.ndarray]:
    """A configuration's own scores (the rows the ideas are compared with)."""
    def run(case: Case) -> np.ndarray:
        return case.scores(cfg).total
    return run


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m nuonuo_core.bench ideas", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=DEFAULT_DATA, help="LoCoMo folder (default %(default)s)")
    p.add_argument("--ideas", default=",".join(IDEAS), help="comma list from: " +
                   ", ".join(IDEAS))
    p.add_argument("--tune-only", action="store_true", help="score the tuning split only")
    p.add_argument("--settling", action="store_true", help="also print what Hopfield "
                   "settling does to the question (settling())")
    args = p.parse_args(argv)
    names = [n.strip() for n in args.ideas.split(",") if n.strip()]
    unknown = [n for n in names if n not in IDEAS]
    if unknown or not names:
        print(f"error: unknown ideas {unknown}; choose from {list(IDEAS)}", file=sys.stderr)
        return 2
    from nuonuo_core.datasets.locomo import load_locomo
    from nuonuo_core.embed_cache import cached_minilm
    try:
        convs = {c.sample_id: c for c in load_locomo(args.data)}
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    want = TUNE + (() if args.tune_only else HELD)
    missing = [c for c in want if c not in convs]
    if missing:
        print(f"error: {args.data} lacks {missing}", file=sys.stderr)
        return 2
    enc = cached_minilm()
    tune = [Case(convs[c], enc) for c in TUNE]
    held = [] if args.tune_only else [Case(convs[c], enc) for c in HELD]
    print(f"{'idea':<28}{'on':<16}{'tune @10':>14}{'held @10':>14}{'tune @5':>14}"
          f"{'held @5':>14}   (overall / multi-hop)")
    for name in ["(base) hybrid+time", "(base) hybrid+session", "(base) cue"] + names:
        if name.startswith("(base) "):
            idea = Idea("", name[7:], "", row(PRESETS[name[7:]]))
        else:
            idea = IDEAS[name]
        t, h = evaluate(idea, tune, held)

        def cell(r: dict, k: int) -> str:
            return f"{r[(k, 'overall')]:.3f}/{r[(k, 'multi-hop')]:.3f}" if r else "-"
        print(f"{name:<28}{idea.base:<16}{cell(t, 10):>14}{cell(h, 10):>14}{cell(t, 5):>14}"
              f"{cell(h, 5):>14}", flush=True)
    if args.settling:
        print("\nsettling over the top 50 (all conversations scored):")
        for space in ("paper", "words"):
            for beta in (16.0, 64.0, 256.0):
                r = settling(tune + held, space, beta)
                print(f"  {space:<6} β {beta:>5g}: " + ", ".join(f"{k} {v:.3f}"
                                                              for k, v in r.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
