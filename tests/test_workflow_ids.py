"""Ids are data, not file names (issue 23, item 1): a study of 30 simulated exports whose file
names carry '+', spaces, '()' and 'µ' gets its sheet from the sheet command with its defaults
(no file renamed), runs with the default config, and its tables hold the ids as written while
every file it writes is named by a slug and stays under results/, logs/, .snakemake/ and
benchmarks/. Three spectra are stored 1e4-6e4 ppm off and are recovered."""

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simsflow.io.spectra import Spectrum, write_spectrum
from simsflow.io.tables import write_tsv
from simsflow.names import read_index, slug_map
from simsflow.simulate.study import mass_list, simulate_entry, truth_tables

from .conftest import ROOT, copy_workflow, snakemake

pytestmark = pytest.mark.workflow
CHANNEL_NS = 0.05  # the simulator's TDC channel
PATTERN = r"(?P<polarity>[PN])_(?P<sample>.+)_(?P<spot>[^_]+)"

# 30 spectra; two ids differ only in case (their slugs too, so one gets a hash); the 3 spectra
# of 'far +(µ)' are stored 1e4-6e4 ppm off
SAMPLES = [
    {"sample": "Li2CO3 Bi3++", "spots": 9, "powders": {"Li2CO3": 1.0}},
    {"sample": "LiOH (ref)", "spots": 5, "powders": {"LiOH": 1.0}},
    {"sample": "LiOH (REF)", "spots": 4, "powders": {"LiOH": 1.0}},
    {"sample": "Li2O 10µm", "spots": 9, "powders": {"Li2O": 1.0}},
    {
        "sample": "far +(µ)",
        "spots": 3,
        "powders": {"Li2CO3": 1.0},
        "calibration_error_ppm": [1e4, 6e4],
    },
]


def _spot_id(spot: str) -> str:
    return f"Spot {int(spot)}"


def _write_exports(workdir: Path, folder: str) -> pd.DataFrame:
    """The raw exports under data/<folder>, named as SurfaceLab users name them; the truth."""
    truths = []
    for entry in SAMPLES:
        simulated = simulate_entry("lithium", entry, seed=3)
        for spot, spectrum, _, _ in simulated:
            write_spectrum(
                workdir / "data" / folder / f"N_{entry['sample']}_{_spot_id(spot)}.txt",
                Spectrum(spectrum.mz, spectrum.intensity, spectrum.channel, spectrum.header),
            )
        spots, ions = truth_tables("lithium", entry["sample"], simulated)
        truths.append(ions.merge(spots, on=["study", "sample", "spot"]))
    truth = pd.concat(truths, ignore_index=True).drop(columns="study")
    return truth.assign(spot=truth["spot"].map(_spot_id))


