"""Benchmark f: a study shaped like a real one, set up as README "Your own data" says.

A real measurement campaign: SurfaceLab exports of 9 samples, each measured with 3 primary ions
at 5 spots in both polarities (270 files named ``P_<sample>_<primary ion>_<spot>.txt``), binned
to 200 channels or unbinned. The sheet comes from ``bin/simsflow sheet`` with its defaults (one
study per polarity, the sample being material and primary ion, ``--label material --set
role=train``), the mass list is the simulator's, the config names sheet, mass list and data
folder and asks for a classification. Timed: ``snakemake --cores 2`` raw files -> peaks.parquet,
then from there to the classification (model, cross-validation, PCA). Also a study of about 200
spectra whose sheet has no ``batch`` column, run with the default automatic batches and with
``batch_spectra: 0`` (one job per sample and stage): the per-spectrum cost with and without
batches.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "workflow" / "scripts"))

from simsflow.io.spectra import Spectrum, write_spectrum  # noqa: E402
from simsflow.io.tables import write_tsv  # noqa: E402
from simsflow.simulate.instrument import Instrument, simulate_spectrum  # noqa: E402
from simsflow.simulate.study import design, instrument, spot_ion_counts, spot_rng  # noqa: E402
from simsflow.simulate.study import mass_list as demo_mass_list  # noqa: E402

WORKFLOW_FILES = ("Snakefile", "workflow", "envs", "profiles")
TIMING = re.compile(r"timing: imports ([\d.]+) s, work ([\d.]+) s \(CPU ([\d.]+) s\)")
# the classification's results short of its figures: the figures job stops on a study without
# predict rows (KeyError 'flag' in the prediction heat map, issue 23 item 6)
MODEL = ("results/{study}/model/model.json", "results/{study}/pca/scores.parquet")
PRIMARY_IONS = ("Bi1", "Bi3", "Bi5")
POLARITY_LETTER = {"negative": "N", "positive": "P"}
PATTERN = r"(?P<polarity>[PN])_(?P<sample>(?P<material>[A-Za-z0-9]+)_[A-Za-z0-9]+)_(?P<spot>\d+)"


def materials(n: int) -> list[tuple[str, dict]]:
    """``n`` materials of the simulated lithium study (cycled through), named without '_'."""
    entries = design("lithium")["samples"]
    return [
        (f"{re.sub(r'[^A-Za-z0-9]', '', e['sample'])}{k // len(entries) or ''}", e)
        for k, e in ((k, entries[k % len(entries)]) for k in range(n))
    ]


def generate_exports(
    folder: Path, binning: int, n_materials: int = 9, spots: int = 5, seed: int = 11
) -> int:
    """Write the campaign's exports into ``folder`` (kept when already there); their count."""
    inst = Instrument(**{**instrument("lithium").__dict__, "binning": binning})
    n = 0
    for polarity, letter in POLARITY_LETTER.items():
        for name, entry in materials(n_materials):
            for primary in PRIMARY_IONS:
                for spot in range(1, spots + 1):
                    path = folder / f"{letter}_{name}_{primary}_{spot}.txt"
                    n += 1
                    if path.exists():
                        continue
                    rng = spot_rng(seed, f"real-{polarity}-{primary}", name, str(spot))
                    counts, _ = spot_ion_counts("lithium", entry, rng, polarity=polarity)
                    sim = simulate_spectrum(inst, counts, rng)
                    # unbinned channels below 0.5 u lie closer than the export's printed m/z
                    # digits tell apart (SurfaceLab's unbinned exports start above them too)
                    keep = sim.mz >= (0.5 if binning == 1 else 0.0)
                    write_spectrum(
                        path,
                        Spectrum(sim.mz[keep], sim.intensity[keep], sim.channel[keep], sim.header),
                    )
    return n


