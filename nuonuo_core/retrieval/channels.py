"""The turns of one conversation memory, and the text channels computed from them.

A :class:`Corpus` holds n turns in order; the functions here turn it (and m query strings) into
(m, n) score matrices or link lists that :mod:`nuonuo_core.retrieval.scoring` fuses:
lexical BM25 (:class:`BM25Index`), late interaction over token vectors (:class:`TokenIndex`),
the speaker a question names, a turn prior (question turns, turn length), the dates a question
names, and the links the engine's Hebbian W stores (session neighbours, question -> reply,
shared rare words). Only the memory's own turns are used: never questions' answers or
evidence labels."""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

STOP = set("""a an the and or but if of to in on at for with from by about as is are was were be
been being do does did have has had i you he she it we they me him her us them my your his its
our their this that these those what when where who whom which why how not no so than too very
can will would should could just also there here said shared into any some all get got like
really""".split())


@dataclass
class Corpus:
    """The turns of one memory. ``paper`` (n,) texts in the paper's format, ``raw`` the turn's
    own words, ``session`` (n,) session numbers (turns in order), ``speaker`` (n,) names,
    ``names`` the participants' names (removed from queries for the cue channels), ``asks``
    (n,) optional bool: the turn is a question (default: ``raw`` ends with "?"), ``month``
    (n,) optional int: the session's date as year * 12 + month - 1, -1 where unknown, ``day``
    (n,) optional int: the turn's calendar day as a proleptic Gregorian ordinal
    (``datetime.date.toordinal``), -1 where unknown."""
    paper: list[str]
    raw: list[str]
    session: np.ndarray
    speaker: list[str]
    names: list[str]
    asks: Any = None       # (n,) bool after __post_init__
    month: Any = None      # (n,) int after __post_init__
    day: Any = None        # (n,) int after __post_init__

    def __post_init__(self) -> None:
        n = len(self.paper)
        if not (len(self.raw) == len(self.session) == len(self.speaker) == n) or n == 0:
            raise ValueError(f"corpus fields must be non-empty and of equal length, got "
                             f"{n}, {len(self.raw)}, {len(self.session)}, {len(self.speaker)}")
        if self.asks is None:
            self.asks = np.array([t.rstrip().endswith("?") for t in self.raw])
        self.asks = np.asarray(self.asks, dtype=bool)
        if self.asks.shape != (n,):
            raise ValueError(f"asks must have shape ({n},), got {self.asks.shape}")
        self.month = np.full(n, -1) if self.month is None else np.asarray(self.month, int)
        if self.month.shape != (n,):
            raise ValueError(f"month must have shape ({n},), got {self.month.shape}")
        self.day = np.full(n, -1) if self.day is None else np.asarray(self.day, int)
        if self.day.shape != (n,):
            raise ValueError(f"day must have shape ({n},), got {self.day.shape}")

    def _same_session(self, i: int, j: int) -> bool:
        return 0 <= j < len(self.raw) and self.session[i] == self.session[j]

    def context(self) -> list[str]:
        """Each turn preceded by the previous turn of its session (the context cue)."""
        return [(self.raw[i - 1] + " " if self._same_session(i, i - 1) else "") + self.raw[i]
                for i in range(len(self.raw))]

    def next_context(self) -> list[str]:
        """Each turn followed by the next turn of its session (the reply it got)."""
        return [self.raw[i] + (" " + self.raw[i + 1] if self._same_session(i, i + 1) else "")
                for i in range(len(self.raw))]

    @property
    def is_dialogue(self) -> bool:
        """Turns by two or more speakers (LongMemEval's user-only haystacks are not)."""
        return len(set(self.speaker)) > 1


def zscore(s: np.ndarray) -> np.ndarray:
    """Row-wise z-score of a (m, n) matrix (channels are fused on this common scale)."""
    return (s - s.mean(1, keepdims=True)) / (s.std(1, keepdims=True) + 1e-9)


def strip_names(text: str, names: Sequence[str]) -> str:
    """Remove participant names (and 's) from a query:
    "What did Mel's son do" -> "What did son do"."""
    out = text
    for n in names:
        if n:
            out = re.sub(rf"\b{re.escape(n)}(?:'s|’s)?\b", " ", out, flags=re.I)
    return re.sub(r"\s+", " ", out).strip() or text    # only names: the question as asked


