"""docs/results.md from result files: ``make results`` (render) and ``make results-data`` (run).

``python scripts/results.py run [--jobs 2] [--only NAME,...]`` runs every experiment of
:data:`RUNS` for seeds 0-4 (one process per run and seed, ``--jobs`` at a time; finished seeds
are kept in ``docs/results/.parts`` so an interrupted run resumes) and writes one CSV per run
to ``docs/results/NAME.csv``. ``python scripts/results.py render`` writes docs/results.md from
those files only: every number in its table is computed there (mean ± 95 % CI over the seeds,
Student's t, by :func:`nuonuo_core.experiments.summarize`), never typed by hand.
"""
from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "docs" / "results"
PARTS = DATA / ".parts"
SEEDS = (0, 1, 2, 3, 4)


@dataclass(frozen=True)
class Run:
    """One result file: an experiment at a preset with parameters, over SEEDS."""

    name: str
    experiment: str
    preset: str | None = None
    params: dict = field(default_factory=dict)
    one_process: bool = False      # all seeds in one process (an encoder loaded once)

    def args(self) -> list[str]:
        out = [self.experiment]
        if self.preset:
            out += ["--preset", self.preset]
        for k, v in self.params.items():
            out += [f"--{k}", str(v)]
        return out

    def command(self) -> str:
        """The documented command that makes this file."""
        return ("python -m nuonuo_core.experiments " + shlex.join(self.args()) +
                f" --seed {','.join(map(str, SEEDS))} --out docs/results/{self.name}.csv")


RUNS = [
    Run("noise", "noise"),
    Run("capacity", "capacity", params={"n_memories": "1000,20000", "wta_ks": "20",
                                        "code_dims": "16384", "n_fixed": "1000",
                                        "classical_n": "25,50,75,100,200"}),
    Run("multihop", "multihop"),
    Run("sleep_basic_seed", "sleep_basic", "seed"),
    Run("sleep_basic", "sleep_basic"),
    Run("sleep_noisy_replay_seed", "sleep_noisy_replay", "seed"),
    Run("sleep_noisy_replay_seed_embedding", "sleep_noisy_replay", "seed",
        {"replay_noise_on": "embedding"}),
    Run("sleep_noisy_replay", "sleep_noisy_replay"),
    Run("sleep_multi_night_seed", "sleep_multi_night", "seed"),
    Run("sleep_multi_night", "sleep_multi_night"),
    Run("sleep_priority_seed", "sleep_priority", "seed"),
    Run("sleep_priority", "sleep_priority"),
    Run("sleep_forgetting_seed", "sleep_forgetting", "seed"),
    Run("sleep_forgetting", "sleep_forgetting"),
    Run("sleep_phase", "sleep_phase"),
    Run("paraphrase", "paraphrase", params={"encoders": "minilm,hashing,wordllama",
                                            "methods": "hopfield,cosine,hebbian"},
        one_process=True),
    Run("encoder_gap", "encoder_gap", params={"encoders": "minilm,wordllama,hashing"},
        one_process=True),
    Run("spiking", "spiking"),
    Run("pattern_random", "pattern_completion",
        params={"pattern_set": "random", "n_patterns": "20,140,300", "flip_fraction": "0.1",
                "models": "classical,modern,hybrid"}),
    Run("pattern_glyphs", "pattern_completion",
        params={"pattern_set": "glyphs", "n_patterns": "3,10,36", "flip_fraction": "0.1,0.3",
                "models": "classical,modern,hybrid"}),
    Run("single_hop_value", "single_hop_value"),
    Run("hebbian_capacity", "hebbian_capacity"),
    Run("modern_capacity", "modern_capacity"),
    Run("sleep_interference", "sleep_interference"),
]
BY_NAME = {r.name: r for r in RUNS}


def _run_one(run: Run, seeds: tuple[int, ...]) -> tuple[str, float, str]:
    PARTS.mkdir(parents=True, exist_ok=True)
    tag = "-".join(map(str, seeds))
    part = PARTS / f"{run.name}.seed{tag}.csv"
    if part.exists():
        return f"{run.name} seed {tag}", 0.0, "kept"
    cmd = [sys.executable, "-m", "nuonuo_core.experiments", *run.args(), "--seed",
           ",".join(map(str, seeds)), "--out", str(part) + ".tmp", "--quiet"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        return f"{run.name} seed {tag}", wall, "FAILED: " + proc.stderr.strip()[-500:]
    Path(str(part) + ".tmp").rename(part)
    return f"{run.name} seed {tag}", wall, "ok"


def run(names: list[str], jobs: int) -> int:
    chosen = [BY_NAME[n] for n in names] if names else RUNS
    work = [(r, SEEDS if r.one_process else (s,)) for r in chosen
            for s in ((SEEDS[0],) if r.one_process else SEEDS)]
    failed = 0
    with ThreadPoolExecutor(jobs) as pool:
        for label, wall, state in pool.map(lambda w: _run_one(*w), work):
            print(f"{label:45s} {wall:7.1f} s  {state}", flush=True)
            failed += state.startswith("FAILED")
    collect(chosen)
    return 1 if failed else 0


def collect(chosen: list[Run]) -> None:
    """Each run whose seeds have all finished -> docs/results/NAME.csv."""
    import pandas as pd

    for r in chosen:
        tags = ["-".join(map(str, SEEDS))] if r.one_process else [str(s) for s in SEEDS]
        parts = [PARTS / f"{r.name}.seed{t}.csv" for t in tags]
        if all(p.exists() for p in parts):
            df = pd.concat([pd.read_csv(p, keep_default_na=False, na_values=[""])
                            for p in parts], ignore_index=True)
            df.to_csv(DATA / f"{r.name}.csv", index=False)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run the experiments for seeds 0-4 into docs/results/")
    r.add_argument("--jobs", type=int, default=2)
    r.add_argument("--only", default="", help="comma list of run names")
    sub.add_parser("render", help="write docs/results.md from docs/results/*.csv")
    sub.add_parser("commands", help="print the command of every result file")
    sub.add_parser("collect", help="merge the finished seeds of every run into its CSV")
    ns = p.parse_args(argv)
    if ns.command == "run":
        return run([n for n in ns.only.split(",") if n], ns.jobs)
    if ns.command == "collect":
        collect(RUNS)
        return 0
    if ns.command == "commands":
        for r in RUNS:
            print(r.command())
        return 0
    from results_render import MISSING, render
    out = ROOT / "docs" / "results.md"
    out.write_text(render(DATA, RUNS), encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")
    for m in MISSING:
        print(f"missing: {m}", file=sys.stderr)
    return 1 if MISSING else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    raise SystemExit(main())
