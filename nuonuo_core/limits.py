"""The one table of limits: every numeric value the engine accepts, and why.

Each :class:`Limit` is a declared range (scikit-learn's ``_parameter_constraints`` idea): the
engine's configs and checks read it (:class:`~nuonuo_core.config.MemoryConfig`, the store,
consolidation, recall inputs, memory files), the lab derives its narrower form ranges from it
(:meth:`Limit.narrow`, which refuses a range that does not lie inside the engine's) and the
command lines can use it too. Two ways in, one message shape (the name, the range, the value):

* :meth:`Limit.check` for values from code: ints must be ints (not bools, not 2.0), numbers
  must be finite;
* :meth:`Limit.parse` for values from forms, files and command lines: text such as ``" 40 "``,
  ``"4e4"`` or ``"1_000_000"`` is *parsed first* (the number it denotes), then bounded, and the
  parsed number is returned; callers pass the parsed number on, never the text.

Pure: no torch, no numpy beyond scalar types.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

import numpy as np

__all__ = ["Limit", "LIMITS", "get", "table_rows", "MAX_PROJECTION", "MAX_DENSE_DIM",
           "MAX_CODE_DIM", "KEY_SPACE"]

# A number as a form or a command line may write it: optional sign, digits (with single
# underscores between them, as Python writes 1_000_000), optional fraction and exponent.
_NUMBER = re.compile(r"^[+-]?(?:\d(?:_?\d)*)?(?:\.(?:\d(?:_?\d)*)?)?(?:[eE][+-]?\d+)?$")
_MAX_TEXT_NUMBER = 64    # characters: a longer "number" is refused before it is converted


def _fmt(v) -> str:
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return str(v) if abs(v) < 10**6 or v & (v - 1) else f"2^{v.bit_length() - 1}"
    return f"{v:g}"


@dataclass(frozen=True)
class Limit:
    """A closed (or, with ``lo_open``, half-open) range for one named value."""

    name: str
    lo: float
    hi: float
    integer: bool = False
    lo_open: bool = False
    why: str = ""
    parent: "Limit | None" = None    # the engine's range this one narrows (lab forms)

    def span(self) -> str:
        """The range as messages write it: ``[1, 10000]``, ``(0, 100]``."""
        return f"{'(' if self.lo_open else '['}{_fmt(self.lo)}, {_fmt(self.hi)}]"

    def kind(self) -> str:
        return "an int" if self.integer else "a finite number"

    def contains(self, value) -> bool:
        """``value`` (already a number) lies in the range."""
        try:
            x = float(value) if not self.integer else value
            if not self.integer and not math.isfinite(x):
                return False
            return (x > self.lo if self.lo_open else x >= self.lo) and x <= self.hi
        except (TypeError, ValueError, OverflowError):
            return False

    def message(self, value, name: str | None = None) -> str:
        return f"{name or self.name} must be {self.kind()} in {self.span()}, got {_show(value)}"

    def check(self, value, name: str | None = None):
        """A value from code: the right type (int for integer limits; bools are refused) and
        inside the range; returns it as ``int`` or ``float``, else ValueError naming it."""
        ok = not isinstance(value, (bool, np.bool_))
        if ok and self.integer:
            ok = isinstance(value, (int, np.integer))
            value = int(value) if ok else value
        elif ok:
            ok = isinstance(value, (int, float, np.integer, np.floating))
            if ok:
                try:
                    value = float(value)
                except OverflowError:
                    ok = False
        if not ok or not self.contains(value):
            raise ValueError(self.message(value, name))
        return value

    def parse(self, value, name: str | None = None):
        """A value from a form, a file cell or a command line (text or number): parsed first,
        then bounded; returns the number (``int`` for integer limits). Text must be a plain
        number (``"40"``, ``"+4e4"``, ``"1_000"``, ``" 2.0 "``); an integer limit refuses a
        fractional value. ValueError naming the value and the range otherwise."""
        msg = self.message(value, name).replace(" an int ", " a whole number ").replace(
            " a finite number ", " a number ")
        if isinstance(value, (bool, np.bool_)) or value is None:
            raise ValueError(msg)
        if isinstance(value, str):
            text = value.strip()
            if len(text) > _MAX_TEXT_NUMBER or not _NUMBER.match(text) or not any(
                    c.isdigit() for c in text):
                raise ValueError(msg)
            text = text.replace("_", "")
            x: int | float
            try:
                if self.integer and re.fullmatch(r"[+-]?\d+", text):
                    x = int(text)            # exact, even beyond 2^53
                else:
                    x = float(text)
            except (ValueError, OverflowError):
                raise ValueError(msg) from None
        elif isinstance(value, (int, np.integer)):
            x = int(value)
        elif isinstance(value, (float, np.floating)):
            x = float(value)
        else:
            raise ValueError(msg)
        if isinstance(x, float):
            if not math.isfinite(x):
                raise ValueError(msg)
            if self.integer:
                if x != math.floor(x) or abs(x) > 2**63:
                    raise ValueError(msg)
                x = int(x)
        if not ((x > self.lo if self.lo_open else x >= self.lo) and x <= self.hi):
            raise ValueError(msg)
        return int(x) if self.integer else float(x)

    def narrow(self, lo=None, hi=None, *, lo_open: bool | None = None, why: str = "",
               name: str | None = None) -> "Limit":
        """A narrower range for the same value (e.g. what a lab form allows), which must lie
        inside this one; it remembers this range as its ``parent`` so that messages and
        help texts can say both ("the lab allows top_k <= 1000 of the engine's 10000")."""
        lo = self.lo if lo is None else lo
        hi = self.hi if hi is None else hi
        lo_open = self.lo_open if lo_open is None else lo_open
        inside = (lo > self.lo or (lo == self.lo and (lo_open or not self.lo_open))) \
            and hi <= self.hi and (lo < hi or (lo == hi and not lo_open))
        if not inside:
            raise ValueError(f"{name or self.name}: the range "
                             f"{Limit(self.name, lo, hi, self.integer, lo_open).span()} does "
                             f"not lie inside the engine's {self.span()}")
        return replace(self, name=name or self.name, lo=lo, hi=hi, lo_open=lo_open,
                       why=why or self.why, parent=self)

    def inside(self, other: "Limit") -> bool:
        """This range lies inside ``other`` (and the integer kind agrees)."""
        lo_ok = self.lo > other.lo or (self.lo == other.lo and (self.lo_open or
                                                                 not other.lo_open))
        return lo_ok and self.hi <= other.hi and (self.integer or not other.integer)

    def help(self) -> str:
        """A help-text sentence: the allowed range, and the engine's when this one is
        narrower ("Allowed: [1, 1000] (the engine allows [1, 10000])")."""
        text = f"Allowed: {self.span()}"
        if self.parent is not None and self.parent.span() != self.span():
            text += f" (the engine allows {self.parent.span()}"
            text += f"; {self.why})" if self.why else ")"
        return text + "."


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


# --- the table -------------------------------------------------------------------------------
MAX_CODE_DIM = 2**17
MAX_PROJECTION = 2**26   # code_dim × embed_dim: the projection P holds at most 256 MiB
MAX_DENSE_DIM = 16384    # a dense W of D × D float32 is at most 1 GiB
KEY_SPACE = 2**63        # contribution keys id · D + column must stay below this (int64)


def _limits(*items: Limit) -> dict[str, Limit]:
    return {item.name: item for item in items}


LIMITS: dict[str, Limit] = _limits(
    # MemoryConfig: chosen so that no value from a form or a file can take the server down
    Limit("embed_dim", 1, 8192, True, why="d of cue/target embeddings"),
    Limit("code_dim", 2, MAX_CODE_DIM, True,
          why="code_dim <= 2^17 keeps one code's projection at <= 200 MB (d = 384)"),
    Limit("wta_k", 1, 256, True, why="k-WTA winners per code (MemoryConfig.k); k <= 256 keeps "
                                      "one memory's W update at <= 65,536 cells"),
    Limit("top_k", 1, 10_000, True, why="bounds one query's stage-2 work"),
    Limit("beta", 0.0, 1e4, lo_open=True, why="softmax inverse temperature"),
    Limit("max_steps", 1, 1000, True, why="bounds one query's settling work"),
    Limit("eps", 1e-9, 1.0, why="a smaller eps only means 'run max_steps' (float32 rounding "
                                "of a unit vector's change)"),
    Limit("lr", 0.0, 100.0, lo_open=True, why="Hebbian learning rate"),
    Limit("seed", 0, 2**32 - 1, True, why="seeds the random projection (torch's generator "
                                          "uses the low 32 bits)"),
    Limit("min_overlap", 0.0, 1.0, lo_open=True, why="share of k a Hebbian answer needs"),
    Limit("ann_threshold", 1, 10**9, True, why="cue rows from which 'auto' uses IVF"),
    Limit("ann_nprobe", 1, 8192, True, why="inverted lists visited per IVF query"),
    # when to answer: match scores lie in [-1, 1] (hopfield, cosine: a cosine) or [0, 1]
    # (hebbian); a threshold of -1 answers every query
    Limit("min_score_hopfield", -1.0, 1.0, why="Hopfield answers below it abstain"),
    Limit("min_score_hebbian", -1.0, 1.0, why="Hebbian answers below it abstain"),
    Limit("min_score_cosine", -1.0, 1.0, why="cosine answers below it abstain"),
    Limit("min_score_words", -1.0, 1.0, why="word-match answers below it abstain"),
    Limit("chain_min_support", 0.0, 1.0, why="a chain stops at a weaker link"),
    # stored state (MemoryStore)
    Limit("importance", 0.0, 100.0, lo_open=True, why="replay priority of a memory"),
    Limit("day", 0, 10**9, True, why="the clock: days a memory was added; one night = +1"),
    Limit("next_id", 0, 2**46, True,
          why="ids stay exact in JSON and float64, and contribution keys id · code_dim + "
              "column stay inside int64 for every code_dim (2^46 · 2^17 = 2^63)"),
    # consolidation (one night)
    Limit("epochs", 0, 1000, True, why="night loops"),
    Limit("replays", 1, 64, True, why="noisy copies of each replayed row"),
    Limit("replay_noise", 0.0, 10.0, why="std of the noise on a replayed cue"),
    Limit("homeostasis", 0.0, 1.0, lo_open=True, why="W <- h · W each epoch"),
    Limit("prune_threshold", 0.0, 1e6, why="cells below it are cut"),
    Limit("keep_fraction", 0.0, 1.0, why="share of the replay buffer kept"),
    # recall inputs
    Limit("hops", 1, 1000, True, why="applications of W per chain / propagate"),
    Limit("results", 1, 100_000, True, why="results per query (recall's k)"),
    Limit("min_score", -1.0, 1.0, why="a call's own threshold (recall, settle_trace): a match "
                                      "score lies in [-1, 1]"),
    Limit("min_support", 0.0, 1.0, why="a chain's own hop threshold (chain, chain_details)"),
    Limit("noise_std", 0.0, 10.0, why="std of the noise added to a query"),
    # text memories: everything the engine holds, the lab's import and export carry whole
    Limit("text_chars", 1, 10_000, True, why="characters of one cue, target or paraphrase"),
    Limit("paraphrases", 0, 100, True, why="paraphrase texts of one text memory"),
    # conversation memory (nuonuo_core.retrieval): every value from a turn, a question, a chat
    # or a file; one turn costs ~45 KB of vectors (docs/retrieval.md)
    Limit("chat_turns", 0, 10_000, True, why="turns in one conversation memory (a LoCoMo "
                                             "conversation has 369-689)"),
    Limit("turn_chars", 0, 20_000, True, why="characters of one turn's text (MiniLM reads its "
                                             "first 256 wordpieces); not a memory's text_chars"),
    Limit("caption_chars", 0, 2_000, True, why="an image caption shared with a turn"),
    Limit("turn_id_chars", 1, 128, True, why="a turn id"),
    Limit("speaker_chars", 0, 100, True, why="a turn's speaker"),
    Limit("session_chars", 0, 100, True, why="a turn's session name"),
    Limit("time_chars", 0, 64, True, why="a turn's date ('1:56 pm on 8 May, 2023')"),
    Limit("question_chars", 1, 2_000, True, why="one question"),
    Limit("questions", 0, 10_000, True, why="questions in one batch search or evaluation"),
    Limit("hits", 1, 10_000, True, why="turns returned by one search (search's k)"),
    Limit("at_k", 1, 10_000, True, why="a recall@k cutoff: turns read per question"),
    Limit("evidence_ids", 1, 200, True, why="evidence turn ids of one labelled question"),
    Limit("chat_bytes", 0, 10 * 2**20, True, why="an uploaded chat file (JSON or CSV)"),
    Limit("chat_json_depth", 0, 16, True, why="nesting of a chat's JSON"),
    Limit("chat_title_chars", 0, 200, True, why="a chat's title"),
    Limit("chat_description_chars", 0, 2_000, True, why="a chat's description"),
    Limit("conversation_file_bytes", 0, 2 * 2**30, True,
          why="a saved conversation memory file (.nuonuo, format nuonuo-conversation)"),
    # RetrievalConfig: how a search fuses its channels
    Limit("channel_weight", -100.0, 100.0, why="a channel's weight (the w_* fields)"),
    Limit("spread_top", 1, 10_000, True, why="first-hop turns the W hop starts from"),
    Limit("engine_top", 1, 10_000, True, why="turns the engine ranks first"),
    Limit("entity_max_df", 2, 1000, True, why="turns a rare capitalised word may appear in"),
    Limit("fanout", 1, 64, True, why="targets one turn recalls through W"),
    Limit("diversity_depth", 1, 10_000, True, why="turns a list question diversifies"),
    # sweeps (python -m nuonuo_core.sweep, the lab's Sweep page takes fewer tasks)
    Limit("grid_tasks", 1, 10_000, True, why="tasks of one sweep: grid points x seeds"),
    Limit("grid_values", 1, 1_000, True, why="values of one grid axis"),
    Limit("grid_seeds", 1, 1_000, True, why="seeds of one sweep"),
    Limit("grid_text", 0, 4_000, True, why="characters of one parameter's value list"),
    Limit("workers", 1, 256, True, why="tasks a sweep runs at once"),
)


def get(name: str) -> Limit:
    """The engine's limit called ``name`` (KeyError naming the known ones)."""
    try:
        return LIMITS[name]
    except KeyError:
        raise KeyError(f"no limit named {name!r}; known: {sorted(LIMITS)}") from None


def table_rows() -> list[dict]:
    """The table as rows (name, range, integer, why) for docs and tests."""
    return [{"name": v.name, "range": v.span(), "integer": v.integer, "why": v.why}
            for v in LIMITS.values()]
