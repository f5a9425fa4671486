"""ConversationMemory: a conversation's turns in, the turns that answer a question out.

>>> mem = ConversationMemory()                      # default config (hybrid+lists) and MiniLM
>>> mem.add_turns([{"id": "S1:1", "text": "We adopted a dog!", "speaker": "Maya",
...                 "session": "1", "time": "2024-03-02"}])
>>> hits = mem.search("Does Maya have pets?", k=5)  # best first: id, score, text, speaker...

What is stored per turn: its fields, and sentence vectors of the turn's own words, of the
paper's ``{speaker} said, "{text}"`` text (only when a configuration uses it), of the turn
after its predecessor and before its reply in the same session (context texts), and its token
vectors. Everything else (BM25 postings, token idf, the engine's Hebbian links over question
-> reply, the engine memories that rank or settle) is derived from all turns when a search
needs it, so adding turns in several calls ranks exactly as adding the same turns, in the same
order, in one call: every derived statistic (BM25's idf and mean length, token idf, the turn
prior's z-score, the mean the link embeddings are centred on, the participants' names) is
computed over all turns at search time, and a turn's context texts are recomputed when a
later call continues its session (the last turn of a session gains its reply). The one
proviso is the encoder: it must return the same vector for the same text. The on-disk cache
(the default) guarantees it; an uncached MiniLM can differ in the last float bits when the
same text is embedded in a different batch, which can swap two turns whose scores tie to ~1e-7.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from . import files
from .channels import (BM25Index, Corpus, TokenIndex, day_match, diversity_penalty,
                       entity_links, is_list_question, reply_links, session_links,
                       session_scores, speaker_mask, strip_names, time_match, tokens,
                       turn_prior, zscore)
from .config import RetrievalConfig
from .embedder import Embedder, as_embedder
from .engine import EngineRanker, Links, center, hebbian_links, link_sources, spread
from .limits import check_count, check_int, check_text
from .turns import Turn, check_turns, pair_texts

Progress = Callable[[int, int, str], None]    # (done, total, message)
SPACES = ("words", "paper", "context", "reply")   # sentence-vector rows kept per turn
_CHUNK = 256                                   # turns embedded per progress step


@dataclass(frozen=True)
class LinkHit:
    """The Hebbian W link that lifted a turn: one hop from turn ``from_id`` (a first-hop
    match) reached it with engine score ``strength`` (target-code overlap), adding ``gain``."""
    from_id: str
    strength: float
    gain: float


@dataclass(frozen=True)
class Hit:
    """One retrieved turn. ``score``: the fused score (a sum of z-scored channel scores; only
    its order is meaningful). With ``explain=True``: ``channels`` holds each channel's
    contribution (weight x z-scored value; they and ``links`` sum to ``score``, up to float
    rounding), ``raw`` the channel values before weighting (cosines, BM25, token MaxSim,
    0/1 for speaker, question, time and day, content words for length, the session's
    z-scored best score, the link strength, a list question's suppression: the largest
    centred cosine with a turn taken before it),
    ``link`` the W link that lifted the turn (None if none did). ``engine_rank``: 1-based
    rank in the engine's own recall for engine configurations (the score is then
    ``engine_top - rank + 1`` for the engine's turns)."""
    id: str
    score: float
    rank: int
    text: str
    speaker: str | None
    session: str | None
    time: str | None
    caption: str | None = None
    channels: dict | None = None
    raw: dict | None = None
    link: LinkHit | None = None
    engine_rank: int | None = None


@dataclass(frozen=True)
class SettleTrace:
    """The engine's two-stage Hopfield recall of a question over the memory's turns:
    stage 1 takes the ``len(candidate_ids)`` turns most similar to the question, stage 2
    settles ξ ← Xᵀ softmax(β X ξ); ``attention`` (steps, K) over the candidates at every
    step, ``energy`` (steps + 1,), the turn it settles to (``answer_id``, cosine
    ``answer_score``). ``space``: which turn vectors ("words" or "paper")."""
    question: str
    space: str
    beta: float
    candidate_ids: list
    stage1_scores: np.ndarray
    attention: np.ndarray
    energy: np.ndarray
    answer_id: str | None
    answer_score: float


