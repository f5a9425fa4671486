"""HybridMemory: the engine every page, experiment and benchmark drives.

A thin facade: the state lives in one :class:`~nuonuo_core.store.MemoryStore` (the only
owner of the parallel arrays, texts and ids); recall, consolidation and persistence are
functions over that store. A memory is a cue (and optional paraphrase cue variants)
pointing to a target; W holds Σ lr · outer(target_code, cue_code) over all cue rows.
"""
from __future__ import annotations

import dataclasses
import os
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from . import consolidation, persistence, wordmatch
from . import recall as recall_paths
from .batchpath import decode_codes, hebbian_step, hopfield_recall
from .config import (METHODS, NO_ABSTENTION, SAVED_BEFORE, TARGET_SEED_SALT, WORD_METHODS,
                     MemoryConfig)
from .encoders import Encoder, check_texts, get_minilm_encoder
from .functional import perturb
from .inputs import check_hops, check_k, check_optional, encode_memories, unit_rows
from .recall import ChainResult, Hop, HopfieldTrace, RecallResult
from .separation import PatternSeparator
from .limits import LIMITS
from .store import MemoryStore, check_importance, check_room
from .threads import one_thread


def apply_min_score(scores: np.ndarray, ids: np.ndarray, min_score: float):
    """Drop answers scoring below ``min_score``: (scores, ids) (m, k) -> the answers that
    stay, in their order, then -1 / 0 (the same rule for every method and path)."""
    keep = (ids >= 0) & (scores >= min_score)
    order = np.argsort(~keep, axis=1, kind="stable")
    return (np.take_along_axis(np.where(keep, scores, np.float32(0.0)), order, 1),
            np.take_along_axis(np.where(keep, ids, -1), order, 1))


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was asked for but no CUDA device is available")
    return torch.device(name)


