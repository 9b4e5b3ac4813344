"""simsflow benchmarks: throughput of the spectrum stages and pixel-wise scaling against their
floors, the speed-up over a naive per-point loop, peak memory and growth with study size, a
real-shaped study (f), the memory of large files (g) and the box plots of one scaling (h).

    make bench                       # the full-size run (2,000 spectra, 14 regions)
    .venv/bin/python benchmarks/run.py --spectra 40 --regions 1 --size 64   # a quick look

Writes benchmarks/results.md (machine, versions, date, every figure) and results.json.
Generated data go to benchmarks/work/ (git-ignored; ``--work`` puts them elsewhere).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "workflow" / "scripts"))
sys.path.insert(0, str(HERE))

from bench_boxplots import bench_boxplots  # noqa: E402
from bench_boxplots import markdown_rows as boxplot_rows  # noqa: E402
from bench_memory import bench_memory  # noqa: E402
from bench_memory import markdown_rows as memory_rows  # noqa: E402
from bench_real import bench_real  # noqa: E402
from bench_real import markdown_rows as real_rows  # noqa: E402

from simsflow.batch import (  # noqa: E402
    CHUNK_SAMPLES,
    SampleJob,
    process_sample,
    process_samples,
)
from simsflow.calibrate import (  # noqa: E402
    CalibrationSettings,
    calibrate_spots,
    calibration_table,
    reference_ions_for,
)
from simsflow.integrate import (  # noqa: E402
    IntegrationSettings,
    Intervals,
    finish_samples,
    integrate_sample,
    prepare_sample,
)
from simsflow.io.batches import STAGES, write_batch  # noqa: E402
from simsflow.io.spectra import Spectrum, read_spectrum, write_spectrum  # noqa: E402
from simsflow.io.tables import write_tsv  # noqa: E402
from simsflow.runlog import STARTUP_MODULES, peak_memory_mb  # noqa: E402
from simsflow.simulate.instrument import Instrument, simulate_spectrum  # noqa: E402
from simsflow.simulate.study import design, instrument, spot_ion_counts, spot_rng  # noqa: E402
from simsflow.simulate.study import mass_list as demo_mass_list  # noqa: E402
from simsflow.spots import Spot  # noqa: E402

SPOTS_PER_SAMPLE = 10


@dataclass(frozen=True)
class BenchSample:
    name: str
    polarity: str
    files: list[Path]


POLARITIES = ("negative", "positive")


def generate_spectra(folder: Path, n_spectra: int, seed: int = 7) -> list[BenchSample]:
    """Lithium-study spectra binned to about 150 kB per export, 10 spots per sample; the first
    half of the samples measured in negative, the second half in positive polarity."""
    base = instrument("lithium")
    inst = Instrument(**{**base.__dict__, "binning": 96})
    entries = design("lithium")["samples"]
    n_samples = int(np.ceil(n_spectra / SPOTS_PER_SAMPLE))
    samples = []
    for s in range(n_samples):
        polarity = POLARITIES[0] if s < (n_samples + 1) // 2 else POLARITIES[1]
        entry = dict(entries[s % len(entries)], sample=f"S{s:03d}")
        files = []
        for k in range(SPOTS_PER_SAMPLE):
            if s * SPOTS_PER_SAMPLE + k >= n_spectra:
                break
            path = folder / polarity / entry["sample"] / f"{k + 1:02d}.txt"
            if not path.exists():
                rng = spot_rng(seed, f"bench-{polarity}", entry["sample"], f"{k + 1:02d}")
                counts, _ = spot_ion_counts("lithium", entry, rng, polarity=polarity)
                sim = simulate_spectrum(inst, counts, rng)
                write_spectrum(path, Spectrum(sim.mz, sim.intensity, sim.channel, sim.header))
            files.append(path)
        samples.append(BenchSample(entry["sample"], polarity, files))
    return samples


def mass_lists() -> dict[str, pd.DataFrame]:
    return {p: demo_mass_list("lithium", polarity=p) for p in POLARITIES}


CALIBRATION = {  # as the lithium demo study (negative), defaults in positive
    "negative": CalibrationSettings(reference_ions_for("negative", ["CO3-"])),
    "positive": CalibrationSettings(reference_ions_for("positive")),
}
INTEGRATION = IntegrationSettings(deadtime_shots=1.5e6)  # as the lithium demo study


def _job(sample: BenchSample) -> SampleJob:
    return SampleJob(
        f"bench_{sample.polarity}",
        sample.name,
        [p.stem for p in sample.files],
        [str(p) for p in sample.files],
        CALIBRATION[sample.polarity],
    )


def _process(args):
    """The spectrum stages of one sample (what a per-sample or batch job computes)."""
    sample, mass_list = args
    return process_sample(_job(sample), INTEGRATION, mass_list)


def _each_polarity(samples, lists, write_to: Path | None = None, summed: bool = False) -> None:
    """Every sample through ``process_samples`` (one batch per polarity, as batch jobs):
    import, calibration and integration; with ``summed`` also each sample's summed spectrum
    (which the integration job writes too); with ``write_to`` every output written as a batch
    job writes them (``write_batch``: one file per stage, the spectra a sample at a time)."""
    for polarity in POLARITIES:
        jobs = [_job(s) for s in samples if s.polarity == polarity]
        results = process_samples(jobs, INTEGRATION, lists[polarity])
        if write_to is not None:
            write_batch(results, {s: write_to / f"{polarity}.{s}.{x}" for s, x in STAGES.items()})
            continue
        for result in results:
            if summed:
                assert len(result.summed)


def _count_peaks(args) -> int:
    return len(_process(args).peaks)


def bench_spectra(samples, lists, workers: int = 2, repeats: int = 3) -> dict:
    files = [f for s in samples for f in s.files]
    megabytes = sum(f.stat().st_size for f in files) / 2**20

    # floor: parse every file with pyarrow.csv in one process (best of `repeats`, like ours)
    def parse_only():
        for f in files:
            pacsv.read_csv(
                f,
                read_options=pacsv.ReadOptions(skip_rows=3, autogenerate_column_names=True),
                parse_options=pacsv.ParseOptions(delimiter="\t"),
            )

    # measured in turn (best of `repeats` each), so that a slow spell of a shared machine
    # hits the floor and the stages alike:
    # the floor; one process: import + calibration + integration of every sample, as a batch
    # job runs them (the next sample's files read in a second thread); the same with each
    # sample's summed spectrum (the integration job's other output)
    floor = compute = with_summed = np.inf
    for _ in range(repeats):
        floor = min(floor, _best(parse_only, 1, 1))
        compute = min(compute, _best(lambda: _each_polarity(samples, lists), 1, 1))
        with_summed = min(
            with_summed, _best(lambda: _each_polarity(samples, lists, summed=True), 1, 1)
        )
    # the same, writing the jobs' Parquet/TSV outputs
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        _each_polarity(samples, lists, Path(tmp))
    with_writes = time.perf_counter() - start
    # the plain sequence, one sample after the other in one thread
    start = time.perf_counter()
    for sample in samples:
        _process((sample, lists[sample.polarity]))
    sequential = time.perf_counter() - start
    cpu_start = time.process_time()
    _each_polarity(samples, lists)
    cpu = time.process_time() - cpu_start
    # the same work on `workers` processes, samples shared out as `snakemake --cores 2` does
    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        spots = sum(pool.map(_count_peaks, [(s, lists[s.polarity]) for s in samples]))
    parallel = time.perf_counter() - start
    # a spectrum calibration cannot fit within its limit is left out (on_failure: exclude,
    # the default); 2 of the 2,000 simulated spectra here, both positive
    assert spots >= 0.99 * len(files), (spots, len(files))
    return {
        "spectra": len(files),
        "excluded_by_calibration": len(files) - spots,
        "polarities": sorted({s.polarity for s in samples}),
        "megabytes": round(megabytes, 1),
        "kb_per_spectrum": round(megabytes * 1024 / len(files), 1),
        "parse_floor_s": round(floor, 3),
        "floor_mb_s": round(megabytes / floor, 1),
        "import_calibrate_integrate_s": round(compute, 3),
        "throughput_mb_s": round(megabytes / compute, 1),
        "throughput_spectra_s": round(len(files) / compute, 1),
        "ratio_to_parse_floor": round(compute / floor, 2),
        "cpu_s": round(cpu, 3),
        "ratio_cpu_to_parse_floor": round(cpu / floor, 2),
        "with_summed_s": round(with_summed, 3),
        "ratio_with_summed": round(with_summed / floor, 2),
        "sequential_s": round(sequential, 3),
        "ratio_sequential": round(sequential / floor, 2),
        "with_writes_s": round(with_writes, 3),
        "ratio_with_writes": round(with_writes / floor, 2),
        "workers": workers,
        "parallel_s": round(parallel, 3),
        "parallel_spectra_s": round(len(files) / parallel, 1),
        "ratio_parallel_to_parse_floor": round(parallel / floor, 2),
    }


def bench_growth(small, samples, lists, repeats: int = 5) -> dict:
    """Wall time of a's one-process run on the smaller and on the full study, measured in turn
    (best of ``repeats`` each), so that a slow spell of a shared machine hits both alike."""
    times = {"small": np.inf, "large": np.inf}
    for _ in range(repeats):
        for name, chosen in (("small", small), ("large", samples)):
            start = time.perf_counter()
            _each_polarity(chosen, lists)
            times[name] = min(times[name], time.perf_counter() - start)
    n_small = sum(len(s.files) for s in small)
    n_large = sum(len(s.files) for s in samples)
    return {
        "spectra_small": n_small,
        "small_s": round(times["small"], 3),
        "spectra": n_large,
        "large_s": round(times["large"], 3),
        "linear": round(n_large / n_small, 2),
        "ratio": round(times["large"] / times["small"], 2),
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


def _best(fn, repeats: int, number: int, clock=time.perf_counter) -> float:
    """Seconds per call: the best of ``repeats`` timings of ``number`` calls (the usual way to
    time short code on a machine shared with other work); ``clock`` wall time by default."""
    best = np.inf
    for _ in range(repeats):
        start = clock()
        for _ in range(number):
            fn()
        best = min(best, (clock() - start) / number)
    return best


def bench_naive(samples, mass_list, n: int = 3) -> dict:
    lower = mass_list["lower"].to_numpy()
    upper = mass_list["upper"].to_numpy()
    intervals = Intervals.of(lower, upper)  # prepared once per mass list, as integrate_sample
    files = [f for s in samples if s.polarity == "negative" for f in s.files][:n]
    spectra = [read_spectrum(f) for f in files]
    naive = [naive_integration(s.mz.tolist(), s.intensity.tolist(), lower, upper) for s in spectra]
    fast = [intervals.sums(s.mz, s.intensity) for s in spectra]
    assert all(np.array_equal(a, b) for a, b in zip(naive, fast, strict=True))
    naive_s = _best(
        lambda: [
            naive_integration(s.mz.tolist(), s.intensity.tolist(), lower, upper) for s in spectra
        ],
        3,
        1,
    ) / len(spectra)
    fast_s = _best(lambda: [intervals.sums(s.mz, s.intensity) for s in spectra], 5, 300) / len(
        spectra
    )
    return {
        "points_per_spectrum": int(np.mean([s.mz.size for s in spectra])),
        "ions": len(lower),
        "naive_s_per_spectrum": round(naive_s, 5),
        "vectorized_s_per_spectrum": round(fast_s, 7),
        "speed_up": round(naive_s / fast_s),
    }


WORKFLOW_FILES = ("Snakefile", "workflow", "envs", "profiles")
TIMING = re.compile(
    r"timing: imports ([\d.]+) s, work ([\d.]+) s \(CPU ([\d.]+) s\), peak memory ([\d.]+) MB"
)


PEAKFIT_CALIBRATION = CalibrationSettings(
    reference_ions_for("negative", ["S-", "Cl-", "S2-", "PS3-"])
)


def peakfit_study(
    n_spectra: int = 262, folder: Path | None = None
) -> tuple[list, pd.DataFrame, float]:
    """The spectra of benchmark i: a simulated cathode-demo study of ``n_spectra`` spectra, in
    samples of ``SPOTS_PER_SAMPLE``, each calibrated: (spots, calibration, provenance) per
    sample, the study's mass list, and the seconds the calibration took. With ``folder``,
    each spectrum is also written there as an export (``folder/<sample>/<spot>.txt``)."""
    study = "cathode"
    inst, entries = instrument(study), design(study)["samples"]
    mass_list = demo_mass_list(study)
    settings = PEAKFIT_CALIBRATION
    samples, calibrate_s = [], 0.0
    for s in range(int(np.ceil(n_spectra / SPOTS_PER_SAMPLE))):
        entry = dict(entries[s % len(entries)], sample=f"S{s:03d}")
        spots = []
        for k in range(min(SPOTS_PER_SAMPLE, n_spectra - s * SPOTS_PER_SAMPLE)):
            rng = spot_rng(7, "bench-fit", entry["sample"], str(k))
            counts, _ = spot_ion_counts(study, entry, rng)
            sim = simulate_spectrum(inst, counts, rng)
            channel = sim.channel.astype(float)
            intensity = sim.intensity.astype(float)
            spots.append(Spot(study, entry["sample"], str(k), channel, sim.mz, intensity))
            path = None if folder is None else folder / entry["sample"] / f"{k}.txt"
            if path is not None and not path.exists():
                write_spectrum(path, Spectrum(sim.mz, sim.intensity, sim.channel, sim.header))
        t0 = time.process_time()
        calibration = calibration_table(spots, calibrate_spots(spots, settings), settings)
        calibrate_s += time.process_time() - t0
        corrected = inst.deadtime_correction
        provenance = {"spots": [{"spot": p.spot, "deadtime_corrected": corrected} for p in spots]}
        samples.append((spots, calibration, provenance))
    return samples, mass_list, calibrate_s


PEAKFIT_METHODS = ("interval", "auto", "fit")


def peakfit_summary(f: dict) -> str:
    """Benchmark i's cost ratios in a sentence (and the whole stage's, where measured)."""
    text = (
        f"{f['spectra']} spectra, {f['ions']} ions in {f['clusters']} overlap clusters, CPU "
        f"time: interval {f['interval_s']} s, auto {f['auto_s']} s, fit {f['fit_s']} s; "
        f"auto/interval {f['ratio_auto_to_interval']}x, fit/interval "
        f"{f['ratio_fit_to_interval']}x (fitting adds {f['added_by_auto']}x resp. "
        f"{f['added_by_fit']}x the interval integration's time; issue 25 asks for at most 2x); "
        f"integrated as a batch job does, {f['chunk_samples']} samples at a time (auto one "
        f"sample at a time: {f['auto_one_sample_at_a_time_s']} s)"
    )
    if "stage_interval_s" in f:
        text += (
            f". The whole stage raw -> peaks (import, calibration, integration): interval "
            f"{f['stage_interval_s']} s, auto {f['stage_auto_s']} s "
            f"({f['stage_auto_to_interval']}x), fit {f['stage_fit_s']} s "
            f"({f['stage_fit_to_interval']}x)"
        )
    return text


def bench_peakfit(
    n_spectra: int = 262, repeats: int = 3, folder: Path | None = None, stage_repeats: int = 2
) -> dict:
    """Integration of a cathode-demo study (its mass list, whose neighbours overlap in 6
    clusters) by interval sums, by ``method: auto`` (fit the clusters) and by ``method: fit``
    (every ion), as a batch job does (``CHUNK_SAMPLES`` samples at a time; auto also one
    sample at a time, as a per-sample job); spectra simulated and calibrated beforehand
    (not timed). The calibration's time is given for scale. With ``folder`` (where the
    exports are written), also the whole stage raw -> peaks with each method: import,
    calibration and integration of every sample (``process_samples``, as a batch job; best of
    ``stage_repeats``)."""
    samples, mass_list, calibrate_s = peakfit_study(n_spectra, folder)

    def integrate_all(method: str, chunk: int = CHUNK_SAMPLES) -> None:
        # as a batch job integrates: ``chunk`` samples at a time, their fits together
        settings = IntegrationSettings(method=method)
        for start in range(0, len(samples), chunk):
            prepared = [prepare_sample(spots, calibration, mass_list, provenance, settings)
                        for spots, calibration, provenance in samples[start : start + chunk]]  # fmt: skip
            finish_samples(prepared, mass_list, settings)

    # CPU time of this process, best of ``repeats``: the cost, whatever else the machine runs
    # (its wall time on a shared machine says more about the neighbours)
    seconds = {m: _best(lambda m=m: integrate_all(m), repeats, 1, time.process_time)
               for m in PEAKFIT_METHODS}  # fmt: skip
    # and one sample at a time (what a per-sample integrate job does)
    one_by_one = _best(lambda: integrate_all("auto", 1), repeats, 1, time.process_time)
    _, notes = integrate_sample(*samples[0][:2], mass_list, samples[0][2],
                                IntegrationSettings(method="auto"))  # fmt: skip
    stage = {}
    if folder is not None:
        jobs = [
            SampleJob(
                "cathode",
                spots[0].sample,
                [p.spot for p in spots],
                [str(folder / p.sample / f"{p.spot}.txt") for p in spots],
                PEAKFIT_CALIBRATION,
            )
            for spots, _, _ in samples
        ]

        def stage_all(method: str) -> None:
            for _ in process_samples(jobs, IntegrationSettings(method=method), mass_list):
                pass

        stage = {m: _best(lambda m=m: stage_all(m), stage_repeats, 1, time.process_time)
                 for m in PEAKFIT_METHODS}  # fmt: skip
    return {
        **{f"stage_{m}_s": round(s, 2) for m, s in stage.items()},
        **(
            {
                "stage_auto_to_interval": round(stage["auto"] / stage["interval"], 2),
                "stage_fit_to_interval": round(stage["fit"] / stage["interval"], 2),
            }
            if stage
            else {}
        ),
        "spectra": n_spectra,
        "ions": len(mass_list),
        "clusters": int(notes["cluster"].nunique()),
        "calibration_s": round(calibrate_s, 2),
        "interval_s": round(seconds["interval"], 3),
        "auto_s": round(seconds["auto"], 2),
        "fit_s": round(seconds["fit"], 2),
        "auto_one_sample_at_a_time_s": round(one_by_one, 2),
        "chunk_samples": CHUNK_SAMPLES,
        "ratio_auto_to_interval": round(seconds["auto"] / seconds["interval"], 1),
        "ratio_fit_to_interval": round(seconds["fit"] / seconds["interval"], 1),
        # issue 25's measure: what fitting adds, in units of the interval integration's time
        "added_by_auto": round(seconds["auto"] / seconds["interval"] - 1, 1),
        "added_by_fit": round(seconds["fit"] / seconds["interval"] - 1, 1),
        "ratio_auto_to_calibration_plus_interval": round(
            (calibrate_s + seconds["auto"]) / (calibrate_s + seconds["interval"]), 2
        ),
    }


def make_project(folder: Path, samples, batch_size: int) -> Path:
    """A project running the workflow on the generated spectra: one study per polarity,
    sheet batches of ``batch_size`` samples (0: no batches, per-sample jobs)."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name in WORKFLOW_FILES:
        src = HERE.parent / name
        if src.is_dir():
            shutil.copytree(src, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, folder / name)
    config = ["studies:\n"]
    for polarity, lists in mass_lists().items():
        study = f"bench_{polarity}"
        chosen = [s for s in samples if s.polarity == polarity]
        if not chosen:
            continue
        (folder / "config" / study).mkdir(parents=True)
        write_tsv(lists, folder / "config" / study / "mass_list.tsv", float_format="%.6f")
        rows = ["sample\tspot\tfile\tbatch\n"]
        for k, sample in enumerate(chosen):
            batch = f"b{k // batch_size:03d}" if batch_size else ""
            rows += [
                f"{sample.name}\t{f.stem}\t{sample.name}/{f.name}\t{batch}\n" for f in sample.files
            ]
        (folder / "config" / study / "samples.tsv").write_text("".join(rows))
        extra = "[CO3-]" if polarity == "negative" else "[]"
        config.append(
            f"""  {study}:
    sample_sheet: config/{study}/samples.tsv
    mass_list: config/{study}/mass_list.tsv
    data_dir: {chosen[0].files[0].parents[1]}
    polarity: {polarity}
    calibration: {{reference_ions: {extra}}}
    integration: {{deadtime_shots: 1500000}}
    scaling:
      methods:
        total_ion: [{{method: total_ion}}]
"""
        )
    (folder / "config" / "config.yaml").write_text("".join(config))
    return folder