@dataclass
class Scores:
    """A configuration's scores for m questions over n turns: ``total`` (m, n) ranks them;
    ``first`` is the sum before the W hop, ``terms`` each channel's contribution ((m, n), or
    (n,) for the prior parts; "diversity", applied after the hop, included), ``raw`` the
    channel values, ``hop`` the W hop's gain before its weight (None without links),
    ``engine`` (m, depth) turn positions the engine ranked first (None without the engine)."""
    total: np.ndarray
    first: np.ndarray
    terms: dict
    raw: dict
    hop: np.ndarray | None
    links: Links | None
    engine: np.ndarray | None


class ConversationMemory:
    """A conversation memory: :meth:`add_turns`, :meth:`search`, :meth:`save` /
    :meth:`load`. ``config``: a :class:`RetrievalConfig` (default: the ``hybrid+lists`` row);
    ``encoder``: see :func:`~nuonuo_core.retrieval.embedder.as_embedder` (default: MiniLM
    behind the on-disk embedding cache). Not safe for concurrent use from several threads."""

    def __init__(self, config: RetrievalConfig | None = None, encoder=None) -> None:
        config = RetrievalConfig() if config is None else config
        if not isinstance(config, RetrievalConfig):
            raise ValueError(f"config must be a RetrievalConfig, got {type(config).__name__}")
        self._config = config
        self._embedder: Embedder | None = None if encoder is None else as_embedder(encoder)
        self._turns: list[Turn] = []
        self._pos: dict[str, int] = {}
        self._month: list[int] = []
        self._dim: int | None = None
        self._vec: dict[str, np.ndarray] = {}       # space -> (n, d)
        self._pair_text: dict[str, list[str]] = {}  # "context" / "reply" -> texts embedded
        self._tok: list | None = None                # [(pieces, (t, d))] per turn
        self._cache: dict = {}                       # derived from all turns (cleared on add)

    # --- the turns ------------------------------------------------------------------
    @property
    def config(self) -> RetrievalConfig:
        return self._config

    @config.setter
    def config(self, config: RetrievalConfig) -> None:
        if not isinstance(config, RetrievalConfig):
            raise ValueError(f"config must be a RetrievalConfig, got {type(config).__name__}")
        self._config = config

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = as_embedder(None)
        return self._embedder

    def __len__(self) -> int:
        return len(self._turns)

    def __contains__(self, turn_id) -> bool:
        return turn_id in self._pos

    def ids(self) -> list[str]:
        return [t.id for t in self._turns]

    def turns(self) -> list[dict]:
        """Every turn as a dict, in the order added."""
        return [t.to_dict() for t in self._turns]

    def turn(self, turn_id: str) -> dict:
        if turn_id not in self._pos:
            raise KeyError(f"no turn with id {str(turn_id)[:40]!r}")
        return self._turns[self._pos[turn_id]].to_dict()

    @property
    def participants(self) -> list[str]:
        """Distinct speakers, first-seen order (their names are removed from questions for
        the dense cue, and a question naming exactly one of them turns on the speaker
        channel)."""
        return list(dict.fromkeys(t.speaker for t in self._turns if t.speaker is not None))

    def add_turns(self, turns: Sequence[dict], progress: Progress | None = None) -> list[str]:
        """Add turns (dicts, see :mod:`~nuonuo_core.retrieval.turns`) after the stored ones;
        returns their ids. All are validated first; on any error nothing is added."""
        new = check_turns(turns, set(self._pos), len(self._turns))
        if not new:
            return []
        all_turns = self._turns + new
        spaces = self._spaces() | self._config.needs()
        got = self._encode(all_turns, len(self._turns), spaces, progress)
        months = [t.month_index for t in new]
        # every check and every embedding done: now change state
        self._turns = all_turns
        base = len(self._pos)
        self._pos.update((t.id, base + i) for i, t in enumerate(new))
        self._month += months
        self._vec, self._pair_text, self._tok, self._dim = got
        self._cache = {}
        return [t.id for t in new]

    def _spaces(self) -> set[str]:
        """Embedding spaces kept so far (as RetrievalConfig.needs names them)."""
        out: set[str] = {s for s in ("words", "paper") if s in self._vec}
        if "context" in self._vec:
            out.add("pairs")
        if self._tok is not None:
            out.add("tokens")
        return out

    def _encode(self, turns: list[Turn], start: int, spaces: set[str],
                progress: Progress | None):
        """Vectors of ``turns`` for ``spaces``: rows before ``start`` reused where their text
        is unchanged -> (vectors by space, context texts, token vectors); state untouched."""
        emb = self.embedder
        vec = dict(self._vec)
        tok = self._tok
        n = len(turns)
        total = (n - start) * len(spaces)
        done = 0
        dim = self._dim

        def put(space: str, rows: np.ndarray, at: int | np.ndarray) -> None:
            nonlocal dim
            if rows.size == 0:
                return
            if rows.ndim != 2 or (dim is not None and rows.shape[1] != dim) or \
                    not np.isfinite(rows).all():
                raise ValueError(f"the encoder returned {rows.shape} vectors (finite "
                                 f"{dim or 'd'}-d rows expected)")
            dim = dim or rows.shape[1]
            old = vec.get(space)
            out = np.zeros((n, rows.shape[1]), np.float32)
            if old is not None:
                out[:len(old)] = old
            out[at if isinstance(at, np.ndarray) else slice(at, at + len(rows))] = rows
            vec[space] = out

        def tell(what: str, k: int) -> None:
            nonlocal done
            done += k
            if progress is not None:
                progress(min(done, total), total, what)

        words = [t.words for t in turns]
        want_tok = "tokens" in spaces
        if "words" in spaces or want_tok:     # token vectors come with the words' vectors
            w0 = start if "words" in vec else 0
            t0 = len(tok) if tok is not None else 0   # <= w0: kept tokens imply kept words
            for a in range(t0, w0, _CHUNK) if want_tok else ():
                tok = list(tok or []) + list(emb.tokens(words[a:min(a + _CHUNK, w0)],
                                                        dim or 384))
                tell("token vectors of stored turns", min(_CHUNK, w0 - a))
            for a in range(w0, n, _CHUNK):
                chunk = words[a:a + _CHUNK]
                if want_tok:
                    rows, toks = emb.embed_tokens(chunk)
                    tok = list(tok or []) + list(toks)
                else:
                    rows = emb.embed(chunk)
                put("words", rows, a)
                tell("embedding turns", len(chunk))
        if "paper" in spaces:
            for a in range(start if "paper" in vec else 0, n, _CHUNK):
                chunk = [t.paper for t in turns[a:a + _CHUNK]]
                put("paper", emb.embed(chunk), a)
                tell("embedding turns with their speaker", len(chunk))
        if tok is not None and (len(tok) != n or any(len(v) == 0 for _, v in tok)):
            raise ValueError("the token encoder returned no token vector for a turn")
        if "pairs" in spaces:
            texts = pair_texts(turns)
            changed = {s: [i for i in range(n) if i >= len(self._pair_text.get(s, []))
                           or self._pair_text[s][i] != texts[s][i]] for s in texts}
            todo = list(dict.fromkeys(texts[s][i] for s in texts for i in changed[s]))
            got: dict[str, np.ndarray] = {}
            for a in range(0, len(todo), _CHUNK):
                part = todo[a:a + _CHUNK]
                got.update(zip(part, emb.embed(part)))
                tell("embedding context texts", len(part) // 2)
            for s in texts:
                if changed[s]:
                    put(s, np.stack([got[texts[s][i]] for i in changed[s]]),
                        np.array(changed[s]))
            pair_text = texts
        else:
            pair_text = self._pair_text
        return vec, pair_text, tok, dim

    def _ensure(self, spaces: set[str]) -> None:
        """Embed spaces a configuration needs that this memory does not keep yet."""
        missing = spaces - self._spaces()
        if missing and self._turns:
            got = self._encode(self._turns, len(self._turns), missing | self._spaces(), None)
            self._vec, self._pair_text, self._tok, self._dim = got
            self._cache = {}

    # --- derived state --------------------------------------------------------------
    def _derived(self, key, build):
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def corpus(self) -> Corpus:
        """The turns as the channel functions read them (built once per change)."""
        def build() -> Corpus:
            t = self._turns
            keys = {k: i for i, k in enumerate(dict.fromkeys(x.session_key for x in t))}
            return Corpus([x.paper for x in t], [x.words for x in t],
                          np.array([keys[x.session_key] for x in t]),
                          [x.speaker if x.speaker is not None else "" for x in t],
                          self.participants, asks=np.array([x.asks for x in t]),
                          month=np.array(self._month, dtype=int),
                          day=np.array([x.day_index for x in t], dtype=int))
        return self._derived("corpus", build)

    def _bm25(self) -> BM25Index:
        return self._derived("bm25", lambda: BM25Index(self.corpus().raw))

    def _token_index(self) -> TokenIndex:
        assert self._tok is not None
        return self._derived("tokens", lambda: TokenIndex(self._tok or []))

    def _n_words(self) -> np.ndarray:
        return self._derived("n_words", lambda: np.array(
            [len(tokens(t)) for t in self.corpus().raw], dtype=np.float32))

    def _links(self, cfg: RetrievalConfig) -> Links:
        def build() -> Links:
            c = self.corpus()
            pairs = {"reply": lambda: reply_links(c), "session": lambda: session_links(c),
                     "reply+entities": lambda: reply_links(c) +
                     entity_links(c, cfg.entity_max_df)}[cfg.links]()
            return hebbian_links(self._vec[cfg.link_space], pairs, cfg)
        key = ("links", cfg.links, cfg.link_space, cfg.fanout, cfg.seed,
               cfg.entity_max_df if cfg.links == "reply+entities" else None)
        return self._derived(key, build)

    def _ranker(self, cfg: RetrievalConfig, space: str, paraphrases: bool) -> EngineRanker:
        def build() -> EngineRanker:
            para = [np.stack(p) for p in zip(self._vec["context"], self._vec["reply"])] \
                if paraphrases else None
            return EngineRanker(self._vec[space], cfg, para)
        return self._derived(("engine", space, paraphrases, cfg.beta, cfg.seed), build)

    # --- search ---------------------------------------------------------------------
    def _questions(self, questions) -> list[str]:
        if isinstance(questions, str) or not isinstance(questions, (list, tuple)):
            raise ValueError(f"questions must be a list of strings, got "
                             f"{type(questions).__name__}")
        check_count("questions", len(questions), "the number of questions")
        out = []
        for i, q in enumerate(questions):
            check_text("question_chars", q, f"questions[{i}]")
            if not q.strip():
                raise ValueError(f"questions[{i}] is blank")
            out.append(q)
        return out

    def scores(self, questions: Sequence[str], config: RetrievalConfig | None = None) -> Scores:
        """Score every turn for each question (:class:`Scores`; ``total`` (m, n))."""
        cfg = self._config if config is None else config
        if not isinstance(cfg, RetrievalConfig):
            raise ValueError(f"config must be a RetrievalConfig, got {type(cfg).__name__}")
        qs = self._questions(list(questions) if isinstance(questions, tuple) else questions)
        n = len(self._turns)
        if n == 0 or not qs:
            z = np.zeros((len(qs), n), np.float32)
            return Scores(z, z, {}, {}, None, None, None)
        self._ensure(cfg.needs())
        c = self.corpus()
        norm = zscore if cfg.normalize else (lambda x: x)
        stripped = [strip_names(q, c.names) for q in qs]
        need_words = bool(cfg.w_cue or cfg.w_context or cfg.w_reply or cfg.w_tokens or
                          (cfg.engine != "off" and cfg.engine_space == "words"))
        need_paper = bool(cfg.w_paper or (cfg.engine != "off" and cfg.engine_space == "paper"))
        # question-side values do not depend on the configuration: kept for the last
        # question list, so that several configurations score it at the cost of one
        memo_key = ("questions", tuple(qs))
        memo = self._cache.get("questions")
        if memo is None or memo[0] != memo_key:
            memo = (memo_key, {})
            self._cache["questions"] = memo
        got: dict[str, Any] = memo[1]

        def once(name: str, fn: Callable[[], Any]) -> Any:
            if name not in got:
                got[name] = fn()
            return got[name]

        def question_vectors(key: str, texts: list[str], with_tokens: bool):
            vecs, toks = once("Q:" + key + (":tokens" if with_tokens else ""),
                              lambda: self.embedder.query(texts, with_tokens))
            if vecs.ndim != 2 or vecs.shape[1] != self._dim:
                raise ValueError(f"the encoder gives {vecs.shape} question vectors; this "
                                 f"memory holds {self._dim}-d turn vectors")
            return vecs, toks

        QS: Any = None          # (m, d) name-free questions, their token vectors QT,
        QT: Any = None          # and the questions as asked, Q (paper space)
        Q: Any = None
        if need_words:
            QS, QT = question_vectors("words", stripped, bool(cfg.w_tokens))
        if need_paper:
            Q, _ = question_vectors("paper", qs, False)
        raw: dict = {}
        terms: dict = {}
        fused: Any = None

        def add(name: str, term: np.ndarray) -> None:
            nonlocal fused
            terms[name] = term
            fused = (np.broadcast_to(term, (len(qs), n)).astype(np.float32) if fused is None
                     else fused + term)

        dense = {"paper": lambda: Q @ self._vec["paper"].T,
                 "cue": lambda: QS @ self._vec["words"].T,
                 "bm25": lambda: self._bm25().scores(stripped),
                 "tokens": lambda: self._token_index().scores(QT),
                 "context": lambda: QS @ self._vec["context"].T,
                 "reply": lambda: QS @ self._vec["reply"].T}
        for name, fn in dense.items():
            w = cfg.weight(name)
            if w:
                raw[name] = once(name, fn)
                add(name, w * norm(raw[name]))
        if cfg.w_speaker:
            raw["speaker"] = once("speaker", lambda: speaker_mask(c, qs))
            add("speaker", cfg.w_speaker * raw["speaker"])
        if cfg.w_question or cfg.w_length:
            prior = self._derived(("prior", cfg.w_question, cfg.w_length),
                                  lambda: turn_prior(c, cfg.w_question, cfg.w_length))
            add("prior", prior)
            del terms["prior"]
            asks = c.asks.astype(np.float32) if c.is_dialogue else np.zeros(n, np.float32)
            raw["question"], raw["length"] = asks, self._n_words()
            terms["question"] = -cfg.w_question * asks + 0.0    # no -0.0
            terms["length"] = prior - terms["question"]
        if cfg.w_time:
            raw["time"] = once("time", lambda: time_match(c, qs))
            add("time", cfg.w_time * raw["time"])
        if cfg.w_day:
            raw["day"] = once("day", lambda: day_match(c, qs))
            add("day", cfg.w_day * raw["day"])
        lists = once("lists", lambda: np.array([is_list_question(q) for q in qs], dtype=bool))
        gated = lists if cfg.list_gate else np.ones(len(qs), dtype=bool)
        if cfg.w_session:
            raw["session"] = session_scores(fused, c.session)
            if cfg.list_gate:
                raw["session"][lists] = 0.0
            add("session", cfg.w_session * raw["session"])
        first = fused
        hop = links = None
        total = first
        if cfg.w_links:
            links = self._links(cfg)
            hop = spread(first, links, cfg.spread_top)
            total = first + cfg.w_links * hop
        if cfg.w_diversity:
            unit = self._derived("centred words", lambda: center(
                self._vec["words"], self._vec["words"].mean(0)))
            raw["diversity"] = diversity_penalty(total, unit, cfg.w_diversity,
                                                 cfg.diversity_depth, gated)
            terms["diversity"] = -cfg.w_diversity * raw["diversity"]
            total = total + terms["diversity"]
        engine = None
        if cfg.engine != "off":
            ranker = self._ranker(cfg, cfg.engine_space, cfg.engine_paraphrases)
            total, engine = ranker.rank(QS if cfg.engine_space == "words" else Q, total,
                                        cfg.engine, cfg.engine_top)
        return Scores(total, first, terms, raw, hop, links, engine)

    def search(self, question: str, k: int = 10, explain: bool = False,
               config: RetrievalConfig | None = None) -> list[Hit]:
        """The ``k`` turns that best answer ``question``, best first (fewer if the memory
        holds fewer). ``explain``: each hit's channel contributions and W link.
        ``config``: another configuration for this search only."""
        if not isinstance(question, str):
            raise ValueError(f"question must be a string, got {type(question).__name__}")
        return self.search_many([question], k, explain, config)[0]

    def search_many(self, questions: Sequence[str], k: int = 10, explain: bool = False,
                    config: RetrievalConfig | None = None) -> list[list[Hit]]:
        """:meth:`search` for several questions at once (one scoring pass)."""
        check_int("hits", k, "k")
        cfg = self._config if config is None else config
        sc = self.scores(questions, cfg)
        out = []
        for q in range(sc.total.shape[0]):
            order = np.argsort(-sc.total[q], kind="stable")[:k]
            out.append(self._hits(sc, cfg, q, order, explain))
        return out

    def ranking(self, questions: Sequence[str], config: RetrievalConfig | None = None,
                depth: int | None = None) -> list[list[str]]:
        """Turn ids best first for each question (all turns, or the first ``depth``)."""
        sc = self.scores(questions, config)
        order = np.argsort(-sc.total, axis=1, kind="stable")
        if depth is not None:
            order = order[:, :check_int("hits", depth, "depth")]
        ids = self.ids()
        return [[ids[i] for i in row] for row in order]

    def _hits(self, sc: Scores, cfg: RetrievalConfig, q: int, order: np.ndarray,
              explain: bool) -> list[Hit]:
        lifted = link_sources(sc.first, sc.links, cfg.spread_top, q, order) \
            if explain and sc.links is not None and len(sc.links) else {}
        eng = {int(p): r + 1 for r, p in enumerate(sc.engine[q]) if p >= 0} \
            if sc.engine is not None else {}
        hits = []
        for r, j in enumerate(order.tolist()):
            t = self._turns[j]
            channels = raw = link = None
            if explain:
                channels = {name: float(v[j] if v.ndim == 1 else v[q, j])
                            for name, v in sc.terms.items()}
                raw = {name: float(v[j] if v.ndim == 1 else v[q, j])
                       for name, v in sc.raw.items()}
                if sc.hop is not None:
                    channels["links"] = float(cfg.w_links * sc.hop[q, j])
                    raw["links"] = 0.0
                    if j in lifted:
                        i, s = lifted[j]
                        raw["links"] = s
                        link = LinkHit(self._turns[i].id, s, channels["links"])
            hits.append(Hit(t.id, float(sc.total[q, j]), r + 1, t.text, t.speaker, t.session,
                            t.time, t.caption, channels, raw, link, eng.get(j)))
        return hits

    def settle(self, question: str, config: RetrievalConfig | None = None) -> SettleTrace:
        """The engine's two-stage Hopfield settling for ``question`` over the turns (the
        configuration's engine space and β; the question without participants' names in
        the "words" space)."""
        cfg = self._config if config is None else config
        q = self._questions([question])[0]
        if not self._turns:
            raise ValueError("the memory holds no turns")
        space = cfg.engine_space if cfg.engine != "off" else "words"
        self._ensure({space})
        text = strip_names(q, self.corpus().names) if space == "words" else q
        vec, _ = self.embedder.query([text], with_tokens=False)
        t = self._ranker(cfg, space, False).trace(vec[0])
        ids = self.ids()
        return SettleTrace(q, space, cfg.beta, [ids[i] if i >= 0 else None
                                                for i in t.candidate_ids],
                           t.stage1_scores, t.attention, t.energy,
                           ids[t.answer_id] if t.answer_id >= 0 else None, t.answer_score)

    def links(self, config: RetrievalConfig | None = None) -> list[tuple[str, str, float]]:
        """What one hop through the engine's W reaches from each turn (from id, to id,
        engine score), for a configuration with ``w_links``."""
        cfg = self._config if config is None else config
        if not self._turns:
            return []
        self._ensure({cfg.link_space})
        L = self._links(cfg)
        ids = self.ids()
        return [(ids[a], ids[b], float(v)) for a, b, v in zip(L.src, L.dst, L.val)]

    # --- files ----------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        return files.dump(self)

    def save(self, path: str | os.PathLike) -> Path:
        """Write atomically to ``path`` (safetensors + JSON state, sha256 checksum)."""
        from nuonuo_core.persistence import write_file
        return write_file(path, self.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes, encoder=None, source: str = "data") -> "ConversationMemory":
        return files.load(cls, data, encoder, source)

    @classmethod
    def load(cls, path: str | os.PathLike, encoder=None) -> "ConversationMemory":
        """Read a file written by :meth:`save`; ValueError for anything that is not one."""
        return cls.from_bytes(files.read(path), encoder, str(path))