class HybridMemory:
    """Two-stage Hopfield + Hebbian memory. Batch-first API; ids are assigned automatically."""

    loaded_format: int | None = None   # the file format this memory was loaded from

    @one_thread
    def __init__(self, config: MemoryConfig | None = None, encoder: Encoder | None = None,
                 _store: MemoryStore | None = None):
        config = config or MemoryConfig()
        if not isinstance(config, MemoryConfig):
            raise ValueError(f"config must be a MemoryConfig, got {type(config).__name__}")
        self._setup(config, encoder)
        self.store = _store if _store is not None else MemoryStore.empty(config, self.device)

    def _setup(self, config: MemoryConfig, encoder: Encoder | None) -> None:
        """Device, encoder and the projection(s); no store yet."""
        self.device = resolve_device(config.device)
        self._encoder = encoder
        self._word_cache = wordmatch.WordCache()  # word vectors of stored texts (word_match)
        c = config
        self._sep = PatternSeparator(c.embed_dim, c.code_dim, c.k, c.seed, self.device)
        self._tsep = self._sep if c.target_projection == "shared" else PatternSeparator(
            c.embed_dim, c.code_dim, c.k, c.seed + TARGET_SEED_SALT, self.device)

    @property
    def config(self) -> MemoryConfig:
        return self.store.config

    @property
    def day(self) -> int:
        return self.store.day

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = get_minilm_encoder()
        return self._encoder

    def _vectors(self, x, what: str) -> torch.Tensor:  # (n, d) in -> unit rows on the device
        return unit_rows(x, what, self.config.embed_dim, self.device)

    # --- adding ---------------------------------------------------------------------
    @one_thread
    def add(self, cues: Sequence[str], targets: Sequence[str] | None = None,
            paraphrases: Sequence[Sequence[str]] | None = None, importance=1.0,
            day: int | None = None) -> list[int]:
        """Store text memories; returns their ids. ``targets=None`` stores cue -> itself."""
        cvecs, tvecs, pvecs, texts = encode_memories(self.encoder, cues, targets, paraphrases)
        return self._add(cvecs, tvecs, pvecs, importance, day, texts)

    @one_thread
    def add_vectors(self, cues, targets=None, importance=1.0, paraphrases=None,
                    day: int | None = None) -> list[int]:
        """Store embedding memories: cues (n, d), targets (n, d) or None, paraphrases a list of
        n arrays (p_i, d) or None; importance one number or n numbers in (0, 100]. Returns
        the new ids."""
        return self._add(cues, targets, paraphrases, importance, day, None)

    def _add(self, cues, targets, paraphrases, importance, day, texts) -> list[int]:
        c = self._vectors(cues, "cues")
        n = c.shape[0]
        t = None
        if targets is not None:
            t = self._vectors(targets, "targets")
            if t.shape[0] != n:
                raise ValueError(f"got {n} cues but {t.shape[0]} targets")
        if paraphrases is not None and len(paraphrases) != n:
            raise ValueError(f"got {n} cues but {len(paraphrases)} paraphrase arrays")
        extra = [self._vectors(p, f"paraphrases[{i}]") if p is not None and len(p) else None
                 for i, p in enumerate(paraphrases or [None] * n)]
        imp = check_importance(importance, n)
        day = LIMITS["day"].check(self.day if day is None else day)
        check_room(self.store.next_id, n)
        # every check passed: now change state
        more = [e for e in extra if e is not None]
        rows = torch.cat([c] + more) if more else c
        local = torch.cat([torch.arange(n)] + [torch.full((e.shape[0],), i) for i, e in
                                                enumerate(extra) if e is not None])
        row_codes = self._sep.codes(rows)
        if t is not None:
            target_codes = self._tsep.codes(t)
        else:  # autoassociative: the target is the cue itself
            target_codes = row_codes[:n] if self._tsep is self._sep else self._tsep.codes(c)
        return self.store.append(rows, local, row_codes, target_codes, imp, int(day), texts)

    # --- recall ---------------------------------------------------------------------
    @one_thread
    def recall(self, queries: Sequence[str], k: int = 5, method: str = "hopfield",
               noise_std: float = 0.0, seed: int = 0, min_score: float | None = None):
        """Text queries -> (scores (m, k), ids (m, k)) numpy: the memories that match, best
        first; id -1, score 0 where no memory matches (score below ``min_score``)."""
        r = self.recall_details(check_texts(queries, "queries"), k, method, noise_std, seed,
                                min_score)
        return r.scores, r.ids

    @one_thread
    def recall_vectors(self, queries, k: int = 5, method: str = "hopfield",
                       noise_std: float = 0.0, seed: int = 0, min_score: float | None = None):
        """Query vectors (m, d) -> (scores (m, k) float32, ids (m, k) int64) numpy arrays.

        A score says how well the query matches the answered memory (hopfield, cosine: the
        query's cosine with the memory's best cue row; hebbian: W-link support × decoded
        overlap, see :mod:`nuonuo_core.recall`). Answers scoring below ``min_score`` (None:
        the config's ``min_score_<method>``; ``NO_ABSTENTION`` = -1 answers everything) are
        dropped: id -1, score 0, after the answers that stay. Hebbian answers also need
        ``MemoryConfig.min_overlap``."""
        r = self._recall(self._vectors(queries, "queries"), k, method, noise_std, seed,
                         min_score)
        return r.scores, r.ids

    @one_thread
    def recall_details(self, queries, k: int = 5, method: str = "hopfield",
                       noise_std: float = 0.0, seed: int = 0,
                       min_score: float | None = None) -> RecallResult:
        """:meth:`recall` (a list of texts) or :meth:`recall_vectors` ((m, d) vectors) with
        the evidence: a :class:`RecallResult` (answers after and before the threshold, the
        threshold used, the settled similarity for hopfield, overlap and support for
        hebbian)."""
        if isinstance(queries, str) or (isinstance(queries, (list, tuple)) and any(
                isinstance(t, str) for t in queries)):
            texts = check_texts(queries, "queries")
            if self.word_match_applies(method):
                return self._recall_words(texts, k, method, noise_std, seed, min_score)
            queries = self.encoder(texts)
        return self._recall(self._vectors(queries, "queries"), k, method, noise_std, seed,
                            min_score)

    def word_match_applies(self, method: str) -> bool:
        """Whether text recall by ``method`` is scored by word match: ``word_match`` on,
        hopfield or cosine, and an encoder with token vectors (MiniLM, HashingEncoder; with
        any other encoder text recall keeps the cue cosine and ``min_score_<method>``)."""
        return (self.config.word_match and method in WORD_METHODS
                and wordmatch.has_tokens(self.encoder))

    def text_min_score(self, method: str) -> float:
        """The threshold text recall by ``method`` compares an answer of a text memory with
        (``min_score_words`` where word match scores it, else ``min_score_<method>``)."""
        return (self.config.min_score_words if self.word_match_applies(method)
                else self.config.min_score(method))

    def _cue_rows(self, memory_id: int) -> list[str] | None:
        """A memory's cue row texts (cue and paraphrases), None for a vector memory."""
        store = self.store
        t = store.texts[int(store.positions([memory_id])[0])]
        return [t["cue"], *t["paraphrases"]] if t else None

    def _recall_words(self, texts: list[str], k, method, noise_std, seed,
                      min_score) -> RecallResult:
        """Text recall with ``MemoryConfig.word_match`` (:mod:`nuonuo_core.wordmatch`): the
        method answers as usual, then each answer whose memory has texts is scored cue cosine
        × word coverage and compared with ``min_score_words``; answers of vector memories
        keep their cosine and ``min_score_<method>``. A call's ``min_score`` applies to
        both."""
        min_score = check_optional(min_score, "min_score", "min_score")
        vecs, qwords = wordmatch.encode(self.encoder, texts)
        r = self._recall(self._vectors(vecs, "queries"), k, method, noise_std, seed,
                         NO_ABSTENTION)
        best, has = wordmatch.rescore(r.best_scores, r.best_ids, qwords, self._cue_rows,
                                      self._word_cache, self.encoder)
        words_t = self.config.min_score_words if min_score is None else min_score
        plain_t = self.config.min_score(method) if min_score is None else min_score
        scores, ids = apply_min_score(best, r.best_ids,
                                      np.where(has, np.float32(words_t), np.float32(plain_t)))
        return dataclasses.replace(r, min_score=words_t, ids=ids, scores=scores,
                                   best_scores=best)

    def _recall(self, queries: torch.Tensor, k, method, noise_std, seed,
                min_score) -> RecallResult:
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        check_k(k)
        min_score = check_optional(min_score, "min_score", "min_score")
        if min_score is None:
            min_score = self.config.min_score(method)
        q = perturb(queries, noise_std, seed)
        s, pos, extra = recall_paths.recall(self.store, self._sep, q, k, method)
        best_ids = self._to_ids(pos)
        best = np.where(best_ids >= 0, np.clip(np.asarray(s, np.float32), -1.0, 1.0),
                        np.float32(0.0)).astype(np.float32)
        scores, ids = apply_min_score(best, best_ids, min_score)
        return RecallResult(method=method, min_score=min_score, ids=ids, scores=scores,
                            best_ids=best_ids, best_scores=best, **extra)

    def _to_ids(self, pos) -> np.ndarray:
        pos = pos.cpu().numpy() if isinstance(pos, torch.Tensor) else np.asarray(pos)
        ids = np.full(pos.shape, -1, dtype=pos.dtype)
        ok = pos >= 0
        ids[ok] = self.store.ids.cpu().numpy()[pos[ok]]
        return ids

    @one_thread
    def settle_trace(self, query, noise_std: float = 0.0, seed: int = 0,
                     beta: float | None = None,
                     min_score: float | None = None) -> HopfieldTrace:
        """Inspect Hopfield recall of one query (text or (d,) vector): stage-1 candidates,
        attention over them at every settling step, and the energy after each step; the
        memory settling reached, its match score and the answer after ``min_score`` (None:
        the threshold :meth:`recall` uses: ``min_score_words`` for a text query scored by
        word match, a text memory reached, else ``min_score_hopfield``). ``beta`` overrides
        the configured β for this trace only (teaching views)."""
        if beta is not None:
            beta = LIMITS["beta"].check(beta)
        min_score = check_optional(min_score, "min_score", "min_score")
        words = isinstance(query, str) and self.word_match_applies("hopfield")
        if words:
            vec, qwords = wordmatch.encode(self.encoder, check_texts([query], "query"))
        else:
            vec = self.encoder([query]) if isinstance(query, str) else np.asarray(query)[None]
        clean = self._vectors(vec.reshape(1, -1), "query")
        q = perturb(clean, noise_std, seed)
        out = hopfield_recall(self.store, q, 1, trace=True, beta=beta)
        cand, settle = out.cand, out.settle
        ids = self._to_ids(self.store.row_owners(cand.rows))[0]
        settled_id = int(self._to_ids(out.pos)[0, 0])
        match = float(np.clip(out.scores[0, 0], -1.0, 1.0)) if settled_id >= 0 else 0.0
        threshold = self.config.min_score_hopfield
        if words and settled_id >= 0:                  # scored as recall scores it
            best, has = wordmatch.rescore(np.array([[match]], np.float32),
                                          np.array([[settled_id]]), qwords, self._cue_rows,
                                          self._word_cache, self.encoder)
            if has[0, 0]:
                match, threshold = float(best[0, 0]), self.config.min_score_words
        if min_score is None:
            min_score = threshold
        answered = settled_id >= 0 and match >= min_score
        return HopfieldTrace(
            candidate_ids=ids, stage1_scores=cand.scores[0].cpu().numpy(),
            attention=torch.stack([a[0] for a in settle.attention]).cpu().numpy(),
            energy=torch.stack([e[0] for e in settle.energy]).cpu().numpy(),
            answer_id=settled_id if answered else -1,
            answer_score=match if answered else 0.0,
            query=q[0].cpu().numpy(), noisy_cosine=float((q[0] * clean[0]).sum()),
            settled_id=settled_id, match_score=match,
            settled_similarity=float(out.settled[0, 0]), min_score=min_score)

    def chain(self, start_id: int, hops: int = 6, min_support: float | None = None,
              allow_revisits: bool = False) -> list[Hop]:
        """Follow W from memory ``start_id``'s cue: one :class:`Hop` (memory_id, cosine,
        support) per hop that counts (:meth:`chain_details` says why it ended).

        Each hop applies W to the recalled code with k-WTA and decodes the memory whose target
        code overlaps it most (at least ``min_overlap``; cosine = overlap / k). The chain
        stops before the first hop whose memory has no stored link from the previous one
        (support below ``min_support``, None: ``MemoryConfig.chain_min_support``) and before
        the first memory it has already visited (unless ``allow_revisits``), so the list
        may be shorter than ``hops`` (hops in [1, MAX_HOPS]). ``min_support=0,
        allow_revisits=True`` only stops when nothing is recalled (the rule before issue
        17)."""
        return self.chain_details(start_id, hops, min_support, allow_revisits).hops

    @one_thread
    def chain_details(self, start_id: int, hops: int = 6, min_support: float | None = None,
                      allow_revisits: bool = False) -> ChainResult:
        """:meth:`chain` with the reason it ended and the hop it refused
        (:class:`ChainResult`)."""
        check_hops(hops)
        min_support = check_optional(min_support, "min_support", "min_support")
        if min_support is None:
            min_support = self.config.chain_min_support
        pos = int(self.store.positions([start_id])[0])
        return recall_paths.chain(self.store, pos, hops, min_support, allow_revisits)

    def set_recall_params(self, **changes) -> MemoryConfig:
        """Change recall-only settings on a live memory (no rebuild): ``beta``, ``top_k``,
        ``max_steps``, ``eps``, ``min_overlap``, ``min_score_<method>``, ``word_match``,
        ``min_score_words``, ``chain_min_support``. Validated like :class:`MemoryConfig`;
        returns the new config. D, k, seed and lr change the stored codes or W and need a
        rebuild."""
        return self.store.set_recall_params(**changes)

    @one_thread
    def recall_codes(self, queries, hops: int = 1, noise_std: float = 0.0,
                     seed: int = 0) -> np.ndarray:
        """Query vectors (m, d) -> the code recalled after ``hops`` applications of W with
        k-WTA: (m, k) unit indices, ascending, live units first; -1 where fewer than k units
        have activity > 0 (a unit with no activity is never a winner). For the seed's metric,
        the cosine between a recalled code and a k-unit target code (:meth:`codes`) is
        overlap / sqrt(k · live units)."""
        check_hops(hops)
        q = perturb(self._vectors(queries, "queries"), noise_std, seed)
        return self.propagate(self._sep.codes(q), hops)

    @one_thread
    def propagate(self, codes, hops: int = 1) -> np.ndarray:
        """Apply W with k-WTA ``hops`` times to index codes (m, k) (-1 = no unit): -> (m, k)
        unit indices, ascending, live units first, -1 where fewer than k units have
        activity > 0 (the step :meth:`chain` and Hebbian recall take)."""
        check_hops(hops)
        code = torch.as_tensor(np.asarray(codes, dtype=np.int64)).to(self.device)
        if code.dim() != 2 or code.shape[1] != self.config.k or bool(
                ((code < -1) | (code >= self.config.code_dim)).any()):
            raise ValueError(f"codes must be (m, {self.config.k}) unit indices in "
                             f"[-1, {self.config.code_dim}), got shape {tuple(code.shape)}")
        for _ in range(hops):
            code = hebbian_step(self.store.w, code, self.config.k)[1]
        out = np.sort(code.cpu().numpy().astype(np.int64), axis=1)
        live_first = np.argsort(out < 0, axis=1, kind="stable")
        return np.take_along_axis(out, live_first, axis=1)

    @one_thread
    def recall_stored(self, ids, k: int = 1):
        """Hebbian recall probed by memories' own stored primary cue codes (the noise-free
        probe of a stored cue, without projecting its embedding again): one application of W
        with k-WTA, decoded as :meth:`recall_vectors` does (strict: -1 where nothing reaches
        ``min_overlap``; no answer threshold: this measures what W holds). Returns (decoded
        overlaps / k (m, k), ids (m, k), recalled codes (m, code k) as :meth:`propagate`
        gives them, -1 for dead units)."""
        check_k(k)
        code = torch.from_numpy(self.codes(ids)[0]).long().to(self.device)
        r, code = hebbian_step(self.store.w, code, self.config.k)
        s, pos = decode_codes(self.store, code, r, k)
        out = np.sort(code.cpu().numpy().astype(np.int64), axis=1)
        live_first = np.argsort(out < 0, axis=1, kind="stable")
        return (s.numpy().astype(np.float32), self._to_ids(pos),
                np.take_along_axis(out, live_first, axis=1))

    # --- inspection -----------------------------------------------------------------
    @one_thread
    def codes(self, ids) -> tuple[np.ndarray, np.ndarray]:
        """(primary cue codes (n, k), target codes (n, k)) of memories, as unit indices."""
        store = self.store
        pos = store.positions(ids).to(self.device)
        return (store.row_codes[store.first_rows()[pos]].cpu().numpy(),
                store.target_codes[pos].cpu().numpy())

    @one_thread
    def cue_vectors(self, ids) -> np.ndarray:
        """(n, d) float32 copies of memories' primary (first) stored cue rows (float16 as
        stored, decoded), unit rows: the vectors a recall of that memory's own cue starts from
        (read only)."""
        store = self.store
        pos = store.positions(ids).to(self.device)
        return store.index.rows(store.first_rows()[pos]).cpu().numpy().astype(np.float32)

    @one_thread
    def w_dense(self) -> np.ndarray:
        """W as a dense (D, D) array, for small code_dim teaching views only."""
        return self.store.w.to_dense().cpu().numpy()

    @one_thread
    def stats(self) -> dict:
        """Sizes and W statistics. ``bytes`` is what the memory holds, by part
        (``bytes_by_part``): the float16 cue rows, W's cells (0 while W is factored), the
        contributions (what each memory put into W, and the factored W itself), the
        projection(s), the codes, the postings cache of the target codes, and bookkeeping
        (ids, importance, days, replay flags, row owners, one text slot per memory).
        ``w_form``: "factored" (W = Σ target · contributionᵀ, no cells stored) or "cells"."""
        store = self.store
        w = store.w.stats()
        post = 0 if store._postings is None else sum(t.numel() * t.element_size()
                                                     for t in store._postings)
        parts = {"cue_embeddings": store.index.nbytes(), "w": w["w_bytes"],
                 "contributions": store.contrib.nbytes(),
                 "projection": self._sep.nbytes() + (
                     self._tsep.nbytes() if self._tsep is not self._sep else 0),
                 "codes": (store.row_codes.numel() + store.target_codes.numel()) * 4,
                 "postings": post,
                 "bookkeeping": store.n_rows * 8 + store.n * 29}
        return {"n_memories": store.n, "n_cues": store.n_rows,
                "w_norm": w["w_norm"], "w_nnz": w["w_nnz"], "w_sparsity": w["w_sparsity"],
                "w_format": store.w.format,
                "w_form": "factored" if store.factored else "cells",
                "bytes": sum(parts.values()), "bytes_by_part": parts,
                "device": str(self.device), "code_dim": self.config.code_dim,
                "wta_k": self.config.k, "day": self.day,
                "replay_size": int(store.in_replay.sum()),
                "index": "ivf" if store.index.uses_ann() else "flat"}

    @one_thread
    def validate(self) -> None:
        """Check every invariant of the stored state (ValueError naming the broken one)."""
        self.store.validate()

    def __len__(self) -> int:
        return self.store.n

    def __contains__(self, memory_id) -> bool:
        try:
            self.store.positions([memory_id])
            return True
        except (KeyError, ValueError):
            return False

    def ids(self) -> list[int]:
        return self.store.ids.tolist()

    @one_thread
    def records(self) -> list[dict]:
        """Every memory as :meth:`get` returns it, in id order, in one O(n + rows) pass."""
        store = self.store
        empty = {"cue": None, "target": None, "paraphrases": []}
        return [{"id": i, **(t or empty), "importance": imp, "day": d, "in_replay": r,
                 "n_cues": c} for i, t, imp, d, r, c in zip(
                    store.ids.tolist(), store.texts, store.importance.tolist(),
                    store.days.tolist(), store.in_replay.tolist(),
                    store.rows_per_memory().tolist())]

    def get(self, memory_id: int) -> dict:
        """One memory's texts (None for vector memories) and bookkeeping."""
        store = self.store
        p = int(store.positions([memory_id])[0])
        t = store.texts[p] or {"cue": None, "target": None, "paraphrases": []}
        return {"id": int(memory_id), **t, "importance": float(store.importance[p]),
                "day": int(store.days[p]), "in_replay": bool(store.in_replay[p]),
                "n_cues": int((store.row_mem == p).sum())}

    @one_thread
    def remove(self, ids) -> int:
        """Forget memories: their cue rows, target codes and exactly their share of W."""
        return self.store.remove(ids)

    # --- sleep ----------------------------------------------------------------------
    @one_thread
    def consolidate(self, night: consolidation.Night | None = None, *, replay: bool = True,
                    seed: int = 0, progress=None, **settings) -> list[dict]:
        """One night of sleep (:func:`nuonuo_core.consolidation.consolidate`): settings as a
        :class:`~nuonuo_core.consolidation.Night` or as its fields by keyword."""
        return consolidation.consolidate(self.store, self._sep, night, replay=replay, seed=seed,
                                         progress=progress, **settings)

    @one_thread
    def clear_replay(self, keep_fraction: float, policy: str = "priority", seed: int = 0) -> int:
        return consolidation.clear_replay(self.store, keep_fraction, policy, seed)

    @one_thread
    def replay_buffer(self) -> list[dict]:
        return consolidation.replay_buffer(self.store)

    @one_thread
    def set_importance(self, ids, importance) -> None:
        """Change the replay priority of stored memories (each in (0, 100])."""
        pos = self.store.positions(ids)
        self.store.set_importance(pos, check_importance(importance, pos.numel()))

    # --- files ----------------------------------------------------------------------
    @one_thread
    def to_bytes(self) -> bytes:
        tensors, state = self.store.state_dict()
        return persistence.dump(self.config.to_dict(), tensors, state, self._sep.fingerprint())

    @one_thread
    def save(self, path: str | os.PathLike, overwrite: bool = True) -> Path:
        """Write atomically to ``path`` (a '.nuonuo' file); returns the path.
        ``overwrite=False`` creates the file only if none exists (FileExistsError otherwise;
        of two racing savers exactly one wins)."""
        return persistence.write_file(path, self.to_bytes(), overwrite=overwrite)

    @classmethod
    def load(cls, path: str | os.PathLike, encoder=None, device: str | None = None):
        return cls.from_bytes(persistence.read_file(path), encoder=encoder, device=device,
                              source=str(path))

    @classmethod
    @one_thread
    def from_bytes(cls, data: bytes, encoder=None, device: str | None = None,
                   source: str = "data", check_config=None):
        """Rebuild a memory from :meth:`to_bytes` output. ``device`` overrides the saved one;
        a file saved on a GPU opens on the CPU where no GPU is present. ``check_config``
        (MemoryConfig -> None, raising ValueError) lets a caller refuse configs outside its
        own ranges (the lab's forms) before anything is allocated.

        Order (cheap first, see :mod:`nuonuo_core.persistence`): header, checksum and state
        (bounded JSON); config ranges and ``check_config``; tensor shapes against the config;
        only then the projection (fingerprint), the tensors and the store."""
        try:
            state, table = persistence.parse(data)
            # a field the file lacks means what it meant when the file was written
            cfg = {**SAVED_BEFORE, **state["config"]}
            if device is not None:
                cfg["device"] = device
            elif cfg.get("device") == "cuda" and not torch.cuda.is_available():
                cfg["device"] = "cpu"
            config = MemoryConfig.from_dict(cfg)
            if check_config is not None:
                check_config(config)
            persistence.check_shapes(table, config)
            LIMITS["next_id"].check(state["next_id"], "next_id")
            LIMITS["day"].check(state["day"], "day")
            mem = cls.__new__(cls)
            mem._setup(config, encoder)
            fp = state["projection_fingerprint"]
            if abs(mem._sep.fingerprint() - fp) > 1e-6 * max(1.0, abs(fp)):
                raise ValueError("the random projection rebuilt from the seed differs from "
                                 "the saved one (different torch build?)")
            mem.store = MemoryStore.from_state_dict(config, mem.device,
                                                    persistence.tensors(data), state)
        except (KeyError, TypeError, RuntimeError, ValueError, OverflowError) as exc:
            raise ValueError(f"{source} is not a valid NuoNuo memory file: {exc}") from None
        if "w_form" not in state:    # format 2: converted, said so (never silently)
            warnings.warn(
                f"{source} is a format-2 memory file: it was converted on loading (cue rows "
                f"rounded to float16, so match scores may move by up to 4.9e-4; W "
                f"{'factored' if mem.store.factored else 'kept as cells'}). Save it to write "
                f"format {persistence.FORMAT_VERSION}.", UserWarning, stacklevel=2)
        mem.loaded_format = 2 if "w_form" not in state else persistence.FORMAT_VERSION
        return mem
