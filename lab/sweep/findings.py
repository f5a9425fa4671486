"""The four new findings as the lab shows them: each one's chart with 95 % confidence intervals
over seeds, and a headline computed from the records (never typed: rerun the experiments and
the sentences follow the numbers).

The records are the committed result files ``docs/results/<name>.csv`` (seeds 0–4, written
by ``make results-data``, the same files ``make results`` renders into docs/results.md), or a
run of the experiment's ``quick`` preset on this server (:func:`quick_grid`, seeds 0–2,
through the lab's sweep runner), on demand.
Intervals are Student's t over seeds (:func:`nuonuo_core.experiments.summarize`); a
comparison of two arms is paired by seed (the difference per seed, then its interval), since
both arms of a seed share their memories and queries. Pure: no Streamlit.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from nuonuo_core.experiments import get_experiment, summarize
from nuonuo_core.sweep import Grid, build_grid
from nuonuo_core.experiments.summary import load as load_csv, t_quantile
from nuonuo_core.experiments.summary import half_point as _half_point

from . import charts as sc

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "docs" / "results"
MAX_BYTES = 20 * 2**20
CHANCE = 0.02        # a cell where no method recalls 2 % of its queries: everything failed


@dataclass(frozen=True)
class Control:
    """A selectbox over the values of ``column`` (``labels``: value -> text)."""

    column: str
    label: str
    default: object
    labels: tuple[tuple[object, str], ...] = ()

    def text(self, value) -> str:
        return dict(self.labels).get(value, sc._fmt(value))


@dataclass(frozen=True)
class Finding:
    name: str
    title: str
    question: str
    controls: tuple[Control, ...]


FINDINGS = (
    Finding("single_hop_value", "Does settling beat nearest-neighbour search?",
            "Single-hop recall@1 of flat cosine top-1 (the plain baseline), the engine's "
            "two-stage Hopfield at several β, and Hebbian, as the cue gets worse.",
            (Control("n_memories", "Stored memories", 1000),
             Control("intra_cosine", "Memory set", 0.8,
                     ((0.0, "random"), (0.5, "clustered, intra-cluster cosine 0.5"),
                      (0.8, "clustered, intra-cluster cosine 0.8"))))),
    Finding("hebbian_capacity", "Hebbian capacity beside theory",
            "Hebbian recall@1 at cue cosine 0.9 as stored pairs grow, for several D, beside "
            "the Willshaw-style estimate and cosine top-1 on the same cues.",
            (Control("wta_k", "k (active units per code)", 20),)),
    Finding("modern_capacity", "Modern Hopfield with more patterns than units",
            "Overlap after settling (fraction of units equal to the stored pattern) as stored "
            "patterns grow past N: modern Hopfield, the classical net and nearest-neighbour "
            "lookup on the same sets.",
            (Control("n_units", "Units N", 32),
             Control("correlation", "Patterns", 0.0,
                     ((0.0, "random"), (0.25, "correlated, pairwise overlap 0.25"))),
             Control("flip_fraction", "Flipped bits in the probe", 0.2,
                     ((0.1, "10 %"), (0.2, "20 %"))))),
    Finding("sleep_interference", "Sleep where W is crowded",
            "Hebbian recall after each night while 100 new pairs a day crowd a small W "
            "(D 512), for four sleep arms; 20 % of each day's pairs re-learn an old cue "
            "with a new target.",
            (Control("metric", "Which memories", "new_recall_at_1",
                     (("new_recall_at_1", "the newest day's pairs"),
                      ("old_recall_at_1", "day 1's pairs"),
                      ("all_recall_at_1", "every current pair"),
                      ("updated_recall_at_1", "re-learned cues: the newest target"))),)),
)
BY_NAME = {f.name: f for f in FINDINGS}


def load(name: str, folder: Path | None = None) -> pd.DataFrame | None:
    """The committed records of ``name`` (None when the file is missing or too large)."""
    path = (folder or FOLDER) / f"{name}.csv"
    if not path.is_file() or path.stat().st_size > MAX_BYTES:
        return None
    return load_csv(path)


QUICK_SEEDS = "0,1,2"


def quick_grid(name: str) -> Grid:
    """The experiment's ``quick`` preset over seeds 0–2, as a sweep grid (at most a minute a
    seed on two cores): the lab reruns a finding with it on demand."""
    exp = get_experiment(name)
    return build_grid(name, dict(exp.presets["quick"]), QUICK_SEEDS)


def command(name: str) -> str:
    return (f"python -m nuonuo_core.experiments {name} --seed 0,1,2,3,4 "
            f"--out docs/results/{name}.csv")


def data_line(name: str) -> str:
    return get_experiment(name).data


def options(df: pd.DataFrame, control: Control) -> list:
    if control.column == "metric":
        return [v for v, _ in control.labels if v in df.columns]
    return sorted(df[control.column].dropna().unique().tolist())


# --- numbers in words ---------------------------------------------------------------------------
def pct(mean: float, half: float, n: int) -> str:
    """'43 ± 8 %', '100 % (all 5 seeds)', '0.4 ± 0.3 %'."""
    if mean != mean:
        return "—"
    if n <= 1 or half != half:
        return f"{100 * mean:.0f} % (one seed)"
    if half == 0:
        return f"{100 * mean:.0f} % (all {n} seeds)"
    digits = 1 if 100 * half < 1 else 0
    return f"{100 * mean:.{digits}f} ± {100 * half:.{digits}f} %"


def points(mean: float, half: float) -> str:
    digits = 1 if abs(100 * half) < 5 else 0
    return f"{100 * mean:+.{digits}f} ± {100 * half:.{digits}f} points"


def ci(df: pd.DataFrame, metric: str, **where) -> tuple[float, float, int]:
    """(mean, CI half-width, seeds) of ``metric`` over the rows matching ``where``."""
    d = _sel(df, **where)
    if d.empty:
        return float("nan"), float("nan"), 0
    s = summarize(d, metric).iloc[0]
    return float(s["mean"]), float(s["half_width"]), int(s["n"])


def paired(df: pd.DataFrame, metric: str, a: dict, b: dict) -> tuple[float, float, int]:
    """(mean, CI half-width, seeds) of metric(a) − metric(b), paired by seed."""
    x = _sel(df, **a).groupby("seed")[metric].mean()
    y = _sel(df, **b).groupby("seed")[metric].mean()
    both = pd.concat([x.rename("a"), y.rename("b")], axis=1).dropna()
    if both.empty:
        return float("nan"), float("nan"), 0
    d = pd.DataFrame({"seed": both.index.to_numpy(), "d": (both["a"] - both["b"]).to_numpy()})
    s = summarize(d, "d").iloc[0]
    return float(s["mean"]), float(s["half_width"]), int(s["n"])


def _sel(df: pd.DataFrame, **where) -> pd.DataFrame:
    mask = np.ones(len(df), bool)
    for col, value in where.items():
        if isinstance(value, float) and value != value:
            mask &= df[col].isna().to_numpy()
        else:
            mask &= (df[col] == value).to_numpy()
    return df[mask]


def _set(n, rho) -> str:
    kind = "random" if rho == 0 else f"clustered (intra-cluster cosine {rho:g})"
    return f"{int(n):,} {kind} memories"


# --- headlines ----------------------------------------------------------------------------------
def _paired_cells(df: pd.DataFrame, cells: list[str], extra: list[str], a: dict, b: dict,
                  metric: str) -> pd.DataFrame:
    """Per (cell, ``extra``) group: mean, t-interval half-width and seed count of
    metric(a) − metric(b) paired by seed, where b has one value per (cell, seed) (the numbers
    of :func:`paired` for every group at once)."""
    x = _sel(df, **a).groupby(cells + extra + ["seed"], dropna=False)[metric].mean()
    y = _sel(df, **b).groupby(cells + ["seed"], dropna=False)[metric].mean()
    both = x.rename("a").reset_index().merge(y.rename("b").reset_index(),
                                             on=cells + ["seed"])
    both["d"] = both["a"] - both["b"]
    out = (both.groupby(cells + extra, dropna=False)["d"].agg(["mean", "std", "count"])
           .reset_index().rename(columns={"std": "sd", "count": "n"}))
    q = np.asarray([t_quantile(0.975, int(n) - 1) if n > 1 else np.nan for n in out["n"]])
    out["half"] = np.where(out["sd"].fillna(0) == 0, 0.0, q * out["sd"] / np.sqrt(out["n"]))
    return out


def headline_single_hop(df: pd.DataFrame) -> str:
    cells = ["n_memories", "intra_cosine", "cue_cosine"]
    top = df.groupby(cells + ["method", "beta"], dropna=False).recall_at_1.mean() \
        .groupby(level=[0, 1, 2]).max()
    ok = set(top[top >= CHANCE].index)
    d = _paired_cells(df, cells, ["beta"], {"method": "hopfield"}, {"method": "cosine"},
                      "recall_at_1")
    d = d[[tuple(r) in ok for r in d[cells].itertuples(index=False)]]
    if d.empty:
        return "No cell of these records has a method recalling 2 % of its queries."

    def cell(r, beta: bool = True) -> str:
        return ((f"β {r.beta:g}, " if beta else "") + f"cue cosine {r.cue_cosine:g}, "
                f"{_set(r.n_memories, r.intra_cosine)}")
    wins = d[(d["n"] > 1) & (d["mean"] - d["half"] > 0)]
    if len(wins):
        r = wins.loc[(wins["mean"] - wins["half"]).idxmax()]
        head = (f"Two-stage Hopfield beats flat cosine top-1 beyond its 95 % CI in "
                f"{len(wins)} of {len(d)} cells (where any method recalls ≥ "
                f"{100 * CHANCE:.0f} %), by up to {points(r['mean'], r['half'])} ({cell(r)})")
    else:
        r = d.loc[d["mean"].idxmax()]
        head = (f"In none of the {len(d)} cells (size × memory set × cue cosine × β, "
                f"where any method recalls ≥ {100 * CHANCE:.0f} %) does two-stage Hopfield "
                f"beat flat cosine top-1 beyond its 95 % CI; its best is "
                f"{points(r['mean'], r['half'])} ({cell(r)})")
    d16 = d[d["beta"] == 16.0]
    if len(d16):
        r = d16.loc[d16["mean"].idxmin()]
        if r["mean"] + r["half"] < 0:
            head += (f"; at the engine's default β 16 it loses by up to "
                     f"{points(-r['mean'], r['half'])[1:]} ({cell(r, beta=False)})")
    return head + "."


def headline_hebbian(df: pd.DataFrame) -> str:
    heb = df[df.method == "hebbian"]
    wta_ks = sorted(heb.wta_k.unique())
    wta_k = 20 if 20 in wta_ks else wta_ks[len(wta_ks) // 2]
    bits, theory, sooner = [], [], []
    for d in sorted(heb.code_dim.unique()):
        part = heb[(heb.code_dim == d) & (heb.wta_k == wta_k)]
        per = pd.DataFrame([{"seed": s, "h": _half_point(g, "recall_at_1")}
                            for s, g in part.groupby("seed")])
        top = int(part.n_memories.max())
        if per.h.isna().any():
            bits.append(f"more than {top:,} (D {int(d):,})")
        else:
            s = summarize(per, "h").iloc[0]
            bits.append(f"{s['mean']:,.0f} ± {s['half_width']:,.0f} (D {int(d):,})")
        t = _half_point(part, "theory")
        theory.append(f"{t:,.0f}" if t == t else f"> {top:,}")
        measured = _half_point(part, "recall_at_1")
        sooner.append(measured == measured and (t != t or measured < t))
    cos = df[df.method == "cosine"].groupby("seed").recall_at_1.min()
    low = summarize(pd.DataFrame({"seed": cos.index.to_numpy(), "r": cos.to_numpy()}),
                    "r").iloc[0]
    base = ("stays at 100 % in every seed and cell" if low["mean"] == 1.0 else
            f"never falls below {pct(low['mean'], low['half_width'], int(low['n']))}")
    listed = ", ".join(bits[:-1]) + (" and " if len(bits) > 1 else "") + bits[-1]
    return (f"At k {wta_k} and cue cosine {df.cue_cosine.iloc[0]:g}, Hebbian recall@1 falls "
            f"below 50 % at {listed} stored pairs, "
            f"{'sooner than' if all(sooner) else 'beside'} the Willshaw-style estimate "
            f"({', '.join(theory)}); cosine top-1 on the same cues {base}.")


def headline_modern(df: pd.DataFrame) -> str:
    cells = ["n_units", "n_patterns", "correlation", "flip_fraction"]
    m, h, n = paired(df, "overlap", {"model": "modern"}, {"model": "nearest"})
    mod = df[df.model == "modern"].groupby(cells).overlap.mean()
    worst = dict(zip(cells, mod.idxmin()))
    far = df[df.model == "modern"].n_over_bound.max()
    verb = ("matches" if abs(m) <= h + 0.005 else "beats" if m > 0 else "trails")
    where = (f"N {int(worst['n_units'])}, {int(worst['n_patterns']):,} patterns, "
             f"{worst['flip_fraction']:.0%} flips")
    return (f"Modern Hopfield (β {df.beta.iloc[0]:g}) {verb} nearest-neighbour lookup: "
            f"overlap difference {m:+.4f} ± {h:.4f} over all {len(mod)} cells, up to "
            f"{far:,.0f}× the Demircigil et al. bound; at its lowest cell ({where}) modern "
            f"{pct(*ci(df, 'overlap', model='modern', **worst))}, nearest "
            f"{pct(*ci(df, 'overlap', model='nearest', **worst))}, classical "
            f"{pct(*ci(df, 'overlap', model='classical', **worst))} overlap.")


ARM_WORDS = {"no_sleep": "no sleep", "homeostasis_only": "homeostasis alone",
             "replay": "replay of everything", "priority_replay": "priority replay"}


def headline_interference(df: pd.DataFrame) -> str:
    last = int(df.night.max())
    arms = [a for a in ARM_WORDS if a in set(df.arm)]
    new = {a: ci(df, "new_recall_at_1", arm=a, night=last) for a in arms}
    old = {a: ci(df, "old_recall_at_1", arm=a, night=last) for a in arms}
    best_new = max(arms, key=lambda a: new[a][0])
    best_old = max(arms, key=lambda a: old[a][0])
    base = "no_sleep"
    return (f"After {last} days of {int(df.n_per_day.iloc[0])} new pairs (D "
            f"{int(df.code_dim.iloc[0])}), no sleep keeps {pct(*new[base])} of the newest "
            f"day and {pct(*old[base])} of day 1. The newest day is kept best by "
            f"{ARM_WORDS[best_new]}: {pct(*new[best_new])}, with day 1 at "
            f"{pct(*old[best_new])}; day 1 is kept best by {ARM_WORDS[best_old]}: "
            f"{pct(*old[best_old])}, with the newest day at {pct(*new[best_old])}.")


HEADLINES = {"single_hop_value": headline_single_hop, "hebbian_capacity": headline_hebbian,
             "modern_capacity": headline_modern, "sleep_interference": headline_interference}


def headline(name: str, df: pd.DataFrame) -> str:
    return HEADLINES[name](df)


# --- charts -------------------------------------------------------------------------------------
def figure(name: str, df: pd.DataFrame, choice: dict) -> tuple[go.Figure, pd.DataFrame]:
    """The finding's chart for the chosen panel, and the summary it draws (mean, CI)."""
    if name == "single_hop_value":
        d = _sel(df, n_memories=choice["n_memories"], intra_cosine=choice["intra_cosine"])
        s = sc.summary(d, ["cue_cosine", "method", "beta"], "recall_at_1")
        fig = sc.lines(s, "cue_cosine", "recall_at_1", "method", "beta",
                       x_title="cue cosine to its stored cue (worse to the right)",
                       y_title="recall@1", reverse_x=True, family_label="β")
        return fig, s
    if name == "hebbian_capacity":
        d = df[df.wta_k == choice["wta_k"]]
        heb = d[d.method == "hebbian"]
        theory = heb.assign(method="theory", recall_at_1=heb["theory"])
        cos = d[d.method == "cosine"].assign(code_dim=np.nan)     # one line: every D
        rows = pd.concat([heb, theory, cos], ignore_index=True)
        s = sc.summary(rows, ["n_memories", "method", "code_dim"], "recall_at_1")
        fig = sc.lines(s, "n_memories", "recall_at_1", "method", "code_dim",
                       x_title="stored pairs (log scale)", y_title="recall@1",
                       family_label="D")
        return fig, s
    if name == "modern_capacity":
        d = _sel(df, n_units=choice["n_units"], correlation=choice["correlation"],
                 flip_fraction=choice["flip_fraction"])
        s = sc.summary(d, ["n_patterns", "model"], "overlap")
        fig = sc.lines(s, "n_patterns", "overlap", "model",
                       x_title="stored patterns (log scale)",
                       y_title="overlap after settling")
        floor = min(0.45, float((s["mean"] - s["minus"]).min()) - 0.03)
        fig.update_yaxes(range=[floor, 1.03])
        n = int(choice["n_units"])
        marks = [(0.138 * n, "classical bound 0.138·N", "dot")]
        bound = d.bound_patterns.dropna()
        if len(bound):
            marks.append((float(bound.iloc[0]), "Demircigil et al. bound", "dash"))
        lo, hi = float(d.n_patterns.min()), float(d.n_patterns.max())
        for x, text, dash in marks:
            if lo / 2 <= x <= hi * 2:     # a trace, not a shape: data coordinates on log x
                fig.add_trace(go.Scatter(
                    x=[x, x], y=[floor + 0.02, 1.02], mode="lines+text", text=[text, ""],
                    textposition="top right", line=dict(color="#888", dash=dash, width=1.5),
                    textfont=dict(size=12, color="#666"), showlegend=False,
                    hovertemplate=f"{text}: {x:,.1f} patterns<extra></extra>"))
        return fig, s
    if name == "sleep_interference":
        metric = choice["metric"]
        s = sc.summary(df, ["night", "arm"], metric)
        label = dict(BY_NAME[name].controls[0].labels)[metric]
        fig = sc.lines(s, "night", metric, "arm", x_title="day (after that night's sleep)",
                       y_title=f"recall@1, {label}")
        return fig, s
    raise ValueError(f"unknown finding {name!r}")
