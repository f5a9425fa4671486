"""Research: can a match score tell held paraphrases from unheld questions (issue 17)?

For every calibration question (tests/fixtures/calibration.json, and the fresh questions of
tests/fixtures/calibration_fresh.json, written before any score below was designed) each method
answers without abstention; each candidate score then re-scores the answered (query, memory)
pair. Per candidate and method it prints the AUC held vs unheld on the tune half, the test
half and the fresh set, the threshold chosen on the tune half (calibration.choose's rule:
maximise min(paraphrases right, unheld abstained); the middle of ties), the test half's
right / wrong / abstained-paraphrase / unheld-abstained rates at that threshold, the same on
the fresh set, and the re-score's cost per query. Candidates with a weight λ pick it on the
tune half too (the λ with the best tune min(right, abstained), then the best tune AUC).
Nothing is chosen on the test half or on the fresh set.

Candidates (q: the query; m: the answered memory, its cue rows = cue + paraphrases):

* ``cue``: cos(q, best cue row of m) (the engine's score today; hebbian: its own score);
* ``cue|target``: max(cue, cos(q, m's target));
* ``cohort z``: cue, z-scored against q's cosines with a FIXED background of generic
  questions (BACKGROUND below, not the store): (cue - mean top-10) / std of the background;
* ``lexical``: cue × (fraction of q's content words (stemmed) found in m's texts);
* ``tok fwd mean`` / ``tok fwd min``: every content word of q looks for its best
  counterpart (cosine of MiniLM's contextual token vectors) among the words of m's cue rows
  and target; the mean / the smallest of those;
* ``tok rev min``: the other way: every content word of a cue row of m looks for its best
  counterpart among q's words; the smallest, best row;
* ``key word (loo)``: the cue row's most important word (the word whose removal moves the
  row's sentence vector most: leave-one-out, one extra encoding per word, at add time) must
  find a counterpart in q: its best token cosine with q's words, best row; combined as
  (cue + λ · key) / (1 + λ);
* ``key word (pool)``: the same with the importance taken from the row's own token vectors
  (removing a word's tokens from the mean pool, no extra encoding);
* ``cue × tok rev min``: the product.

    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python scripts/abstain_research.py [--markdown]
    ... scripts/abstain_research.py --cost   # ms per query, word_match off vs on, 1K memories
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nuonuo_core.bench import calibration as C  # noqa: E402
from nuonuo_core.config import NO_ABSTENTION  # noqa: E402
from nuonuo_core.retrieval.channels import STOP, tokens as lex_words  # noqa: E402

FRESH = C.DATA.with_name("calibration_fresh.json")
METHODS = ("hopfield", "cosine", "hebbian")
LAMBDAS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0)

# A fixed background for cohort normalisation: generic questions of the demo sets' styles,
# written for this script (none is a calibration question, none is stored in a demo set).
BACKGROUND = """What time is it? | Where is the nearest station? | What should I cook tonight? |
Who won the match yesterday? | How do I reset my phone? | What is the weather tomorrow? |
When does the shop open? | Where can I buy stamps? | What is a good book to read? |
How much does a ticket cost? | Who is the president? | What is the meaning of life? |
How do plants grow? | Why is the sky blue? | What is gravity? | How does a car engine work? |
What is the tallest building? | Who invented the light bulb? | What is an atom? |
How many days are in a year? | What is the biggest animal? | Where do penguins live? |
What is a black hole? | Who wrote the Odyssey? | What is the capital of a country? |
What does a teacher do? | How does memory work? | What is a computer? | What is music? |
How far is the sun? | What is the price of bread? | Where did I put it? | What is my name? |
When is the holiday? | What is my favourite food? | Who is my friend? | What do I need to buy? |
How old am I? | Where do I live? | What is my phone number? | When is my appointment? |
a blue pen | an old chair | the kitchen table | a long road | the city park | a small bird |
a cup of tea | the front door | a paper bag""".replace("\n", " ")
BACKGROUND_TEXTS = [t.strip() for t in BACKGROUND.split("|") if t.strip()]


# --- text material -------------------------------------------------------------------------
class Texts:
    """Sentence vectors and word-level token vectors of every text, from one MiniLM pass."""

    def __init__(self, encoder, texts):
        texts = sorted(set(texts))
        t0 = time.perf_counter()
        vecs, toks = encoder.embed_with_tokens(texts)
        self.encode_s = (time.perf_counter() - t0) / max(len(texts), 1)
        self.vec = dict(zip(texts, vecs))
        self.words = {t: _words(p, v) for t, (p, v) in zip(texts, toks)}
        self._enc = encoder
        self._loo: dict[str, list[float]] = {}

    def loo(self, text: str) -> list[float]:
        """Leave-one-out importance of each word of ``text`` (as self.words splits it):
        1 - cos(sentence, sentence without that word); one encoding per word."""
        if text not in self._loo:
            ws = [w for w, _ in self.words[text]]
            if len(ws) < 2:
                self._loo[text] = [1.0] * len(ws)
            else:
                var = [" ".join(ws[:i] + ws[i + 1:]) for i in range(len(ws))]
                v = self._enc([" ".join(ws)] + var)
                self._loo[text] = [float(1 - v[0] @ v[i + 1]) for i in range(len(ws))]
        return self._loo[text]


def _words(pieces, vecs) -> list[tuple[str, np.ndarray]]:
    """Word pieces -> words ("##" pieces joined), each the unit mean of its pieces' vectors."""
    out: list = []
    for p, v in zip(pieces, vecs):
        if p.startswith("##") and out:
            out[-1][0] += p[2:]
            out[-1][1].append(v)
        else:
            out.append([p, [v]])
    res = []
    for w, vl in out:
        v = np.mean(vl, 0)
        res.append((w, v / max(float(np.linalg.norm(v)), 1e-9)))
    return res