def _stem(w: str) -> str:
    for suf in ("ing", "ed", "es", "s"):
        if len(w) > 4 and w.endswith(suf):
            return w[: -len(suf)]
    return w


def tokens(text: str) -> list[str]:
    """Lower-cased, stop-word-free, crudely stemmed words."""
    return [_stem(w) for w in re.findall(r"[a-z0-9']+", text.lower())
            if w not in STOP and len(w) > 1]


class BM25Index:
    """Okapi BM25 postings of n documents (idf = ln(1 + (N - df + .5) / (df + .5)))."""

    def __init__(self, docs: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        toks = [tokens(d) for d in docs]
        self.n = len(toks)
        avg = max(float(np.mean([len(t) for t in toks])), 1.0) if toks else 1.0
        self.df = Counter(w for t in toks for w in set(t))
        self.post: dict[str, list[tuple[int, float]]] = {}
        for j, t in enumerate(toks):
            norm = k1 * (1 - b + b * len(t) / avg)
            for w, f in Counter(t).items():
                self.post.setdefault(w, []).append((j, f * (k1 + 1) / (f + norm)))

    def idf(self, w: str) -> float:
        df, n = self.df, self.n
        return math.log(1 + (n - df[w] + 0.5) / (df[w] + 0.5)) if w in df else 0.0

    def scores(self, queries: Sequence[str]) -> np.ndarray:
        """(m, n) float32 BM25 scores of the queries."""
        out = np.zeros((len(queries), self.n), dtype=np.float32)
        for i, q in enumerate(queries):
            for w in dict.fromkeys(tokens(q)):   # a fixed order: the same floats every run
                idf = self.idf(w)
                for j, v in self.post.get(w, ()):
                    out[i, j] += idf * v
        return out


def bm25_scores(docs: Sequence[str], queries: Sequence[str], k1: float = 1.2,
                b: float = 0.75) -> np.ndarray:
    """Okapi BM25 (idf = ln(1 + (N - df + .5) / (df + .5))) -> (m, n) float32."""
    return BM25Index(docs, k1, b).scores(queries)


def speaker_mask(corpus: Corpus, queries: Sequence[str]) -> np.ndarray:
    """(m, n) 1.0 on the turns of the one participant a query names (0 if it names 0 or 2)."""
    spk = np.array(corpus.speaker)
    out = np.zeros((len(queries), len(spk)), dtype=np.float32)
    for i, q in enumerate(queries):
        hit = [n for n in corpus.names if n and re.search(rf"\b{re.escape(n)}\b", q, re.I)]
        if len(hit) == 1:
            out[i] = spk == hit[0]
    return out


def turn_prior(corpus: Corpus, w_question: float, w_length: float) -> np.ndarray:
    """(n,) query-independent prior: ``-w_question`` on turns that ask a question (in a
    dialogue the facts are in the replies, not in the question), plus ``w_length`` x the
    z-scored log(1 + content words) (longer turns state more)."""
    n_words = np.log1p(np.array([len(tokens(t)) for t in corpus.raw], dtype=np.float32))
    prior = w_length * zscore(n_words[None, :])[0]
    if corpus.is_dialogue:
        prior = prior - w_question * corpus.asks.astype(np.float32)
    return prior.astype(np.float32)


MONTHS = ("january february march april may june july august september october november "
          "december").split()


def parse_month(date: str | None) -> int:
    """A session date -> year * 12 + month - 1 (-1 if unparsable). Accepts LoCoMo's
    "1:56 pm on 8 May, 2023" and LongMemEval's "2023/05/20 (Sat) 02:21"."""
    m = re.search(r"\b(\d{1,2}) ([A-Za-z]+),? (\d{4})\b", date or "")
    if m and m.group(2).lower() in MONTHS:
        return int(m.group(3)) * 12 + MONTHS.index(m.group(2).lower())
    m = re.search(r"\b(\d{4})/(\d{1,2})/\d{1,2}\b", date or "")
    if m and 1 <= int(m.group(2)) <= 12:
        return int(m.group(1)) * 12 + int(m.group(2)) - 1
    return -1


def time_match(corpus: Corpus, queries: Sequence[str]) -> np.ndarray:
    """(m, n) 1.0 on turns whose session date fits the time a query names: a month (with or
    without a year) matches sessions in that month or the next (events are told within
    weeks), a bare year matches that year; 0 everywhere for queries naming no time."""
    year = corpus.month // 12
    known = corpus.month >= 0
    out = np.zeros((len(queries), len(corpus.month)), dtype=np.float32)
    for i, q in enumerate(queries):
        ql = q.lower()
        ys = re.findall(r"\b(?:19|20)\d\d\b", ql)
        ms = [MONTHS.index(w) for w in re.findall(rf"\b({'|'.join(MONTHS)})\b", ql)]
        if ms:
            named = (int(ys[0]) if ys else year) * 12 + ms[0]
            out[i] = known & (corpus.month - named >= 0) & (corpus.month - named <= 1)
        elif ys:
            out[i] = known & (year == int(ys[0]))
    return out


_MON = "|".join(MONTHS + [m[:3] for m in MONTHS] + ["sept"])
_DAY_DMY = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MON})\b\.?,?"
                      rf"(?:\s+(\d{{4}})\b)?", re.I)
