"""Mean and 95 % confidence interval of a metric over seeds, per group.

``summarize(records, "recall_at_1", by=["method", "noise_std"])`` first averages the metric
within each (group, seed) (a group may hold several rows of one seed), then takes, over the
seeds of the group:

* ``method="t"`` (default): mean ± t(0.975, n − 1) · sd / √n, Student's t interval for the
  mean of n independent seeds (exact for normally distributed per-seed values; the honest
  choice for the 5–10 seeds an experiment runs);
* ``method="bootstrap"``: the percentile bootstrap of the mean (``n_boot`` resamples of the
  seeds, seeded): no normality assumed, but too narrow below ~10 seeds.

n = 1 has no interval (NaN); n seeds with the same value give ± 0 (a deterministic result).
Files written before the ``k`` column was renamed read as ``wta_k`` (experiment records).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from .registry import check

METHODS = ("t", "bootstrap")
#: the columns summarize adds after the group columns
STATS = ("n", "mean", "sd", "ci_low", "ci_high", "half_width", "interval", "level")
# old column name -> new one, in experiment records (which have an ``experiment`` column)
RENAMED = {"k": "wta_k", "ks": "wta_ks"}
_T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
         9: 2.262, 10: 2.228, 12: 2.179, 15: 2.131, 20: 2.086, 30: 2.042, 60: 2.000,
         120: 1.980}


def upgrade_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Experiment records of older versions under today's column names (``k`` -> ``wta_k``).
    A table without an ``experiment`` column (a benchmark's, whose ``k`` is a cutoff) is
    returned as it is."""
    if "experiment" not in df.columns:
        return df
    ren = {old: new for old, new in RENAMED.items() if old in df.columns and new not in df}
    return df.rename(columns=ren) if ren else df


def t_quantile(p: float, dof: int) -> float:
    """The p-quantile of Student's t with ``dof`` degrees of freedom."""
    try:
        from scipy.stats import t
        return float(t.ppf(p, dof))
    except ImportError:  # pragma: no cover - scipy comes with sentence-transformers
        check(abs(p - 0.975) < 1e-12, "without scipy only the 95 % interval is available")
        keys = sorted(_T975)
        below = max([k for k in keys if k <= dof], default=1)
        return _T975[below] if dof <= 120 else 1.96