def _sheet_command(workdir: Path, study: str, pattern: str, *extra: str) -> pd.DataFrame:
    out = workdir / "config" / study / "samples.tsv"
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [str(ROOT / "bin" / "simsflow"), "sheet", str(workdir / "data" / "ids")]
    subprocess.run(
        [*command, "--pattern", pattern, "--out", str(out), *extra],
        capture_output=True,
        text=True,
        check=True,
    )
    return pd.read_csv(out, sep="\t", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def ids_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("ids")
    workdir = copy_workflow(root / "wf")
    truth = _write_exports(workdir, "ids")
    sheet = _sheet_command(workdir, "ids", PATTERN)  # the defaults: a batch column
    # the same exports with one job per sample and stage (no batch column, batch_spectra 0):
    # the per-sample rules' wildcards are the slugs. The polarity letter is kept in the ids (a
    # sample file name is batched in every study or none)
    per_sample = _sheet_command(
        workdir, "ids1", r"(?P<sample>N_.+)_(?P<spot>[^_]+)", "--batch-size", "0"
    )
    write_tsv(mass_list("lithium"), workdir / "config" / "mass_list.tsv", float_format="%.6f")
    with open(workdir / "config" / "config.yaml", "a", encoding="utf-8") as config:
        for study, extra in (("ids", ""), ("ids1", "    batch_spectra: 0\n")):
            config.write(
                f"  {study}:\n"
                f"    sample_sheet: config/{study}/samples.tsv\n"
                "    mass_list: config/mass_list.tsv\n"
                "    data_dir: data/ids\n" + extra
            )
    far = slug_map(dict.fromkeys(per_sample["sample"]))["N_far +(µ)"]
    before = {p for p in root.rglob("*") if p.is_file()}
    result = snakemake(
        workdir,
        "--cores",
        "2",
        "results/ids/peaks.parquet",
        f"results/ids1/peaks/{far}.parquet",
    )
    after = {p for p in root.rglob("*") if p.is_file()}
    return workdir, sheet, truth, result, far, after - before


def test_the_sheet_command_keeps_the_ids_of_the_file_names(ids_run):
    _, sheet, *_ = ids_run
    assert sorted(set(sheet["sample"])) == sorted(e["sample"] for e in SAMPLES)
    assert set(sheet["spot"]) == {f"Spot {k}" for k in range(1, 10)}
    assert (sheet["batch"] == "b001").all() and len(sheet) == 30


def test_every_spectrum_is_calibrated_and_the_far_ones_recovered(ids_run):
    workdir, _, truth, result, *_ = ids_run
    calibration = pd.read_csv(
        workdir / "results/ids/qc/calibration.tsv", sep="\t", dtype=str, keep_default_na=False
    )
    calibration[["a", "b"]] = calibration[["a", "b"]].astype(float)
    assert len(calibration) == 30
    status = calibration.set_index("sample")["status"]
    assert (status.loc["far +(µ)"] == "recovered").all()
    assert (status.drop(index="far +(µ)") == "ok").all()
    merged = truth.merge(calibration, on=["sample", "spot"])
    assert len(merged.drop_duplicates(["sample", "spot"])) == 30
    channel = (merged["t0_ns"] + merged["k_ns"] * np.sqrt(merged["mz"])) / CHANNEL_NS
    error = (((merged["a"] * channel + merged["b"]) ** 2 / merged["mz"] - 1) * 1e6).abs()
    # the simulator's peaks span several bins: <= 10 ppm against the truth (median of each
    # spectrum's ions)
    assert (calibration["bin_limit_ppm"].astype(float) == 0).all()
    assert (error.groupby([merged["sample"], merged["spot"]]).median() <= 10).all()
    assert "3 spectra had a stored calibration beyond search_ppm and were recovered" in (
        result.stderr
    )


def test_tables_hold_the_ids_and_files_their_slugs(ids_run):
    workdir, sheet, _, _, far, _ = ids_run
    peaks = pd.read_parquet(workdir / "results/ids/peaks.parquet")
    assert len(peaks) == 30
    expected = sheet[["sample", "spot"]].sort_values(["sample", "spot"]).to_numpy().tolist()
    assert peaks[["sample", "spot"]].sort_values(["sample", "spot"]).to_numpy().tolist() == (
        expected
    )
    # the index maps each sample's file name back to its id; the case-only clash is apart
    index = read_index(workdir / "results/ids/names.tsv")
    slugs = dict(zip(index["name"], index["slug"], strict=True))
    assert set(slugs) == set(sheet["sample"]) and set(index["kind"]) == {"sample"}
    assert slugs["LiOH (ref)"].casefold() != slugs["LiOH (REF)"].casefold()
    # a per-sample job's file is named by the slug and holds the id
    one = pd.read_parquet(workdir / f"results/ids1/peaks/{far}.parquet")
    assert set(one["sample"]) == {"N_far +(µ)"} and sorted(one["spot"]) == [
        "Spot 1",
        "Spot 2",
        "Spot 3",
    ]
    assert (workdir / f"logs/ids1/import/{far}.log").is_file()


def test_nothing_is_written_outside_results_logs_and_benchmarks(ids_run):
    workdir, *_, written = ids_run
    allowed = [workdir / d for d in ("results", "logs", ".snakemake", "benchmarks")]
    outside = sorted(str(p) for p in written if not any(p.is_relative_to(a) for a in allowed))
    assert outside == []
    for path in written:  # every name written is a slug: ASCII, no space, '(' or 'µ'
        name = str(path.relative_to(workdir))
        if not name.startswith(".snakemake"):
            assert name.isascii() and not set(name) & set(" ()µ"), name
