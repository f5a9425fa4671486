"""Benchmarks: ``python -m nuonuo_core.bench {speed,locomo,longmemeval,calibration} ...``
print tables."""
