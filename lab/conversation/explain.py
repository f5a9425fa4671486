"""What the Conversation memory page shows of a search, a settling and an evaluation (pure).

Built only on the engine's public API: ``ConversationMemory.search(explain=True)`` hits
(``channels``: each channel's contribution to the score, ``raw``: its value before weighting,
``link``: the turn whose Hebbian W link lifted the hit), ``settle`` (the Hopfield trace) and
``evidence_ranks`` (where each labelled evidence turn ranks). Recall@k of a question is the
fraction of its evidence turns in the top k (``nuonuo_core.retrieval.evaluate``); the page's
intervals are percentile bootstraps over questions (seeded, so a rerun shows the same).
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from nuonuo_core.retrieval import (CHANNEL_LABELS, PRESETS, LabelledQuestion, RetrievalConfig,
                                   evidence_ranks, parse_time)

from .sources import day, session_of

KS = (1, 5, 10)               # recall cutoffs the page reports
BOOTSTRAP = 2000              # resamples of the questions for an interval
BASELINE = "cosine"           # the plain baseline beside every configuration
#: short names of the channels for legends and sentences (the engine's CHANNEL_LABELS say
#: what each one is; a channel not named here shows under its own name)
SHORT = {"paper": "dense (speaker said…)", "cue": "dense cue", "bm25": "BM25",
         "tokens": "tokens", "context": "context before", "reply": "context after",
         "speaker": "speaker", "question": "prior: asks", "length": "prior: length",
         "time": "date", "day": "day named", "session": "session stage",
         "links": "W hop (question → reply)", "diversity": "list: like one above"}
_STOP = set("""a about after again all also am an and any are as at be been before being but
by can could did do does doing for from had has have having he her here hers him his how i if
in into is it its just me more most my no not now of on or our out over she so some such than
that the their them then there these they this those to too up very was we were what when where
which while who whom why will with would you your""".split())


def turn_of(hit) -> dict:
    """A hit's turn fields as a turn dict."""
    return {"session": hit.session, "time": hit.time}


def short(channel: str) -> str:
    return SHORT.get(channel, channel)


def default_config() -> str:
    """The name of the preset that is the engine's default configuration (else the first)."""
    default = RetrievalConfig()
    return next((n for n, c in PRESETS.items() if c == default), next(iter(PRESETS)))


def suggestions(questions: Sequence[LabelledQuestion], n: int = 6) -> list[LabelledQuestion]:
    """Up to ``n`` labelled questions for a quick demo: paraphrased ones first (found from
    other words), then one of each other category in turn, in the order given."""
    order = ["paraphrase", "temporal", "list", "multi-hop", "single-hop"]
    by: dict[str, list[LabelledQuestion]] = {}
    for q in questions:
        by.setdefault(q.category, []).append(q)
    cats = [c for c in order if c in by] + [c for c in by if c not in order]
    out: list[LabelledQuestion] = []
    while len(out) < n and any(by[c] for c in cats):
        for c in cats:
            if by[c] and len(out) < n:
                out.append(by[c].pop(0))
    return out


def labelled(questions: Sequence[LabelledQuestion], text: str) -> LabelledQuestion | None:
    """The labelled question asked in exactly these words (spaces and case aside), if any."""
    key = " ".join(str(text).split()).lower()
    return next((q for q in questions if " ".join(q.question.split()).lower() == key), None)


# --- one question ------------------------------------------------------------------------------
def hits_table(hits, evidence: Sequence[str] = ()) -> pd.DataFrame:
    """One row per hit, best first: rank, turn, what was said (``speaker: text``), when
    (session, date), score, the turn whose W link lifted it, and ✓ on labelled evidence."""
    rows = []
    for h in hits:
        when = ", ".join(dict.fromkeys(x for x in (session_of(turn_of(h)), day(h.time))
                                       if x))          # a day that is its session: once
        rows.append({"rank": h.rank, "turn": h.id,
                     "said": f"{h.speaker}: {h.text}" if h.speaker else h.text,
                     "when": when, "score": f"{h.score:.2f}",
                     "W link from": h.link.from_id if h.link is not None else "",
                     "evidence": "✓" if h.id in evidence else ""})
    cols = ["rank", "turn", "said", "when", "score", "W link from", "evidence"]
    out = pd.DataFrame(rows, columns=cols)
    return out if evidence else out.drop(columns="evidence")