_DAY_MDY = re.compile(rf"\b({_MON})\b\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?!:)(?:,?\s+(\d{{4}})\b)?",
                      re.I)
_DAY_ISO = re.compile(r"\b(\d{4})[-/](\d{1,2})[-/](\d{1,2})\b")


def _month_number(word: str) -> int:
    w = word.lower()
    return 9 if w == "sept" else next(i + 1 for i, m in enumerate(MONTHS) if m.startswith(w))


def question_days(question: str) -> list[tuple[int | None, int, int]]:
    """The calendar days a question names, as (year or None, month, day): "3 June, 2023",
    "June 3rd 2023", "on 3 June" (no year), "2023-06-03", "2023/06/03". Impossible dates are
    left out; "may" names a month only when written "May"."""
    import datetime as _dt
    out: list[tuple[int | None, int, int]] = []
    found = [(m.group(3), m.group(2), m.group(1)) for m in _DAY_DMY.finditer(question)
             if m.group(2) != "may"]
    found += [(m.group(3), m.group(1), m.group(2)) for m in _DAY_MDY.finditer(question)
              if m.group(1) != "may"]
    for y, mon, d in found:
        month = _month_number(mon)
        try:
            _dt.date(int(y) if y else 2000, month, int(d))   # 2000: a leap year
        except ValueError:
            continue
        out.append((int(y) if y else None, month, int(d)))
    for m in _DAY_ISO.finditer(question):
        try:
            _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            continue
        out.append((int(m.group(1)), int(m.group(2)), int(m.group(3))))
    return list(dict.fromkeys(out))


def day_match(corpus: Corpus, queries: Sequence[str]) -> np.ndarray:
    """(m, n) 1.0 on turns dated the calendar day a query names ("What did Maria share on
    16 June, 2023?"; without a year, that day of any year); 0 for queries naming no day."""
    import datetime as _dt
    known = corpus.day >= 0
    dates = [_dt.date.fromordinal(int(o)) if o > 0 else None for o in corpus.day]
    md = np.array([(d.month * 100 + d.day) if d else -1 for d in dates])
    out = np.zeros((len(queries), len(corpus.day)), dtype=np.float32)
    for i, q in enumerate(queries):
        for y, mon, d in question_days(q):
            if y is None:
                out[i] = np.maximum(out[i], known & (md == mon * 100 + d))
            else:
                out[i] = np.maximum(out[i], known & (corpus.day == _dt.date(y, mon, d).toordinal()))
    return out


# Words that make a question ask for a list gathered across sessions (docs/retrieval.md).
_PARTICIPLES = set("""been done seen read made taken gone bought written met had given won tried
grown known heard found kept lost taught thought brought built drawn eaten felt fought held left
run sung spent worn begun become chosen driven flown forgotten ridden shown spoken sold sent told
understood""".split())
_NOT_PLURAL = set("is was does has this its his yes us always perhaps".split())
_WH_HEAD = re.compile(r"^(?:what|which)\s+(?:kinds? of |types? of |sorts? of )?"
                      r"([a-z'-]+\s+)?([a-z'-]+)")