def interval(values: Iterable[float], method: str = "t", level: float = 0.95,
             n_boot: int = 10_000, seed: int = 0) -> tuple[float, float, float, int]:
    """(mean, low, high, n) of the mean of ``values`` (NaNs dropped)."""
    check(method in METHODS, f"method must be one of {METHODS}, got {method!r}")
    check(0 < level < 1, f"level must be in (0, 1), got {level!r}")
    x = np.asarray([v for v in values if v == v], dtype=float)
    n = len(x)
    if n == 0:
        return float("nan"), float("nan"), float("nan"), 0
    mean = float(x.mean())
    if n == 1:
        return mean, float("nan"), float("nan"), 1
    if np.all(x == x[0]):
        return mean, mean, mean, n
    if method == "t":
        half = t_quantile(0.5 + level / 2, n - 1) * float(x.std(ddof=1)) / math.sqrt(n)
        return mean, mean - half, mean + half, n
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, n, size=(n_boot, n))].mean(1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return mean, float(lo), float(hi), n


def load(path: str | Path) -> pd.DataFrame:
    """A result file (CSV) as experiment records, old column names upgraded."""
    df = pd.read_csv(path, keep_default_na=False, na_values=[""])
    return upgrade_columns(df)


def _as_frame(records: Any) -> pd.DataFrame:
    if isinstance(records, (str, Path)):
        return load(records)
    df = records if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
    return upgrade_columns(df)


def summarize(records: Any, metric: str, by: str | list[str] | None = None,
              method: str = "t", level: float = 0.95, n_boot: int = 10_000,
              seed: int = 0) -> pd.DataFrame:
    """Mean, ``level`` confidence interval and n of ``metric`` over the ``seed`` column, per
    group of ``by`` columns (a list or a comma list; old names such as ``k`` are read).

    ``records``: a DataFrame, a list of dicts or a CSV path. Returns one row per group (in
    first-seen order): the ``by`` columns, ``n`` (seeds), ``mean``, ``sd`` (over seeds),
    ``ci_low``, ``ci_high``, ``half_width`` (``(high − low) / 2``), ``interval`` (the
    interval's method, "t" or "bootstrap"; not named ``method``, which is a column the
    records often have and group by), ``level``."""
    df = _as_frame(records)
    if isinstance(by, str):
        by = [b.strip() for b in by.split(",") if b.strip()]
    by = [RENAMED.get(b, b) if b not in df.columns else b for b in (by or [])]
    check(metric in df.columns, f"no column {metric!r}; columns: {list(df.columns)}")
    missing = [b for b in by if b not in df.columns]
    check(not missing, f"no column {missing}; columns: {list(df.columns)}")
    clash = [b for b in by if b in STATS]
    check(not clash, f"cannot group by {clash}: the summary adds columns of that name "
                     f"{list(STATS)}; rename the column first")
    check("seed" in df.columns, "the records have no 'seed' column to take intervals over")
    check(pd.api.types.is_numeric_dtype(df[metric]) or df[metric].isna().all(),
          f"{metric!r} is not numeric")
    per_seed = (df.groupby(by + ["seed"], sort=False, dropna=False)[metric].mean()
                .reset_index())
    out = []
    groups = per_seed.groupby(by, sort=False, dropna=False) if by else [((), per_seed)]
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        mean, lo, hi, n = interval(part[metric], method, level, n_boot, seed)
        sd = float(part[metric].std(ddof=1)) if n > 1 else float("nan")
        out.append({**dict(zip(by, key)), "n": n, "mean": mean, "sd": sd, "ci_low": lo,
                    "ci_high": hi, "half_width": (hi - lo) / 2, "interval": method,
                    "level": level})
    return pd.DataFrame(out, columns=by + list(STATS))


def fmt(mean: float, half: float, n: int, digits: int = 3) -> str:
    """'0.842 ± 0.031 (n 5)'; 'deterministic' intervals (± 0 over n seeds) say so."""
    if n == 0 or mean != mean:
        return "—"
    if n == 1 or half != half:
        return f"{mean:.{digits}f} (one seed)"
    if half == 0:
        return f"{mean:.{digits}f} (same in all {n} seeds)"
    return f"{mean:.{digits}f} ± {half:.{digits}f} (n {n})"


def table_text(s: pd.DataFrame, metric: str, digits: int = 3) -> str:
    """The summary as the CLI prints it: one line per group."""
    by = list(s.columns[:len(s.columns) - len(STATS)])
    if s.empty:
        return "no rows"
    how = {"t": "Student's t", "bootstrap": "percentile bootstrap"}[s["interval"].iloc[0]]
    level = f"{100 * float(s['level'].iloc[0]):g} %"
    lines = [f"{metric}: mean ± half-width of the {level} CI over seeds ({how})"]
    width = max([len(", ".join(f"{b}={r[b]}" for b in by)) for _, r in s.iterrows()] + [3])
    for _, r in s.iterrows():
        label = ", ".join(f"{b}={r[b]}" for b in by) or "all"
        text = fmt(r["mean"], r["half_width"], int(r["n"]), digits)
        ci = (f"  [{r['ci_low']:.{digits}f}, {r['ci_high']:.{digits}f}]"
              if r["n"] > 1 and r["half_width"] == r["half_width"] else "")
        lines.append(f"  {label:<{width}}  {text}{ci}")
    return "\n".join(lines)


def half_point(part: pd.DataFrame, col: str, x: str = "n_memories") -> float:
    """The ``x`` (stored pairs) at which the mean of ``col`` first falls below 0.5,
    interpolated on a log axis between the two ``x`` around it; the first ``x`` if it starts
    below 0.5; NaN if it never falls below. Used by the capacity findings (docs and lab)."""
    g = part.groupby(x)[col].mean().sort_index()
    prev = None
    for n, v in g.items():
        if v < 0.5:
            if prev is None:
                return float(n)
            n0, v0 = prev
            t = (v0 - 0.5) / (v0 - v)
            return float(math.exp(math.log(n0) + t * (math.log(n) - math.log(n0))))
        prev = (n, v)
    return float("nan")