def content(ws):
    """Content words: alphabetic, not a stop word, longer than one letter (all if none)."""
    keep = [(w, v) for w, v in ws if w.isalpha() and w not in STOP and len(w) > 1]
    return keep or list(ws)


def pool_importance(ws) -> list[float]:
    """Importance of each word from the row's own token vectors: 1 - cos(mean of all,
    mean without that word) (mean pooling is how MiniLM makes its sentence vector)."""
    if len(ws) < 2:
        return [1.0] * len(ws)
    m = np.stack([v for _, v in ws])
    s = m.sum(0)
    full = s / np.linalg.norm(s)
    out = []
    for v in m:
        r = s - v
        out.append(float(1 - full @ (r / max(float(np.linalg.norm(r)), 1e-9))))
    return out


# --- the candidates --------------------------------------------------------------------------
class Pair:
    """One answered (query, memory) pair and what the candidates read from it."""

    def __init__(self, T: Texts, q: str, mem: dict, engine_score: float):
        self.T, self.q, self.mem, self.engine = T, q, mem, engine_score
        self.rows = [mem["cue"], *mem["paraphrases"]]
        self.qv = T.vec[q]
        self.qwords = T.words[q]
        self.qmat = np.stack([v for _, v in self.qwords])

    def cue(self) -> float:
        return max(float(self.qv @ self.T.vec[t]) for t in self.rows)

    def target(self) -> float:
        return float(self.qv @ self.T.vec[self.mem["target"]])

    def lexical(self) -> float:
        q = set(lex_words(self.q))
        have = set(w for t in self.rows + [self.mem["target"]] for w in lex_words(t))
        return len(q & have) / len(q) if q else 1.0

    def fwd(self) -> np.ndarray:
        mw = np.stack([v for t in self.rows + [self.mem["target"]] for _, v in self.T.words[t]])
        return np.array([float((v @ mw.T).max()) for _, v in content(self.qwords)])

    def rev_min(self) -> float:
        return max(min(float((v @ self.qmat.T).max()) for _, v in content(self.T.words[t]))
                   for t in self.rows)

    def key(self, importance: str) -> float:
        """Best over cue rows: the best token cosine of the row's most important word with
        q's words."""
        best = -1.0
        for t in self.rows:
            ws = self.T.words[t]
            imp = self.T.loo(t) if importance == "loo" else pool_importance(ws)
            cand = [(i, j) for j, ((w, _), i) in enumerate(zip(ws, imp))
                    if w.isalnum() and w not in STOP] or list(
                        (i, j) for j, i in enumerate(imp))
            j = max(cand)[1]
            best = max(best, float((ws[j][1] @ self.qmat.T).max()))
        return best


