"""simsflow benchmarks: throughput of the spectrum stages and pixel-wise scaling against their
floors, the speed-up over a naive per-point loop, peak memory and growth with study size.

    make bench                       # the full-size run (2,000 spectra, 14 regions)
    .venv/bin/python benchmarks/run.py --spectra 40 --regions 1 --size 64   # a quick look

Writes benchmarks/results.md (machine, versions, date, every figure) and results.json.
Generated data go to benchmarks/work/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.csv as pacsv

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "workflow" / "scripts"))

from simsflow.calibrate import CalibrationSettings, calibrate_sample, reference_ions_for  # noqa: E402
from simsflow.integrate import IntegrationSettings, integrate_sample, interval_areas  # noqa: E402
from simsflow.io.importer import import_sample  # noqa: E402
from simsflow.io.spectra import Spectrum, write_spectrum  # noqa: E402
from simsflow.simulate.instrument import Instrument, simulate_spectrum  # noqa: E402
from simsflow.simulate.study import design, instrument, spot_ion_counts, spot_rng  # noqa: E402
from simsflow.simulate.study import mass_list as demo_mass_list  # noqa: E402

SPOTS_PER_SAMPLE = 10


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate_spectra(folder: Path, n_spectra: int, seed: int = 7) -> list[list[Path]]:
    """Lithium-study spectra binned to about 150 kB per export, 10 spots per sample."""
    base = instrument("lithium")
    inst = Instrument(**{**base.__dict__, "binning": 96})
    d = design("lithium")
    entries = d["samples"]
    samples = []
    for s in range(int(np.ceil(n_spectra / SPOTS_PER_SAMPLE))):
        entry = dict(entries[s % len(entries)], sample=f"S{s:03d}")
        files = []
        for k in range(SPOTS_PER_SAMPLE):
            if s * SPOTS_PER_SAMPLE + k >= n_spectra:
                break
            path = folder / entry["sample"] / f"{k + 1:02d}.txt"
            if not path.exists():
                rng = spot_rng(seed, "bench", entry["sample"], f"{k + 1:02d}")
                counts, _ = spot_ion_counts("lithium", entry, rng)
                sim = simulate_spectrum(inst, counts, rng)
                write_spectrum(path, Spectrum(sim.mz, sim.intensity, sim.channel, sim.header))
            files.append(path)
        samples.append(files)
    return samples


def bench_spectra(samples, mass_list) -> dict:
    files = [f for s in samples for f in s]
    megabytes = sum(f.stat().st_size for f in files) / 2**20
    # floor: parse every file with pyarrow.csv in one process
    start = time.perf_counter()
    for f in files:
        pacsv.read_csv(
            f,
            read_options=pacsv.ReadOptions(skip_rows=3, autogenerate_column_names=True),
            parse_options=pacsv.ParseOptions(delimiter="\t"),
        )
    floor = time.perf_counter() - start
    settings = CalibrationSettings(reference_ions_for("negative", ["CO3-"]))
    integration = IntegrationSettings(deadtime_shots=1.5e6)
    start = time.perf_counter()
    for s, group in enumerate(samples):
        table, meta = import_sample("bench", f"S{s:03d}", [p.stem for p in group], group)
        calibration = calibrate_sample(table, settings)
        integrate_sample(table, calibration, mass_list, meta, integration)
    pipeline = time.perf_counter() - start
    return {
        "spectra": len(files),
        "megabytes": round(megabytes, 1),
        "kb_per_spectrum": round(megabytes * 1024 / len(files), 1),
        "parse_floor_s": round(floor, 2),
        "import_calibrate_integrate_s": round(pipeline, 2),
        "throughput_mb_s": round(megabytes / pipeline, 1),
        "throughput_spectra_s": round(len(files) / pipeline, 1),
        "floor_mb_s": round(megabytes / floor, 1),
        "ratio_to_parse_floor": round(pipeline / floor, 2),
    }


def naive_integration(mz, counts, lower, upper):
    """How the published scripts integrate: a Python loop over ions and data points."""
    areas = []
    for lo, hi in zip(lower, upper, strict=True):
        total = 0.0
        for m, c in zip(mz, counts, strict=True):
            if lo <= m < hi:
                total += c
        areas.append(total)
    return areas


def bench_naive(samples, mass_list, n: int = 3) -> dict:
    lower = mass_list["lower"].to_numpy()
    upper = mass_list["upper"].to_numpy()
    files = [f for s in samples for f in s][:n]
    spectra = [import_sample("b", "x", ["1"], [f])[0].to_pandas() for f in files]
    start = time.perf_counter()
    for s in spectra:
        naive_integration(s["mz"].tolist(), s["intensity"].tolist(), lower, upper)
    naive = (time.perf_counter() - start) / n
    start = time.perf_counter()
    repeats = 200
    for _ in range(repeats):
        for s in spectra:
            interval_areas(s["mz"].to_numpy(), s["intensity"].to_numpy(), lower, upper)
    fast = (time.perf_counter() - start) / (repeats * n)
    return {
        "naive_s_per_spectrum": round(naive, 4),
        "vectorized_s_per_spectrum": round(fast, 6),
        "speed_up": round(naive / fast),
    }


def bench_images(regions: int, size: int, n_ions: int) -> dict:
    sys.path.insert(0, str(HERE))
    from bench_imaging import main as one_region

    results = [one_region(size, n_ions, seed) for seed in range(regions)]
    return {
        "regions": regions,
        "pixels": size * size,
        "ions": n_ions,
        "stack_mb": results[0]["stack_mb"],
        "pixelwise_s_total": round(sum(r["pixelwise_seconds"] for r in results), 3),
        "numpy_floor_s_total": round(sum(r["numpy_sum_seconds"] for r in results), 3),
        "ratio_to_numpy_floor": round(
            sum(r["pixelwise_seconds"] for r in results)
            / sum(r["numpy_sum_seconds"] for r in results),
            2,
        ),
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spectra", type=int, default=2000)
    parser.add_argument("--small", type=int, default=500, help="smaller study for the growth")
    parser.add_argument("--regions", type=int, default=14)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--ions", type=int, default=300)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    work = HERE / "work"
    mass_list = demo_mass_list("lithium")
    t0 = time.perf_counter()
    samples = generate_spectra(work / "spectra", args.spectra)
    generated = time.perf_counter() - t0
    small = [s for s in samples[: int(np.ceil(args.small / SPOTS_PER_SAMPLE))]]
    results = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "generation_s": round(generated, 1),
        "spectra_small": bench_spectra(small, mass_list),
        "spectra": bench_spectra(samples, mass_list),
        "naive": bench_naive(samples, mass_list),
        "images": bench_images(args.regions, args.size, args.ions),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    results["growth_large_over_small"] = round(
        results["spectra"]["import_calibrate_integrate_s"]
        / results["spectra_small"]["import_calibrate_integrate_s"],
        2,
    )
    (args.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    (args.out / "results.md").write_text(markdown(results))
    print(json.dumps(results))
    return results


def markdown(r: dict) -> str:
    s, small, n, im = r["spectra"], r["spectra_small"], r["naive"], r["images"]
    return f"""# simsflow benchmark results