def is_list_question(question: str) -> bool:
    """A question that asks for several things gathered over the conversation: it says
    "both", uses the present perfect ("What books has Melanie read?", "Where has Maria made
    friends?") or asks for a plural ("What activities ...", "Which cities ..."). Designed on
    the tuning conversations' questions (conv-26/30/41): it flags 53 of their 74 multi-hop
    questions and 72 of their 421 others."""
    ql = question.lower().replace("\u2019", "'")
    if re.search(r"\bboth\b", ql):
        return True
    words = re.findall(r"[a-z']+", ql)
    for i, w in enumerate(words):
        if w in ("has", "have") and i > 0:
            if any(v in _PARTICIPLES or (v.endswith("ed") and len(v) > 3)
                   for v in words[i + 1:i + 5]):
                return True
    m = _WH_HEAD.match(ql.strip())
    if m:
        for w in (m.group(1) or "").split() + [m.group(2)]:
            if w.endswith("s") and not w.endswith(("ss", "'s")) and w not in _NOT_PLURAL \
                    and len(w) > 3:
                return True
    return False


def session_scores(first: np.ndarray, session: np.ndarray) -> np.ndarray:
    """Session-level stage: each turn gets its session's best score in ``first`` (m, n),
    z-scored over the memory's sessions per question -> (m, n) float32 (0 with one session)."""
    order = np.argsort(session, kind="stable")
    keys, starts = np.unique(session[order], return_index=True)
    best = np.maximum.reduceat(first[:, order], starts, axis=1)          # (m, S)
    z = zscore(best.astype(np.float64)).astype(np.float32)
    return z[:, np.searchsorted(keys, session)]


def diversity_penalty(total: np.ndarray, unit: np.ndarray, lam: float, depth: int,
                      rows: np.ndarray) -> np.ndarray:
    """Sequential retrieval with suppression (maximal marginal relevance) for the questions
    ``rows`` (m,) bool: take the best turn by ``total`` (m, n); suppress every turn by its
    largest cosine (``unit`` (n, d) unit rows, clipped at 0) with the turns taken so far; take
    the best of ``total - lam * suppression``; ``depth`` times. Returns the suppression (m, n)
    >= 0: for a taken turn its value when taken, for the others the value after the last take
    (0 on other rows). Since suppression only grows, ``total - lam * suppression`` ranks the
    taken turns first, in the order taken (exact ties aside), then the others."""
    m, n = total.shape
    out = np.zeros((m, n), dtype=np.float32)
    for q in np.nonzero(rows)[0].tolist():
        sc = total[q].astype(np.float64)
        pen = np.zeros(n)
        left = np.ones(n, dtype=bool)
        for _ in range(min(depth, n)):
            b = int(np.argmax(np.where(left, sc - lam * pen, -np.inf)))
            out[q, b] = pen[b]
            left[b] = False
            pen = np.maximum(pen, unit @ unit[b])
        out[q, left] = pen[left]
    return out


def session_links(corpus: Corpus) -> list[tuple[int, int]]:
    """Directed links between neighbouring turns of a session (i -> i+1 and i+1 -> i)."""
    s = corpus.session
    return [p for i in range(len(s) - 1) if s[i] == s[i + 1] for p in ((i, i + 1), (i + 1, i))]


def reply_links(corpus: Corpus) -> list[tuple[int, int]]:
    """Question -> reply: a turn that asks a question links to the next turn of its session.
    Only for dialogues; a single-speaker corpus falls back to :func:`session_links`."""
    if not corpus.is_dialogue:
        return session_links(corpus)
    s = corpus.session
    return [(i, i + 1) for i in range(len(s) - 1) if s[i] == s[i + 1] and corpus.asks[i]]