def cohort(T: Texts) -> Callable[[Pair], float]:
    bg = np.stack([T.vec[t] for t in BACKGROUND_TEXTS])

    def z(p: Pair) -> float:
        s = np.sort(bg @ p.qv)[::-1]
        return (p.cue() - float(s[:10].mean())) / (float(s.std()) + 1e-6)
    return z


def candidates(T: Texts) -> dict[str, Callable]:
    """name -> (pair -> score) or (pair, λ -> score) for the weighted ones."""
    return {
        "cue": lambda p: p.engine,
        "cue|target": lambda p: max(p.engine, p.target()),
        "cohort z": cohort(T),
        "lexical × cue": lambda p: p.engine * p.lexical(),
        "tok fwd mean": lambda p: float(p.fwd().mean()),
        "tok fwd min": lambda p: float(p.fwd().min()),
        "tok rev min": lambda p: p.rev_min(),
        "cue × tok rev min": lambda p: p.engine * max(p.rev_min(), 0.0),
        "cue − λ·(1 − tok rev min)": lambda p, lam: p.engine - lam * (1 - p.rev_min()),
        "(cue + λ·fwd mean)/(1+λ)": lambda p, lam: (p.engine + lam * float(p.fwd().mean()))
        / (1 + lam),
        "(cue + λ·key loo)/(1+λ)": lambda p, lam: (p.engine + lam * p.key("loo")) / (1 + lam),
        "(cue + λ·key pool)/(1+λ)": lambda p, lam: (p.engine + lam * p.key("pool")) / (1 + lam),
    }


# --- evaluation ------------------------------------------------------------------------------
def answered(encoder, path, src: str) -> list[dict]:
    """One record per (method, question) with the answered memory's texts (None if none)."""
    data = C.load(path)
    out = []
    for name, s in data["sets"].items():
        mem, by_cue = C.demo_memory(C.ASSETS / s["asset"], encoder)
        texts = {r["id"]: r for r in mem.records()}
        for group in ("held", "unheld"):
            items = s[group]
            vecs = encoder([it["q"] for it in items])
            for method in METHODS:
                r = mem.recall_details(vecs, k=1, method=method, min_score=NO_ABSTENTION)
                for it, b, sc in zip(items, r.best_ids[:, 0], r.best_scores[:, 0]):
                    out.append({"src": src, "set": name, "group": group, "split": it["split"],
                                "q": it["q"], "method": method, "best": int(b),
                                "engine": float(sc), "mem": texts.get(int(b)),
                                "want": by_cue[it["cue"]] if group == "held" else -1})
    return out


def with_score(recs, T: Texts, fn, lam=None) -> tuple[list[dict], float]:
    """Records with "score" = the candidate's score of the answered pair (0 if none) and the
    mean seconds per scored pair."""
    out, spent, n = [], 0.0, 0
    for r in recs:
        if r["best"] < 0:
            out.append({**r, "score": 0.0})
            continue
        t0 = time.perf_counter()
        p = Pair(T, r["q"], r["mem"], r["engine"])
        s = fn(p) if lam is None else fn(p, lam)
        spent += time.perf_counter() - t0
        n += 1
        out.append({**r, "score": float(s)})
    return out, spent / max(n, 1)


def choose(recs, method) -> float:
    """calibration.choose's rule on the tune half, over the midpoints of the tune scores
    (candidate scores live on different scales than the 0.01 grid)."""
    v = sorted({r["score"] for r in recs if r["method"] == method and r["split"] == "tune"})
    grid = [(a + b) / 2 for a, b in zip(v, v[1:])] or v
    return C.choose(recs, method, "tune", grid)


def tune_value(recs, method, t) -> float:
    x = C.rates(recs, method, t, "tune")
    return min(x["right"], x["unheld_abstained"])