def channel_frame(hits) -> pd.DataFrame:
    """Long frame of the hits' channel contributions: hit (``#rank turn``), rank, channel,
    name (short), label (what it is), contribution, raw value."""
    rows = []
    for h in hits:
        for ch, v in (h.channels or {}).items():
            rows.append({"hit": f"#{h.rank} {h.id}", "rank": h.rank, "channel": ch,
                         "name": short(ch), "label": CHANNEL_LABELS.get(ch, ch),
                         "contribution": float(v), "raw": float((h.raw or {}).get(ch, 0.0))})
    return pd.DataFrame(rows, columns=["hit", "rank", "channel", "name", "label",
                                       "contribution", "raw"])


def words(text: str) -> set[str]:
    """Content words of a text (lower case, three letters or more, no stop words)."""
    return {w for w in re.findall(r"[a-z0-9]+", str(text).lower())
            if len(w) > 2 and w not in _STOP}


def weeks_before(time: str | None, last: dt.date | None) -> int | None:
    if not time or last is None:
        return None
    w = parse_time(time)
    return (last - dt.date(w.year, w.month, w.day)).days // 7


def last_date(turns: Sequence[dict]) -> dt.date | None:
    days = [parse_time(t["time"]) for t in turns if t.get("time")]
    return max((dt.date(w.year, w.month, w.day) for w in days), default=None)


def story(question: str, hit, last: dt.date | None, top: int = 3) -> str:
    """Why the top hit is there, in plain words: when it was said, the words it shares with
    the question, the channels that lifted it most, the W link."""
    said = f"#1 is {hit.id}"
    if hit.speaker:
        said += f", said by {hit.speaker}"
    if hit.session:
        said += f" in {session_of(turn_of(hit))}"
    if hit.time:
        said += f" on {day(hit.time)}"
        weeks = weeks_before(hit.time, last)
        if weeks:
            said += f", {weeks} week{'s' * (weeks != 1)} before the last session"
    shared = sorted(words(question) & words(hit.text))
    said += (". It shares no content word with the question" if not shared else
             f". It shares {len(shared)} word{'s' * (len(shared) != 1)} with the question "
             f"({', '.join(shared[:6])})")
    ch = sorted(((v, c) for c, v in (hit.channels or {}).items() if v > 0.05), reverse=True)
    if ch:
        said += "; what lifted it most: " + ", ".join(f"{short(c)} +{v:.1f}"
                                                        for v, c in ch[:top])
    if hit.link is not None:
        said += (f"; the Hebbian W link from {hit.link.from_id} (recall score "
                 f"{hit.link.strength:.2f}) added +{hit.link.gain:.2f}")
    return said + "."


def settle_frames(trace, mem, top_id: str | None, width: int = 30):
    """(attention df: step, candidate, weight; energy df: step, energy) of a settling trace,
    candidates labelled ``id speaker: text…`` (★ marks the top hit)."""
    labels = []
    for cid in trace.candidate_ids:
        if cid is None:
            labels.append(None)
            continue
        t = mem.turn(cid)
        text = f"{t['speaker']}: {t['text']}" if t.get("speaker") else t["text"]
        text = text if len(text) <= width else text[:width - 1] + "…"
        labels.append(f"{'★ ' if cid == top_id else ''}{cid} {inert(text)}")
    keep = [j for j, lab in enumerate(labels) if lab is not None]
    att = pd.DataFrame([{"step": s + 1, "candidate": labels[j],
                         "weight": float(trace.attention[s, j])}
                        for s in range(trace.attention.shape[0]) for j in keep],
                       columns=["step", "candidate", "weight"])
    en = pd.DataFrame({"step": np.arange(len(trace.energy)),
                       "energy": np.asarray(trace.energy, dtype=float)})
    return att, en


def settle_story(trace, top_id: str | None) -> str:
    k, steps = len([c for c in trace.candidate_ids if c is not None]), trace.attention.shape[0]
    said = (f"The engine's Hopfield stage took the {k} turns closest to the question "
            f"(β = {trace.beta:g}) and settled in {steps} step{'s' * (steps != 1)} on "
            f"{trace.answer_id} (cosine {trace.answer_score:.2f}).")
    if top_id is None:
        return said
    if top_id == trace.answer_id:
        return said + f" That is the top hit, {top_id}."
    if top_id in trace.candidate_ids:
        w = float(trace.attention[-1, trace.candidate_ids.index(top_id)])
        return said + (f" The top hit, {top_id}, holds {w:.0%} of the last step's attention: "
                       f"settling picks one stored turn, while the ranking adds the other "
                       f"channels and the W hop.")
    return said + f" The top hit, {top_id}, is not among its candidates."


