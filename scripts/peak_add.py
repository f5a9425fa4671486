"""Peak RSS while adding N memories in one call, against the final state size.

usage: python scripts/peak_add.py [N]   (prints one JSON line)"""
import json
import resource
import sys

from nuonuo_core import HybridMemory, MemoryConfig
from nuonuo_core.bench.speed import clustered_unit_vectors


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main(n: int) -> dict:
    x = clustered_unit_vectors(n)
    mem = HybridMemory(MemoryConfig(device="cpu"))
    mem.add_vectors(x[:10])  # warm up torch's allocator and kernels
    mem.remove(mem.ids())
    base = rss_mib()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    mem.add_vectors(x)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    state = mem.stats()["bytes"] / 2**20
    return {"n": n, "rss_before_mib": round(base, 1), "peak_before_mib": round(peak_before, 1),
            "peak_mib": round(peak, 1), "rss_after_mib": round(rss_mib(), 1),
            "state_mib": round(state, 1), "transient_peak_mib": round(peak - base, 1),
            "ratio_peak_over_state": round((peak - base) / state, 2)}


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)))
