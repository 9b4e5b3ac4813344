"""Benchmark: pixel-wise scaling of a 256 x 256 region with 300 ions; time and peak memory.

Run: .venv/bin/python benchmarks/bench_imaging.py   (prints one JSON line)
Peak RSS is the process's maximum resident set size (ru_maxrss), measured after building the
stack, so "stack_mb" against "peak_rss_mb" shows how many copies the scaling holds.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "scripts"))

from simsflow.imaging import region_row


def main(size: int = 256, n_ions: int = 300, seed: int = 1) -> dict:
    rng = np.random.default_rng(seed)
    ions = [f"ion{i:03d}-" for i in range(n_ions)]
    y, x = np.mgrid[0:size, 0:size]
    data = {"x": x.ravel().astype(np.int32), "y": y.ravel().astype(np.int32)}
    rates = rng.gamma(0.5, 2.0, size=n_ions).astype(np.float32)
    for ion, rate in zip(ions, rates, strict=True):
        data[ion] = rng.poisson(rate, size=size * size).astype(np.float32)
    stack = pd.DataFrame(data)
    stack["total"] = stack[ions].sum(axis=1).astype(np.float32)
    stack_mb = stack.memory_usage(deep=True).sum() / 2**20
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    region_row(stack, ions)
    seconds = time.perf_counter() - start
    # numpy floor: one sum over the same stack
    start = time.perf_counter()
    stack[ions].to_numpy(dtype=np.float32).sum(axis=0)
    floor = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "pixels": size * size,
        "ions": n_ions,
        "stack_mb": round(stack_mb, 1),
        "rss_before_scaling_mb": round(before, 1),
        "peak_rss_mb": round(peak, 1),
        "extra_copies": round((peak - before) / stack_mb, 2),
        "pixelwise_seconds": round(seconds, 6),
        "numpy_sum_seconds": round(floor, 6),
        "ratio_to_floor": round(seconds / floor, 2),
    }


if __name__ == "__main__":
    print(json.dumps(main()))