def inert(text: str) -> str:
    """User text for a Plotly label: its markup characters replaced by look-alikes (Plotly
    reads <b>, <br>, <a href> and entities in labels)."""
    return str(text).replace("<", "‹").replace(">", "›").replace("&", "＆")


# --- labelled questions -----------------------------------------------------------------------
def ranks(mem, questions: Sequence[LabelledQuestion],
          configs: Mapping[str, RetrievalConfig]) -> pd.DataFrame:
    """Per configuration and question: where each evidence turn ranks (1-based)."""
    rows = []
    for name, cfg in configs.items():
        for r in evidence_ranks(mem, list(questions), cfg):
            rows.append({"config": name, "question": r["question"], "category": r["category"],
                         "evidence": r["evidence"], "ranks": r["ranks"]})
    return pd.DataFrame(rows, columns=["config", "question", "category", "evidence", "ranks"])


def recall_at(ranks_: Sequence[int], k: int) -> float:
    return sum(r <= k for r in ranks_) / len(ranks_)


def interval(values: Sequence[float], seed: int = 0,
             level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean over ``values`` (questions)."""
    v = np.asarray(values, dtype=float)
    if len(v) < 2:
        return (float(v.mean()), float(v.mean())) if len(v) else (float("nan"),) * 2
    means = v[np.random.default_rng(seed).integers(0, len(v), (BOOTSTRAP, len(v)))].mean(1)
    a = (1 - level) / 2
    return float(np.quantile(means, a)), float(np.quantile(means, 1 - a))


def recall_records(per_question: pd.DataFrame, at_k: Sequence[int] = KS) -> pd.DataFrame:
    """Tidy recall@k records from :func:`ranks`: config, category (``overall`` first), at_k,
    value (mean over questions), lo, hi (95 % bootstrap interval), n."""
    recs = []
    for name, d in per_question.groupby("config", sort=False):
        cats = [("overall", d)] + list(d.groupby("category", sort=False))
        for cat, part in cats:
            for k in at_k:
                vals = [recall_at(r, k) for r in part["ranks"]]
                lo, hi = interval(vals)
                recs.append({"config": name, "category": cat or "(none)", "at_k": k,
                             "value": float(np.mean(vals)), "lo": lo, "hi": hi,
                             "n": len(vals)})
    return pd.DataFrame(recs, columns=["config", "category", "at_k", "value", "lo", "hi", "n"])


def recall_table(records: pd.DataFrame, config: str, baseline: str | None = BASELINE
                 ) -> pd.DataFrame:
    """Category × (questions, R@k of ``config``, the interval of its last k, the baseline's
    last k)."""
    d = records[records.config == config]
    last = max(d.at_k)
    rows = []
    for cat, part in d.groupby("category", sort=False):
        row: dict = {"category": cat, "questions": int(part.n.iloc[0])}
        for _, r in part.iterrows():
            row[f"R@{r.at_k}"] = round(r.value, 3)
            if r.at_k == last:
                row[f"R@{last} 95% CI"] = f"{r.lo:.2f}–{r.hi:.2f}"
        if baseline and baseline != config:
            b = records[(records.config == baseline) & (records.category == cat) &
                        (records.at_k == last)]
            if len(b):
                row[f"{baseline} R@{last}"] = round(float(b.value.iloc[0]), 3)
        rows.append(row)
    return pd.DataFrame(rows).set_index("category")


def question_table(per_question: pd.DataFrame, config: str, baseline: str | None = BASELINE,
                   k: int = KS[-1]) -> pd.DataFrame:
    """Per labelled question: its evidence turns with their ranks under ``config``, how many
    are in the top ``k``, and under the baseline."""
    mine = per_question[per_question.config == config].reset_index(drop=True)
    base = per_question[per_question.config == baseline].reset_index(drop=True) \
        if baseline and baseline != config else None
    rows = []
    for i, r in mine.iterrows():
        row = {"question": r.question,
               f"found in top {k}": f"{sum(n <= k for n in r.ranks)} of {len(r.ranks)}"}
        if base is not None and len(base) == len(mine):
            b = base.ranks[i]
            row[f"{baseline}: found in top {k}"] = f"{sum(n <= k for n in b)} of {len(b)}"
        row["evidence (rank)"] = " · ".join(f"{e} #{n}" for e, n in zip(r.evidence, r.ranks))
        row["category"] = r.category
        rows.append(row)
    return pd.DataFrame(rows)