def evaluate(orig, fresh, T: Texts, methods=("hopfield", "cosine")) -> list[dict]:
    rows = []
    for name, fn in candidates(T).items():
        weighted = "λ" in name
        for method in methods:
            if method == "hebbian" and name != "cue":
                continue
            best = None
            for lam in (LAMBDAS if weighted else (None,)):
                o, cost = with_score([r for r in orig if r["method"] == method], T, fn, lam)
                t = choose(o, method)
                key = (tune_value(o, method, t), C.auc(o, method, "tune"))
                if best is None or key > best[0]:
                    best = (key, lam, o, cost, t)
            (_, _), lam, o, cost, t = best
            f, _ = with_score([r for r in fresh if r["method"] == method], T, fn, lam)
            te, fr = C.rates(o, method, t, "test"), C.rates(f, method, t, None)
            rows.append({"candidate": name if lam is None else name.replace("λ", f"{lam:g}"),
                         "method": method, "auc_tune": C.auc(o, method, "tune"),
                         "auc_test": C.auc(o, method, "test"), "auc_fresh": C.auc(f, method),
                         "threshold": t, "tune_min": tune_value(o, method, t),
                         "test": te, "fresh": fr, "cost_us": cost * 1e6})
    return rows


def wilson(p: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson interval of a rate p measured on n items."""
    if n == 0:
        return float("nan"), float("nan")
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return c - h, c + h


def picks(rows) -> str:
    """The candidate each selection rule picks, on tune numbers only."""
    out = []
    for method in ("hopfield", "cosine"):
        rs = [r for r in rows if r["method"] == method]
        by_auc = max(rs, key=lambda r: (r["auc_tune"], r["tune_min"]))
        by_min = max(rs, key=lambda r: (r["tune_min"], r["auc_tune"]))
        out.append(f"{method}: best tune AUC -> {by_auc['candidate']}; best tune "
                   f"min(right, abstained) -> {by_min['candidate']}")
    return "\n".join(out)


def markdown(rows) -> str:
    head = ("| candidate | method | AUC tune | AUC test | AUC fresh | threshold (tune) | "
            "test right | test wrong | test unheld abstained | fresh right | "
            "fresh unheld abstained | µs / query |")
    lines = [head, "|---|---|" + "---:|" * 10]
    for r in rows:
        te, fr = r["test"], r["fresh"]
        ok = te["right"] >= 0.85 and te["unheld_abstained"] >= 0.85
        lo, hi = wilson(te["unheld_abstained"], te["n_unheld"])
        lines.append(
            f"| {r['candidate']} | {r['method']} | {r['auc_tune']:.3f} | {r['auc_test']:.3f} | "
            f"{r['auc_fresh']:.3f} | {r['threshold']:.3f} | "
            f"{'**' if ok else ''}{te['right']:.3f} | {te['wrong']:.3f} | "
            f"{te['unheld_abstained']:.3f}{'**' if ok else ''} "
            f"[{lo:.2f}, {hi:.2f}] | {fr['right']:.3f} | "
            f"{fr['unheld_abstained']:.3f} | {r['cost_us']:.0f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--markdown", action="store_true", help="print a markdown table")
    a = ap.parse_args(argv)
    from nuonuo_core import get_minilm_encoder

    enc = get_minilm_encoder()
    orig, fresh = answered(enc, C.DATA, "orig"), answered(enc, FRESH, "fresh")
    texts = [r["q"] for r in orig + fresh] + BACKGROUND_TEXTS
    for r in orig + fresh:
        if r["mem"]:
            texts += [r["mem"]["cue"], r["mem"]["target"], *r["mem"]["paraphrases"]]
    T = Texts(enc, texts)
    n = {s: {g: sum(r["group"] == g and r["method"] == "cosine" for r in x)
             for g in ("held", "unheld")} for s, x in (("orig", orig), ("fresh", fresh))}
    print(f"calibration.json: {n['orig']['held']} paraphrases, {n['orig']['unheld']} unheld "
          f"(tune / test halves); fresh: {n['fresh']['held']} paraphrases, "
          f"{n['fresh']['unheld']} unheld. MiniLM with tokens: {T.encode_s * 1e3:.1f} ms / text "
          "(batched)\n")
    rows = evaluate(orig, fresh, T, METHODS)
    if a.markdown:
        print(markdown(rows))
        print("\n" + picks(rows))
        return 0
    for r in rows:
        te, fr = r["test"], r["fresh"]
        print(f"{r['candidate']:28s} {r['method']:8s} AUC tune {r['auc_tune']:.3f} test "
              f"{r['auc_test']:.3f} fresh {r['auc_fresh']:.3f} | t {r['threshold']:.3f} "
              f"(tune min {r['tune_min']:.3f}) | test right {te['right']:.3f} wrong "
              f"{te['wrong']:.3f} unheld abst {te['unheld_abstained']:.3f} | fresh right "
              f"{fr['right']:.3f} unheld abst {fr['unheld_abstained']:.3f} | "
              f"{r['cost_us']:.0f} µs")
    print("\n" + picks(rows))
    return 0



def cost(n: int = 1000, queries: int = 60, k: int = 5) -> dict:
    """Milliseconds per single text query, word_match off vs on (interleaved, same memory of
    n generated text memories), and the re-score alone: cold (the answers' texts not yet
    encoded) and warm (cached)."""
    from nuonuo_core import HybridMemory, MemoryConfig, get_minilm_encoder
    from nuonuo_core import wordmatch as wm

    enc = get_minilm_encoder()
    things = ["car", "key", "book", "coffee", "doctor", "meeting", "school", "password",
              "train", "garden", "passport", "phone", "bike", "dentist", "flight", "gym",
              "lease", "map", "coin", "island"]
    owners = ["my", "my wife's", "my son's", "my boss's", "our", "the team's", "Anna's",
              "the office", "my sister's", "the neighbour's"]
    asks = ["Where is", "What is", "When is", "Which is", "Who has"]
    cues = [f"{asks[i % 5]} {owners[(i // 5) % 10]} {things[(i // 50) % 20]} number {i}?"
            for i in range(n)]
    on = HybridMemory(MemoryConfig(device="cpu", word_match=True), encoder=enc)
    on.add(cues, targets=[f"answer {i}" for i in range(n)])
    # its own memory: the config lives in the store, so a memory sharing ``on``'s store
    # would recall with word match on too
    off = HybridMemory(MemoryConfig(device="cpu", word_match=False), encoder=enc)
    off.add(cues, targets=[f"answer {i}" for i in range(n)])
    qs = [f"{asks[(i + 1) % 5]} {owners[i % 10]} {things[(i * 7) % 20]}?" for i in range(queries)]
    t_on, t_off = [], []
    for q in qs:                       # interleaved; the first pass also fills the cache
        for mem, acc in ((off, t_off), (on, t_on)):
            t0 = time.perf_counter()
            mem.recall_details([q], k=k, method="hopfield")
            acc.append(time.perf_counter() - t0)
    warm = []
    for q in qs:
        t0 = time.perf_counter()
        on.recall_details([q], k=k, method="hopfield")
        warm.append(time.perf_counter() - t0)
    # the re-score alone (query words given, memory texts cached): what the option adds
    _, qw = wm.encode(enc, qs[:1])
    r = off.recall_details(enc(qs[:1]), k=k, method="hopfield", min_score=NO_ABSTENTION)
    store = on.store

    def rows_of(i):
        t = store.texts[int(store.positions([i])[0])]
        return [t["cue"], *t["paraphrases"]]
    reps = 200
    t0 = time.perf_counter()
    for _ in range(reps):
        wm.rescore(r.best_scores, r.best_ids, qw, rows_of, on._word_cache, enc)
    return {"n": n, "k": k, "off_ms": 1e3 * float(np.median(t_off)),
            "on_first_ms": 1e3 * float(np.median(t_on)),
            "on_warm_ms": 1e3 * float(np.median(warm)),
            "rescore_ms": 1e3 * (time.perf_counter() - t0) / reps}


if __name__ == "__main__":
    if "--cost" in sys.argv:
        print(cost())
        raise SystemExit(0)
    raise SystemExit(main())
