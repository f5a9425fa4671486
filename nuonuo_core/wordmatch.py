"""Word coverage: does every content word of a memory's cue find a counterpart in the query?

An option of text recall (``MemoryConfig.word_match``; docs/abstention.md has the research
behind it). A sentence cosine cannot see a swapped entity: "What is the chemical symbol of
silver?" sits at 0.84 from the stored "What is the chemical symbol of gold?". Here each
content word of a cue row (alphabetic, not a stop word) looks for its best counterpart among
the query's words, by the cosine of MiniLM's contextual token vectors (word pieces averaged
into words); a row's *coverage* is the smallest of those, and a memory's is the best over its
cue rows (cue and paraphrases). The word-match score of a (query, memory) pair is

    cue cosine × max(coverage, 0)

(the cue cosine as the engine scores it: the query's cosine with the memory's best cue row).
It depends only on the query and that memory's own texts, never on what else is stored.

Shapes: a text's words are ``(words list[str], (w, d) unit float32)``.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import numpy as np

# the stop words of nuonuo_core.retrieval.channels (kept here: the engine must not import
# the retrieval package, which imports the engine)
STOP = frozenset("""a an the and or but if of to in on at for with from by about as is are was
were be been being do does did have has had i you he she it we they me him her us them my your
his its our their this that these those what when where who whom which why how not no so than
too very can will would should could just also there here said shared into any some all get
got like really""".split())

WordVectors = tuple[list[str], np.ndarray]


def words(pieces: Sequence[str], vecs: np.ndarray) -> WordVectors:
    """Word pieces and their (t, d) vectors -> words ("##" pieces joined to the word before)
    and (w, d) unit vectors (the mean of each word's pieces)."""
    names: list[str] = []
    groups: list[list[int]] = []
    for j, p in enumerate(pieces):
        if p.startswith("##") and names:
            names[-1] += p[2:]
            groups[-1].append(j)
        else:
            names.append(p)
            groups.append([j])
    vecs = np.asarray(vecs, dtype=np.float32)
    if not names:
        return [], np.zeros((0, vecs.shape[1] if vecs.ndim == 2 else 0), np.float32)
    out = np.stack([vecs[g].mean(0) for g in groups])
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
    return names, out.astype(np.float32)


def content(names: Sequence[str]) -> list[int]:
    """Positions of the content words: alphabetic, not a stop word, longer than one letter
    (all positions when none is left: "k-WTA", "Who is it?")."""
    keep = [j for j, w in enumerate(names)
            if w.isalpha() and w.lower() not in STOP and len(w) > 1]
    return keep or list(range(len(names)))


def coverage(query: WordVectors, rows: Sequence[WordVectors]) -> float:
    """The best over ``rows`` (a memory's cue rows) of the smallest, over the row's content
    words, of the word's best cosine with any word of ``query``; in [-1, 1]. 0 when either
    side has no words."""
    q = query[1]
    best = None
    for names, vecs in rows:
        if not len(names) or not len(q):
            continue
        sims = vecs[content(names)] @ q.T          # (row content words, query words)
        row = float(sims.max(axis=1).min())
        best = row if best is None else max(best, row)
    return 0.0 if best is None else best


def has_tokens(encoder) -> bool:
    """Whether ``encoder`` gives token vectors (what :func:`encode` needs)."""
    return hasattr(encoder, "embed_with_tokens") or hasattr(encoder, "token_vectors")


def encode(encoder, texts: list[str]) -> tuple[np.ndarray, list[WordVectors]]:
    """Sentence vectors (n, d) and word vectors of ``texts`` from ``encoder``: one forward
    pass with ``embed_with_tokens`` (MiniLM), else ``encoder(texts)`` and
    ``encoder.token_vectors(texts)``; ValueError for an encoder with neither."""
    if hasattr(encoder, "embed_with_tokens"):
        vecs, toks = encoder.embed_with_tokens(texts)
    elif hasattr(encoder, "token_vectors"):
        vecs, toks = encoder(texts), encoder.token_vectors(texts)
    else:
        raise ValueError("word_match needs an encoder with token vectors (MiniLMEncoder, "
                         f"HashingEncoder), got {type(encoder).__name__}")
    return np.asarray(vecs, dtype=np.float32), [words(p, v) for p, v in toks]


class WordCache:
    """Word vectors of stored texts, computed on first use and kept (least recently used
    first out) for ``capacity`` texts; keyed by the text itself, so it never goes stale."""

    def __init__(self, capacity: int = 4096):
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        self._d: OrderedDict[str, WordVectors] = OrderedDict()

    def __len__(self) -> int:
        return len(self._d)

    def get(self, encoder, texts: Sequence[str]) -> list[WordVectors]:
        missing = list(dict.fromkeys(t for t in texts if t not in self._d))
        if missing:
            _, got = encode(encoder, missing)
            self._d.update(zip(missing, got))
        out = []
        for t in texts:
            self._d.move_to_end(t)
            out.append(self._d[t])
        while len(self._d) > self.capacity:
            self._d.popitem(last=False)
        return out


def rescore(best_scores: np.ndarray, best_ids: np.ndarray, query_words: list[WordVectors],
            rows_of, cache: WordCache, encoder) -> tuple[np.ndarray, np.ndarray]:
    """(m, k) scores and ids of m text queries -> (scores, has_text): the word-match score
    (score × max(coverage, 0)) of each answer whose memory has cue texts, the score unchanged
    elsewhere; ``has_text`` (m, k) bool marks the re-scored answers. ``rows_of(id)`` gives a
    memory's cue row texts (cue and paraphrases) or None for a vector memory."""
    out = np.array(best_scores, dtype=np.float32, copy=True)
    has = np.zeros(out.shape, dtype=bool)
    rows = {int(i): rows_of(int(i)) for i in np.unique(best_ids) if i >= 0}
    need = [t for r in rows.values() if r for t in r]
    if not need:
        return out, has
    table = dict(zip(need, cache.get(encoder, need)))
    for (a, b), mid in np.ndenumerate(best_ids):
        r = rows.get(int(mid)) if mid >= 0 else None
        if r:
            cov = coverage(query_words[a], [table[t] for t in r])
            out[a, b] = np.float32(out[a, b] * max(cov, 0.0))
            has[a, b] = True
    return out, has
