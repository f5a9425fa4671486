"""Benchmarks: ``python -m nuonuo_core.bench {speed,locomo,longmemeval} ...`` print tables."""
