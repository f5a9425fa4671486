"""Benchmarks: ``python -m nuonuo_core.bench {speed,locomo,longmemeval,conversation,
calibration} ...`` print tables."""