Date {r["date"]}; {r["machine"]}; Python {r["python"]}, numpy {r["numpy"]}, pandas {r["pandas"]}.
Generated by `make bench` (benchmarks/run.py); data generation took {r["generation_s"]} s.

| measure | value | floor / reference | ratio |
|---|---|---|---|
| a. import + calibration + integration, {s["spectra"]} spectra ({s["megabytes"]} MB, {s["kb_per_spectrum"]} kB each) | {s["import_calibrate_integrate_s"]} s ({s["throughput_mb_s"]} MB/s, {s["throughput_spectra_s"]} spectra/s) | pyarrow.csv parse only: {s["parse_floor_s"]} s ({s["floor_mb_s"]} MB/s) | {s["ratio_to_parse_floor"]} |
| b. pixel-wise scaling, {im["regions"]} regions of {im["pixels"]} px x {im["ions"]} ions ({im["stack_mb"]} MB each) | {im["pixelwise_s_total"]} s | numpy sum over the same stacks: {im["numpy_floor_s_total"]} s | {im["ratio_to_numpy_floor"]} |
| c. integration per spectrum, vectorized vs Python loop over points and ions | {n["vectorized_s_per_spectrum"]} s | naive loop: {n["naive_s_per_spectrum"]} s | speed-up {n["speed_up"]}x |
| e. growth: {small["spectra"]} -> {s["spectra"]} spectra | {small["import_calibrate_integrate_s"]} s -> {s["import_calibrate_integrate_s"]} s | linear: {s["spectra"] / small["spectra"]:.1f}x | {r["growth_large_over_small"]} |
| e. peak RSS of the benchmark process | {r["peak_rss_mb"]} MB | | |

Not measured here: d. the end-to-end `snakemake --cores 2` run of the large study (wall time,
job count, share outside the library) - see the issue note.
"""


if __name__ == "__main__":
    main()
