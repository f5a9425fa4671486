"""Regenerate the "When to answer" tables of docs/engine.md: match scores of the hand-written
held and unheld questions (tests/fixtures/calibration.json) on the shipped demo sets, the
threshold each method's rule picks on the tune half, and the trade-off per threshold.

    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python scripts/calibrate.py
"""
from nuonuo_core.bench.calibration import main

if __name__ == "__main__":
    raise SystemExit(main())