def snakemake_start_s() -> float:
    """Seconds `snakemake --version` takes: the fixed start of every run (it loads Snakemake and
    its plugins; the SLURM executor plugin asks `scontrol` about the cluster, which waits about
    9 s where SLURM's client tools are installed and no controller answers)."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "snakemake", "--version"], capture_output=True, check=True
    )
    return time.perf_counter() - start


# `snakemake --version` takes about 1 s; far longer means the machine, not the workflow, is slow
# to start Snakemake (typically SLURM's client tools installed with no controller answering)
SLOW_START_S = 5.0


def start_warning(results: dict) -> str:
    """``slow_start_warning`` for the slowest Snakemake start of the d runs in ``results``."""
    starts = [w["snakemake_version_s"] for w in results.get("workflow", {}).values()]
    return slow_start_warning(max(starts, default=0.0))


def slow_start_warning(seconds: float) -> str:
    """A warning for results.md when Snakemake itself took ``seconds`` to start; else ''."""
    if seconds <= SLOW_START_S:
        return ""
    return (
        f"**Warning: `snakemake --version` took {seconds:.1f} s on this machine** (about 1 s "
        "normally). Every Snakemake start of d waited as long, so d's shares describe this "
        "machine rather than the workflow. The usual cause is SLURM's client tools installed "
        "without a controller answering (snakemake-executor-plugin-slurm asks `scontrol` at "
        "every start and waits up to 10 s): start the controller, or remove the client tools, "
        "and run `make bench` again.\n\n"
    )


# The floor of d: every rule script replaced by one that does no work. A job still starts
# Python with Snakemake's script preamble, imports what every real job imports (runlog's
# STARTUP_MODULES), creates its outputs and exits as a real job does (without the last garbage
# collection), and Snakemake still builds the same DAG, schedules the same jobs and records
# their metadata.
EMPTY_JOB = f"""from pathlib import Path

