"""CLI: ``python -m nuonuo_core.experiments list`` or
``python -m nuonuo_core.experiments NAME [--preset seed] [--param value ...] [--seed N]
[--out results.csv]``.

``--preset seed`` runs with the seed code's own settings (``NAME --help`` lists them); any
``--param`` given as well overrides the preset, and the records' ``changed`` column says so.

Tuple parameters take comma-separated values (``--noise_stds 0,0.05,0.1``); ``-`` and ``_``
are interchangeable in parameter names. ``NAME --help`` lists the parameters and defaults.
"""
from __future__ import annotations

import sys
from dataclasses import MISSING, fields

from . import EXPERIMENTS, get_experiment, run_experiment


def _list() -> None:
    for name, exp in EXPERIMENTS.items():
        presets = ", ".join(sorted(exp.presets)) or "none"
        print(f"{name:20s} {exp.title}\n{'':20s} reported: {exp.reported}; presets: {presets}")


def _help(name: str) -> None:
    exp = get_experiment(name)
    print(f"{name}: {exp.title}\nreported: {exp.reported}\nparameters (default):")
    for f in fields(exp.config_cls):
        default = f.default if f.default is not MISSING else None
        if isinstance(default, tuple):
            default = ",".join(str(v) for v in default)
        print(f"  --{f.name} {default}")
    for preset, values in exp.presets.items():
        shown = ", ".join(f"{k}={v}" for k, v in values.items())
        print(f"  --preset {preset}: {shown}")
    print("  --seed 0\n  --out FILE.csv")


def main(argv: list[str] | None = None) -> int:
    import pandas as pd

    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "list"):
        _list()
        return 0
    name, rest = args[0], args[1:]
    if name not in EXPERIMENTS:
        print(f"unknown experiment {name!r}; try: list", file=sys.stderr)
        return 2
    if "-h" in rest or "--help" in rest:
        _help(name)
        return 0
    params, seed, out, preset = {}, 0, None, None
    i = 0
    while i < len(rest):
        key = rest[i]
        if not key.startswith("--") or i + 1 >= len(rest):
            print(f"expected --param value pairs, got {rest[i:]!r}", file=sys.stderr)
            return 2
        key, value = key[2:].replace("-", "_"), rest[i + 1]
        i += 2
        if key == "seed":
            if not value.isdigit():
                print(f"error: seed must be an int >= 0, got {value!r}", file=sys.stderr)
                return 2
            seed = int(value)
        elif key == "out":
            out = value
        elif key == "preset":
            preset = value
        else:
            params[key] = value
    try:
        df = run_experiment(name, seed=seed, preset=preset, **params)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with pd.option_context("display.max_rows", 500, "display.max_columns", 50,
                           "display.width", 200):
        print(df.drop(columns=["experiment"]).to_string(index=False))
    if out:
        df.to_csv(out, index=False)
        print(f"wrote {len(df)} rows to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