def entity_links(corpus: Corpus, max_df: int) -> list[tuple[int, int]]:
    """Links between turns of different sessions sharing a rare capitalised word (not a name)."""
    names = {n.lower() for n in corpus.names}
    where: dict[str, set[int]] = {}
    for j, t in enumerate(corpus.raw):
        for w in set(re.findall(r"(?<![.!?]\s)(?<!^)\b([A-Z][a-zA-Z]{2,})", t)):
            if w.lower() not in names and w.lower() not in STOP:
                where.setdefault(w, set()).add(j)
    out: set[tuple[int, int]] = set()
    for js in where.values():
        if 2 <= len(js) <= max_df:
            out.update((a, b) for a in js for b in js if a != b and
                       corpus.session[a] != corpus.session[b])
    return sorted(out)


class TokenIndex:
    """Token vectors of n documents for late interaction (ColBERT's MaxSim), untrained.

    ``doc_tokens``: [(tokens, (t, d) unit vectors)], at least one token per document."""

    def __init__(self, doc_tokens: list) -> None:
        self.n = len(doc_tokens)
        lens = np.array([len(v) for _, v in doc_tokens])
        if self.n == 0 or (lens < 1).any():
            raise ValueError("every document needs at least one token vector")
        self.flat = np.concatenate([v for _, v in doc_tokens]).astype(np.float32)
        self.starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
        self.df = Counter(t for toks, _ in doc_tokens for t in set(toks))

    @staticmethod
    def content(toks: list[str]) -> list[int]:
        """Positions of a query's content tokens (alphabetic, not a stop word, not a "##"
        piece); all positions if none is left."""
        keep = [j for j, t in enumerate(toks)
                if t.isalpha() and t.lower() not in STOP and not t.startswith("##")]
        return keep or list(range(len(toks)))

    def idf(self, tok: str) -> float:
        n, df = self.n, self.df[tok]
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def best(self, toks: list[str], vecs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One query's content tokens: their idf (t,) and, per document, each one's best
        cosine with any of the document's tokens (t, n); (0,) and (0, n) without tokens."""
        keep = self.content(toks)
        if not keep:
            return np.zeros(0, np.float32), np.zeros((0, self.n), np.float32)
        idf = np.array([self.idf(toks[j]) for j in keep], dtype=np.float32)
        return idf, np.maximum.reduceat(small_matmul(vecs[keep].astype(np.float32), self.flat),
                                        self.starts, axis=1)

    def scores(self, query_tokens: list) -> np.ndarray:
        """(m, n): per document, the idf-weighted mean over the query's content tokens of the
        best cosine with any of the document's tokens."""
        out = np.zeros((len(query_tokens), self.n), dtype=np.float32)
        for i, (toks, vecs) in enumerate(query_tokens):
            idf, best = self.best(toks, vecs)
            if len(idf):
                out[i] = idf @ best / max(float(idf.sum()), 1e-9)
        return out


# OpenBLAS runs a product on one thread when m * n * k <= 65536 * 4 (its SMP threshold).
_ONE_THREAD_WORK = 262_144


def small_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b.T`` for a few rows ``a`` (m, k) against many rows ``b`` (n, k), in column
    blocks small enough that OpenBLAS computes each on one thread. A question's tokens
    against a conversation's (~15,000 x 384) took 15 ms as one product and 2 ms in blocks
    here beside busy cores: two-thread BLAS waits for the busy core at every call."""
    m, k = a.shape
    step = max(16, _ONE_THREAD_WORK // max(m * k, 1) - 1)
    if b.shape[0] <= step:
        return a @ b.T
    return np.concatenate([a @ b[s:s + step].T for s in range(0, b.shape[0], step)], axis=1)


def token_maxsim(query_tokens: list, doc_tokens: list) -> np.ndarray:
    """Late interaction (ColBERT's MaxSim) over untrained contextual token vectors -> (m, n).

    Each query keeps its content tokens (alphabetic, not a stop word, not a "##" word piece;
    all tokens if none are left); a document scores the idf-weighted mean over them of the
    best cosine with any of its tokens. idf = ln(1 + (N - df + .5) / (df + .5)) of the token
    over the documents (an unseen token gets df 0). ``*_tokens``: [(tokens, (t, d) unit vectors)].
    """
    return TokenIndex(doc_tokens).scores(query_tokens)