import {", ".join(STARTUP_MODULES)}  # noqa: F401, E401

from simsflow.runlog import skip_collection_at_exit

skip_collection_at_exit()

for name in [*snakemake.output, *snakemake.log]:
    path = Path(name)
    if path.suffix:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    else:  # a directory() output: figures/...
        path.mkdir(parents=True, exist_ok=True)
"""


def empty_jobs(folder: Path) -> None:
    """Turn a project made by ``make_project`` into the floor of d: the same rules, no work."""
    for script in (folder / "workflow" / "scripts").glob("*.py"):
        script.write_text(EMPTY_JOB)


def _snakemake(folder: Path, cores: int, name: str = "snakemake") -> tuple[float, float, str]:
    """Run `snakemake --cores N` in ``folder``: wall time, CPU time (Snakemake and every job)
    and its output (kept in ``folder/<name>.out``)."""
    out = folder / f"{name}.out"
    start = time.perf_counter()
    with open(out, "w") as handle:
        proc = subprocess.Popen(
            [sys.executable, "-m", "snakemake", "--cores", str(cores), "--directory", str(folder)],
            cwd=folder,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
        # wait4 gives this run's own CPU time (Snakemake and every job)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    text = out.read_text()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"snakemake failed in {folder}:\n{text[-4000:]}")
    return wall, usage.ru_utime + usage.ru_stime, text


def _job_count(text: str) -> int:
    stats = text.split("Job stats:")[1]
    return int(re.search(r"^total\s+(\d+)", stats, re.M).group(1)) - 1  # without `all`


def run_workflow(folder: Path, floor: Path, cores: int = 2) -> dict:
    """`snakemake --cores N` end to end: wall time, jobs, and the time the jobs spent working;
    then the same project again with nothing left to do (Snakemake's start and end alone),
    and ``floor`` (the same project made with ``empty_jobs``)."""
    start_up = snakemake_start_s()
    wall, cpu, text = _snakemake(folder, cores)
    jobs = _job_count(text)
    imports = work = work_cpu = largest = 0.0
    timed = 0
    largest_job = ""
    for log in sorted((folder / "logs").rglob("*.log")):
        match = TIMING.search(log.read_text(errors="replace"))
        if match:
            imports += float(match.group(1))
            work += float(match.group(2))
            work_cpu += float(match.group(3))
            timed += 1
            if float(match.group(4)) > largest:
                largest, largest_job = float(match.group(4)), str(log.relative_to(folder))
    nothing_wall, _, nothing_text = _snakemake(folder, cores, "nothing_to_do")
    if "Nothing to be done" not in nothing_text:
        raise RuntimeError(f"a second run of {folder} found work to do:\n{nothing_text[-4000:]}")
    floor_wall, floor_cpu, floor_text = _snakemake(floor, cores)
    if _job_count(floor_text) != jobs:
        raise RuntimeError(f"the floor ran {_job_count(floor_text)} jobs, the workflow {jobs}")
    outside = cores * wall - work_cpu
    return {
        "cores": cores,
        "snakemake_version_s": round(start_up, 1),
        "wall_s": round(wall, 1),
        "jobs": jobs,
        "timed_jobs": timed,
        "job_imports_s": round(imports, 1),
        "job_work_s": round(work, 1),
        "job_work_cpu_s": round(work_cpu, 1),
        "cpu_s": round(cpu, 1),
        # the cores' time (cores x wall) not spent in library work: scheduling, interpreter
        # start-up, imports, Snakemake's own work and idle cores
        "outside_library_share": round(1 - work_cpu / (cores * wall), 3),
        # the run's CPU time (Snakemake and every job) not spent in library work
        "outside_library_cpu_share": round(1 - work_cpu / cpu, 3),
        "largest_job_peak_mb": round(largest),
        "largest_job_log": largest_job,
        # Snakemake's start and end when every output is up to date
        "nothing_to_do_wall_s": round(nothing_wall, 1),
        # the same DAG with empty jobs: what Snakemake and the jobs' start cost without work
        "floor_wall_s": round(floor_wall, 1),
        "floor_cpu_s": round(floor_cpu, 1),
        "outside_library_core_s": round(outside, 1),
        "outside_to_floor_ratio": round(outside / (cores * floor_wall), 2),
        # what one more job costs the cores beyond Snakemake's start and end, without work
        "floor_core_s_per_job": round(cores * (floor_wall - nothing_wall) / jobs, 2),
        # the share this DAG would have if its overhead were exactly the floor's
        "floor_share": round(cores * floor_wall / (cores * floor_wall + work_cpu), 3),
        # the share of a run whose only overhead is Snakemake's start and end
        "fixed_share": round(cores * nothing_wall / (cores * nothing_wall + work_cpu), 3),
    }


def bench_workflow(work: Path, samples, batches: list[int], per_sample: bool = False) -> dict:
    """d: one ``run_workflow`` per batch size (and without batches with ``per_sample``), each
    on a fresh project and its floor under ``work``."""
    runs = {f"batches_of_{n}": n for n in batches}
    if per_sample:
        runs["per_sample"] = 0
    results = {}
    for name, batch in runs.items():
        project = make_project(work / f"project_{name}", samples, batch)
        floor = make_project(work / f"project_{name}_floor", samples, batch)
        empty_jobs(floor)
        results[name] = {"batch_samples": batch, **run_workflow(project, floor)}
    return results


def overhead_summary(workflow: dict) -> str:
    """One line per run of d: its wall time, jobs and the shares outside the library."""
    return "\n".join(
        f"{name}: {w['wall_s']} s wall, {w['jobs']} jobs, {w['cpu_s']} s CPU; outside the "
        f"library {100 * w['outside_library_share']:.0f} % of cores x wall (the floor's DAG "
        f"{100 * w['floor_share']:.0f} %, Snakemake's start and end alone "
        f"{100 * w['fixed_share']:.0f} %); `snakemake --version` {w['snakemake_version_s']} s"
        for name, w in workflow.items()
    )


def bench_images(regions: int, size: int, n_ions: int) -> dict:
    sys.path.insert(0, str(HERE))
    from bench_imaging import main as one_region

    results = [one_region(size, n_ions, seed) for seed in range(regions)]
    pixelwise = sum(r["pixelwise_seconds"] for r in results)
    floor = sum(r["numpy_sum_seconds"] for r in results)
    return {
        "regions": regions,
        "pixels": size * size,
        "ions": n_ions,
        "stack_mb": results[0]["stack_mb"],
        "pixelwise_s_total": round(pixelwise, 4),
        "numpy_floor_s_total": round(floor, 4),
        "ratio_to_numpy_floor": round(pixelwise / floor, 2),
        "extra_copies_of_the_stack": max(r["extra_copies"] for r in results),
    }


# f's variants: channels per bin of the exports (real binned exports: 200 channels)
REAL_BINNING = {"binned": 200, "unbinned": 1}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spectra", type=int, default=2000)
    parser.add_argument("--small", type=int, default=500, help="smaller study for the growth")
    parser.add_argument("--regions", type=int, default=14)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--ions", type=int, default=300)
    parser.add_argument(
        "--batch",
        type=int,
        nargs="+",
        default=[100, 20],
        help="samples per batch job in d: one run each (100: one batch per study)",
    )
    parser.add_argument(
        "--per-sample-run",
        action="store_true",
        help="also run d without batches (one job per sample and stage; slow)",
    )
    parser.add_argument(
        "--memory-mb",
        type=float,
        nargs="*",
        default=[20, 100, 200],
        help="g: sizes of the single exports whose import's peak memory is measured",
    )
    parser.add_argument(
        "--ibd-mb", type=float, default=1024, help="g: size of the imzML's .ibd (0: none)"
    )
    parser.add_argument(
        "--real",
        nargs="*",
        choices=sorted(REAL_BINNING),
        default=sorted(REAL_BINNING),
        help="f: the real-shaped study's variants (none: skip f)",
    )
    parser.add_argument("--real-samples", type=int, default=9, help="f: samples per polarity")
    parser.add_argument("--real-spots", type=int, default=5, help="f: spots per sample")
    parser.add_argument(
        "--batch-study",
        type=int,
        default=200,
        help="f: spectra of the study run with and without batches",
    )
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument(
        "--work", type=Path, default=HERE / "work", help="generated spectra and projects"
    )
    parser.add_argument(
        "--only-peakfit",
        action="store_true",
        help="run only the peak-fitting piece (f) and print its figures; writes no results",
    )
    parser.add_argument(
        "--boxplot-ions",
        type=int,
        default=200,
        help="h: ions of the box-plot study (0: skip h)",
    )
    parser.add_argument(
        "--only-boxplots",
        action="store_true",
        help="run only the box-plot piece (h) and print its figures; writes no results",
    )
    parser.add_argument(
        "--only-overhead",
        action="store_true",
        help="run only the workflow end to end (d: each --batch, its floor and a run with "
        "nothing to do) on --spectra generated spectra and print its figures; writes no results",
    )
    args = parser.parse_args(argv)
    if args.only_overhead:
        work = args.work.resolve()
        samples = generate_spectra(work / "spectra", args.spectra)
        os.sync()  # the exports on disk before anything is timed (see below)
        workflow = bench_workflow(work, samples, args.batch, args.per_sample_run)
        print(json.dumps(workflow))
        print(overhead_summary(workflow))
        warning = start_warning({"workflow": workflow})
        if warning:
            print(warning.replace("**", "").strip(), file=sys.stderr)
        return {"workflow": workflow}
    if args.only_boxplots:
        boxes = bench_boxplots(n_ions=args.boxplot_ions)
        print(json.dumps(boxes))
        print("\n".join(boxplot_rows(boxes)))
        return {"boxplots": boxes}
    if args.only_peakfit:
        fit = bench_peakfit(folder=args.work.resolve() / "peakfit")
        print(json.dumps(fit))
        print(peakfit_summary(fit))
        return {"peakfit": fit}
    work = args.work.resolve()
    lists = mass_lists()
    t0 = time.perf_counter()
    samples = generate_spectra(work / "spectra", args.spectra)
    generated = time.perf_counter() - t0
    # freshly written exports are flushed to disk now, not while a is being timed (a first run
    # on a fresh clone measured a 1.67 instead of 1.39 with the kernel writing 300 MB back)
    os.sync()
    # the smaller study: the same share of each polarity
    n_small = int(np.ceil(args.small / SPOTS_PER_SAMPLE))
    share = {"negative": (n_small + 1) // 2, "positive": n_small // 2}
    small = [
        s
        for polarity in POLARITIES
        for s in [s for s in samples if s.polarity == polarity][: share[polarity]]
    ]
    results = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "pyarrow": pa.__version__,
        "generation_s": round(generated, 1),
        "spectra": bench_spectra(samples, lists),
        "growth": bench_growth(small, samples, lists),
        "naive": bench_naive(samples, lists["negative"]),
        "images": bench_images(args.regions, args.size, args.ions),
        # the stage once per method: about 15 s of the whole run
        "peakfit": bench_peakfit(min(args.spectra, 262), folder=work / "peakfit", stage_repeats=1),
        "peak_rss_mb": round(peak_memory_mb(), 1),
    }
    if args.memory_mb or args.ibd_mb:
        results["memory"] = bench_memory(work / "memory", args.memory_mb, args.ibd_mb)
    results["workflow"] = bench_workflow(work, samples, args.batch, args.per_sample_run)
    # e end to end: the smaller study through the same command, with the largest batches
    largest = max(args.batch)
    small_project = make_project(work / "project_small", small, largest)
    small_wall, _, _ = _snakemake(small_project, 2)
    results["growth"]["workflow"] = {
        "batch_samples": largest,
        "small_wall_s": round(small_wall, 1),
        "wall_s": results["workflow"][f"batches_of_{largest}"]["wall_s"],
    }
    if args.boxplot_ions:
        results["boxplots"] = bench_boxplots(n_ions=args.boxplot_ions)
    if args.real:
        results["real"] = bench_real(
            work / "real",
            {v: REAL_BINNING[v] for v in args.real},
            args.real_samples,
            args.real_spots,
            args.batch_study,
        )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    (args.out / "results.md").write_text(markdown(results))
    print(json.dumps(results))
    warning = start_warning(results)
    if warning:
        print(warning.replace("**", "").strip(), file=sys.stderr)
    return results


def markdown_rows_peakfit(f: dict) -> list[str]:
    """Benchmark i's rows of the results table (the stage's where it was timed)."""
    rows = [
        f"| i. integration with overlapping peaks fitted (`integration: method: auto`), "
        f"{f['spectra']} spectra of the cathode demo ({f['ions']} ions, {f['clusters']} "
        f"clusters), {f['chunk_samples']} samples at a time as a batch job, CPU time "
        f"| {f['auto_s']} s (`fit`, every ion: {f['fit_s']} s; `auto` one sample at a time: "
        f"{f['auto_one_sample_at_a_time_s']} s) "
        f"| interval sums: {f['interval_s']} s; with the calibration before them: "
        f"{f['calibration_s']} s + | auto/interval {f['ratio_auto_to_interval']}, "
        f"fit/interval {f['ratio_fit_to_interval']} (fitting adds {f['added_by_auto']}x "
        f"resp. {f['added_by_fit']}x the interval time; goal: at most 2x); (calibration + "
        f"auto) / (calibration + interval) {f['ratio_auto_to_calibration_plus_interval']} |"
    ]
    if "stage_interval_s" in f:
        rows.append(
            f"| i. the stage raw -> peaks of the same study (import, calibration, "
            f"integration; `process_samples` as a batch job), CPU time, auto (fit) | "
            f"{f['stage_auto_s']} s ({f['stage_fit_s']} s) | with interval sums: "
            f"{f['stage_interval_s']} s | {f['stage_auto_to_interval']} "
            f"({f['stage_fit_to_interval']}) |"
        )
    return rows


def markdown(r: dict) -> str:
    s, g, n, im = r["spectra"], r["growth"], r["naive"], r["images"]
    rows = [
        f"| a. import + calibration + integration, one process, {s['spectra']} spectra "
        f"({' and '.join(s['polarities'])}; {s['megabytes']} MB, {s['kb_per_spectrum']} kB each) | {s['import_calibrate_integrate_s']} s "
        f"({s['throughput_mb_s']} MB/s, {s['throughput_spectra_s']} spectra/s) | pyarrow.csv parse "
        f"only, one process: {s['parse_floor_s']} s ({s['floor_mb_s']} MB/s) | "
        f"{s['ratio_to_parse_floor']} |",
        f"| a. the same, CPU time of the process (both threads) | {s['cpu_s']} s | the same "
        f"floor | {s['ratio_cpu_to_parse_floor']} |",
        f"| a. the same, one thread, without reading ahead | {s['sequential_s']} s | the same "
        f"floor | {s['ratio_sequential']} |",
        f"| a. one process, with each sample's summed spectrum (the integration job's other "
        f"output) | {s['with_summed_s']} s | the same floor | {s['ratio_with_summed']} |",
        f"| a. the same on {s['workers']} worker processes (as `--cores {s['workers']}` runs jobs) "
        f"| {s['parallel_s']} s ({s['parallel_spectra_s']} spectra/s) | the same floor | "
        f"{s['ratio_parallel_to_parse_floor']} |",
        f"| a. one process, writing the batch jobs' Parquet/TSV outputs too (`write_batch`) | "
        f"{s['with_writes_s']} s | the same floor | {s['ratio_with_writes']} |",
        f"| b. pixel-wise scaling, {im['regions']} regions of {im['pixels']} px x {im['ions']} ions "
        f"({im['stack_mb']} MB each; extra copies of a stack: {im['extra_copies_of_the_stack']}) | "
        f"{im['pixelwise_s_total']} s | numpy sum over the same stacks: "
        f"{im['numpy_floor_s_total']} s | {im['ratio_to_numpy_floor']} |",
        f"| c. integration of one spectrum ({n['points_per_spectrum']} points, {n['ions']} ions), "
        f"vectorized vs a Python loop over points and ions | {n['vectorized_s_per_spectrum']} s | "
        f"naive loop: {n['naive_s_per_spectrum']} s | speed-up {n['speed_up']}x |",
    ]
    for w in r.get("workflow", {}).values():
        per_study = int(np.ceil(s["spectra"] / SPOTS_PER_SAMPLE / len(s["polarities"])))
        if not w["batch_samples"]:
            how = "per-sample jobs"
        elif w["batch_samples"] >= per_study:
            how = f"one batch per study ({per_study} sample{'s' * (per_study != 1)})"
        else:
            how = f"batches of {w['batch_samples']} samples"
        rows.append(
            f"| d. `snakemake --cores {w['cores']}` end to end, {s['spectra']} spectra in two "
            f"studies (one per polarity), {how} | "
            f"{w['wall_s']} s wall, {w['jobs']} jobs, {w['cpu_s']} s CPU | work inside the "
            f"jobs: {w['job_work_s']} s wall, {w['job_work_cpu_s']} s CPU (+ "
            f"{w['job_imports_s']} s numpy/pandas/pyarrow imports) | outside the library: "
            f"{100 * w['outside_library_share']:.0f} % of cores x wall, "
            f"{100 * w['outside_library_cpu_share']:.0f} % of CPU time (the jobs' work counted in "
            f"wall time instead: "
            f"{100 * (1 - w['job_work_s'] / (w['cores'] * w['wall_s'])):.0f} %) |"
        )
        rows += [
            f"| d. of which the start of Snakemake itself (`snakemake --version`) | "
            f"{w['snakemake_version_s']} s | | |",
            f"| d. Snakemake's start and end with nothing to do (the same command again) | "
            f"{w['nothing_to_do_wall_s']} s | | |",
            f"| d. floor: the same DAG, every job empty (Python with Snakemake's script preamble, "
            f"the numpy/pandas/pyarrow imports, outputs created, exit as a job exits) | "
            f"{w['floor_wall_s']} s wall, "
            f"{w['floor_cpu_s']} s CPU ({w['floor_core_s_per_job']} core-s per job beyond "
            f"Snakemake's start and end) | time outside the library "
            f"({w['outside_library_core_s']} core-s) / the floor's cores x wall | "
            f"{w['outside_to_floor_ratio']} |",
            f"| d. share outside the library if it were exactly the floor; if it were only "
            f"Snakemake's start and end (the fewest jobs there can be) | "
            f"{100 * w['floor_share']:.0f} %; {100 * w['fixed_share']:.0f} % | | |",
        ]
    rows.append(
        f"| e. growth: {g['spectra_small']} -> {g['spectra']} spectra (a's one-process run, "
        f"measured in turn, best of 5 each) | {g['small_s']} s -> {g['large_s']} s | "
        f"linear: {g['linear']}x | {g['ratio']} |"
    )
    e2e = g.get("workflow")
    if e2e:
        rows.append(
            f"| e. growth end to end: {g['spectra_small']} -> {g['spectra']} spectra "
            f"(`snakemake --cores 2`, batches of {e2e['batch_samples']} samples) | "
            f"{e2e['small_wall_s']} s -> {e2e['wall_s']} s | linear: {g['linear']}x | "
            f"{e2e['wall_s'] / e2e['small_wall_s']:.2f} |"
        )
    if r.get("peakfit"):
        rows += markdown_rows_peakfit(r["peakfit"])
    rows.append(f"| e. peak RSS of the benchmark process (a-c) | {r['peak_rss_mb']} MB | | |")
    for name, w in r.get("workflow", {}).items():
        rows.append(
            f"| e. peak memory of the largest job of the {name.replace('_', ' ')} run "
            f"({w['largest_job_log']}) | "
            f"{w['largest_job_peak_mb']} MB | | |"
        )
    if r.get("memory"):
        rows += memory_rows(r["memory"])
    if r.get("real"):
        rows += real_rows(r["real"])
    if r.get("boxplots"):
        rows += boxplot_rows(r["boxplots"])
    table = "\n".join(rows)
    warning = start_warning(r)
    return f"""# simsflow benchmark results