def copy_workflow(folder: Path) -> Path:
    """A fresh project in ``folder``: the workflow's files, no config yet."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name in WORKFLOW_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, folder / name)
    return folder


def make_real_project(
    folder: Path,
    exports: Path,
    sheet_args: tuple[str, ...] = (),
    study_keys: str = "",
    classification: bool = True,
) -> Path:
    """A project with one study per polarity on ``exports``, set up as README "Your own data"
    says: the sheet command (defaults plus ``sheet_args``), a mass list, three config keys
    (plus ``study_keys`` and, with ``classification``, a classification)."""
    copy_workflow(folder)
    config = ["studies:\n"]
    for polarity in POLARITY_LETTER:
        study = f"real_{polarity}"
        (folder / "config" / study).mkdir(parents=True)
        subprocess.run(
            [
                str(ROOT / "bin" / "simsflow"),
                "sheet",
                str(exports),
                "--out",
                str(folder / "config" / study / "samples.tsv"),
                "--pattern",
                PATTERN,
                "--polarity",
                polarity,
                "--label",
                "material",
                "--set",
                "role=train",
                *sheet_args,
            ],
            check=True,
            capture_output=True,
        )
        write_tsv(
            demo_mass_list("lithium", polarity=polarity),
            folder / "config" / study / "mass_list.tsv",
            float_format="%.6f",
        )
        config.append(
            f"  {study}:\n    sample_sheet: config/{study}/samples.tsv\n"
            f"    mass_list: config/{study}/mass_list.tsv\n    data_dir: {exports}\n"
            f"    polarity: {polarity}\n{study_keys}"
            + ("    classification: {folds: 3}\n" if classification else "")
        )
    (folder / "config" / "config.yaml").write_text("".join(config))
    return folder


def timed_snakemake(folder: Path, *targets: str, cores: int = 2) -> dict:
    """``snakemake --cores N [targets]``: wall time, jobs run, and the time the jobs' own
    `timing:` lines (simsflow.runlog) give for imports and library work."""
    logs_before = {p: p.stat().st_mtime for p in (folder / "logs").rglob("*.log")}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", str(cores), *targets],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    (folder / f"snakemake_{len(list(folder.glob('snakemake_*.out')))}.out").write_text(
        proc.stdout + proc.stderr
    )
    if proc.returncode != 0:
        raise RuntimeError(f"snakemake failed in {folder}:\n{(proc.stdout + proc.stderr)[-4000:]}")
    stats = (proc.stdout + proc.stderr).split("Job stats:")[1]
    jobs = int(re.search(r"^total\s+(\d+)", stats, re.M).group(1))
    jobs -= bool(re.search(r"^all\s+1$", stats, re.M))  # the target rule does no work
    imports = work_cpu = 0.0
    for log in (folder / "logs").rglob("*.log"):
        if logs_before.get(log) == log.stat().st_mtime:
            continue  # a log of an earlier run
        match = TIMING.search(log.read_text(errors="replace"))
        if match:
            imports += float(match.group(1))
            work_cpu += float(match.group(3))
    return {
        "wall_s": round(wall, 1),
        "jobs": jobs,
        "job_imports_s": round(imports, 1),
        "job_work_cpu_s": round(work_cpu, 1),
        # cores x wall not spent in library work: Snakemake, interpreter starts, imports, idle
        "outside_library_share": round(1 - work_cpu / (cores * wall), 3),
    }


def _per_spectrum(run: dict, spectra: int) -> dict:
    return {**run, "ms_per_spectrum": round(1000 * run["wall_s"] / spectra, 1)}


def bench_real(
    work: Path,
    binnings: dict[str, int],
    n_materials: int = 9,
    spots: int = 5,
    batch_study_spectra: int = 200,
) -> dict:
    """Benchmark f for each variant in ``binnings`` (name -> channels per bin; 1: unbinned),
    then the study of about ``batch_study_spectra`` spectra (binned as the first variant) with
    and without batches."""
    results = {}
    targets = [f"results/real_{p}/peaks.parquet" for p in POLARITY_LETTER]
    for variant, binning in binnings.items():
        exports = work / f"exports_{variant}"
        exports.mkdir(parents=True, exist_ok=True)
        n = generate_exports(exports, binning, n_materials, spots)
        megabytes = sum(p.stat().st_size for p in exports.glob("*.txt")) / 1e6
        project = make_real_project(work / f"project_{variant}", exports)
        peaks = _per_spectrum(timed_snakemake(project, *targets), n)
        rest = timed_snakemake(
            project, *(t.format(study=f"real_{p}") for p in POLARITY_LETTER for t in MODEL)
        )
        results[variant] = {
            "binning": binning,
            "spectra": n,
            "megabytes": round(megabytes, 1),
            "to_peaks": peaks,
            "peaks_to_classification": rest,
            "to_classification_wall_s": round(peaks["wall_s"] + rest["wall_s"], 1),
        }
    # about batch_study_spectra spectra: materials x 3 primary ions x spots x 2 polarities
    first = next(iter(binnings.values()))
    per_material = len(PRIMARY_IONS) * spots * len(POLARITY_LETTER)
    k = max(1, int(np.ceil(batch_study_spectra / per_material)))
    exports = work / "exports_batches"
    exports.mkdir(parents=True, exist_ok=True)
    n = generate_exports(exports, first, k, spots)
    runs = {"automatic_batches": "", "per_sample": "    batch_spectra: 0\n"}
    results["batches"] = {"spectra": n, "binning": first}
    for name, keys in runs.items():
        # a sheet without a batch column, as a user writing it by hand has it
        project = make_real_project(
            work / f"project_{name}", exports, ("--batch-size", "0"), keys, classification=False
        )
        results["batches"][name] = _per_spectrum(timed_snakemake(project, *targets), n)
    return results


def markdown_rows(r: dict) -> list[str]:
    """Rows of benchmark f for results.md."""
    rows = []
    for variant, v in r.items():
        if variant == "batches":
            continue
        p, rest = v["to_peaks"], v["peaks_to_classification"]
        binned = "unbinned" if v["binning"] == 1 else f"binned {v['binning']} channels"
        rows += [
            f'| f. real-shaped study set up as README "Your own data" says (sheet command '
            f"defaults), {v['spectra']} exports {binned} ({v['megabytes']} MB), two studies: "
            f"`snakemake --cores 2` raw -> peaks.parquet | {p['wall_s']} s wall, {p['jobs']} "
            f"jobs, {p['ms_per_spectrum']} ms per spectrum | goal < 30 s (binned) | outside the "
            f"library: {100 * p['outside_library_share']:.0f} % of cores x wall (job imports "
            f"{p['job_imports_s']} s, library work {p['job_work_cpu_s']} s CPU) |",
            f"| f. the same, on from peaks.parquet to the classification (model, 3-fold CV, "
            f"PCA; not its figures) | {rest['wall_s']} s wall, {rest['jobs']} jobs (raw -> "
            f"classification {v['to_classification_wall_s']} s) | | outside the library: "
            f"{100 * rest['outside_library_share']:.0f} % |",
        ]
    b = r.get("batches")
    if b:
        for name, how in (
            ("automatic_batches", "automatic batches (the default, `batch_spectra: 50`)"),
            ("per_sample", "`batch_spectra: 0`: one job per sample and stage"),
        ):
            w = b[name]
            rows.append(
                f"| f. {b['spectra']} spectra, sheet without `batch`, {how}: raw -> peaks.parquet "
                f"| {w['wall_s']} s wall, {w['jobs']} jobs, {w['ms_per_spectrum']} ms per "
                f"spectrum | | outside the library: {100 * w['outside_library_share']:.0f} % |"
            )
    return rows