Date {r["date"]}; {r["machine"]}; Python {r["python"]}, numpy {r["numpy"]}, pandas {r["pandas"]},
pyarrow {r["pyarrow"]}. Generated by `make bench` (benchmarks/run.py); data generation took
{r["generation_s"]} s. Timings on a shared virtual machine vary by about 20 % from run to run.

{warning}| measure | value | floor / reference | ratio |
|---|---|---|---|
{table}

How a is measured: every file is read from the page cache, freshly generated ones written back
to disk first (the floor and the stages are timed in turn, best of three runs each); "one process" reads the next sample's files in a
second thread while this one is calibrated and integrated, as a batch job does; its CPU time
(both threads) is what one core would need.

How d is split: every rule script logs its own time (`timing: imports ..., work ... (CPU ...)`,
see `simsflow.runlog`); the work's CPU time includes worker processes a job waits for (the box
plots with `--set-threads scale=N`).
"Outside the library" is 1 - (sum of the jobs' work CPU time) / (cores x wall time): it holds
Snakemake's start and scheduling, interpreter start-up and the numpy/pandas/pyarrow imports of
every job, and idle cores; the CPU-time share leaves the idle cores out (1 - work CPU / CPU
time of the whole run, Snakemake included). Imports of matplotlib and scikit-learn inside
figure jobs count as work. A job skips the interpreter's last garbage collection
(`simsflow.runlog`); Snakemake's own process is left as Snakemake runs it (since issue 22: its
exit waits for the scheduler's last one-second rate-limiter timer, about a second per run).

The floor of d runs the same project with every rule script replaced by an empty one
(`EMPTY_JOB` in benchmarks/run.py): same DAG, same jobs, same inputs and outputs, so it costs
what Snakemake (start, scheduling, metadata) and the start of each job cost without any work.
A ratio near 1 says the time outside the library is that cost, not idle cores or slow scripts;
"if it were exactly the floor" is the share this job layout cannot go below, whatever the
library does, and "only Snakemake's start and end" the share of a run with a single job.
"""


if __name__ == "__main__":
    main()
