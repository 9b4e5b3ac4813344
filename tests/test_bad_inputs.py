"""Bad inputs give a non-zero exit and one precise message, and leave no partial output;
with on_error: skip, bad spectra are listed and every valid one is still processed."""

import re
import shutil

import pandas as pd
import pytest

from .badinputs import CASES, VALID, build
from .conftest import copy_workflow, snakemake

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    workdir = copy_workflow(tmp_path_factory.mktemp("bad"))
    build(workdir)
    return workdir


@pytest.fixture
def fresh(base, tmp_path):
    dest = tmp_path / "wf"
    shutil.copytree(base, dest, symlinks=True)
    return dest


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 25
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case, fresh):
    if case.spectrum is not None:
        (fresh / "data" / "mini" / "A" / "2.txt").write_bytes(case.spectrum)
    if case.edit is not None:
        case.edit(fresh)
    target = (
        "results/mini/spectra/A.parquet" if case.stage == "file" else "results/mini/peaks.parquet"
    )
    args = ("--cores", "1", target) if case.stage == "file" else ("-n",)
    result = snakemake(fresh, *args, check=False)
    assert result.returncode != 0
    # one message (Snakemake may repeat it when it shows the failed job's log)
    lines = sorted({ln for ln in result.stderr.splitlines() if ln.startswith("simsflow: ")})
    assert len(lines) == 1, result.stderr[-3000:]
    assert case.message in lines[0]
    assert "(" in lines[0] or case.stage == "start"  # file errors say what to do
    # nothing half-written: no output of the failed job, no temporary file
    assert not (fresh / target).exists()
    leftovers = list((fresh / "results").rglob("*.tmp")) if (fresh / "results").exists() else []
    assert leftovers == []


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_files_in_unusual_dress_are_kept(name, fresh):
    (fresh / "data" / "mini" / "A" / "2.txt").write_bytes(VALID[name])
    snakemake(fresh, "--cores", "1", "results/mini/spectra/A.parquet")
    spectra = pd.read_parquet(fresh / "results/mini/spectra/A.parquet")
    assert spectra.groupby("spot").size().tolist() == [7053, 7053]


def test_on_error_skip_lists_bad_spectra_and_keeps_the_rest(fresh):
    config = fresh / "config" / "config.yaml"
    config.write_text(config.read_text() + "    on_error: skip\n")
    (fresh / "data" / "mini" / "A" / "2.txt").write_bytes(CASES[5].spectrum)  # nan intensity
    snakemake(fresh, "--cores", "2", "results/mini/peaks.parquet")
    skipped = pd.read_csv(fresh / "results/mini/qc/skipped.tsv", sep="\t", dtype=str)
    assert skipped[["sample", "spot"]].to_numpy().tolist() == [["A", "2"]]
    assert "column 'Intensity': value is nan" in skipped["reason"][0]
    log = (fresh / "logs/mini/import/A.log").read_text()
    assert re.search(r"WARNING simsflow: skipped \S*data/mini/A/2\.txt: .*value is nan", log)
    peaks = pd.read_parquet(fresh / "results/mini/peaks.parquet")
    assert peaks["spot"].tolist() == ["1"]


def test_on_error_skip_with_every_spectrum_skipped_says_so_and_keeps_the_qc_tables(fresh):
    config = fresh / "config" / "config.yaml"
    config.write_text(config.read_text() + "    on_error: skip\n")
    for spot in ("1", "2"):
        (fresh / "data" / "mini" / "A" / f"{spot}.txt").write_bytes(CASES[5].spectrum)
    result = snakemake(fresh, "--cores", "2", "--keep-going", check=False)
    assert result.returncode != 0
    lines = sorted({ln for ln in result.stderr.splitlines() if ln.startswith("simsflow: ")})
    assert lines == [
        "simsflow: error: results/mini/peaks.parquet: no spectra: every spectrum of the study "
        "was skipped or failed calibration (see the study's qc/skipped.tsv and "
        "qc/calibration.tsv)",
        "simsflow: error: results/mini/qc/calibration.tsv: no calibrated spectrum to sum: every "
        "spectrum of the study was skipped or failed calibration (the status and reason of each "
        "spectrum are in this table, unreadable exports in qc/skipped.tsv)",
    ], result.stderr[-3000:]
    # the tables that say why are kept
    skipped = pd.read_csv(fresh / "results/mini/qc/skipped.tsv", sep="\t", dtype=str)
    assert skipped["spot"].tolist() == ["1", "2"]
    assert pd.read_parquet(fresh / "results/mini/peaks.parquet").empty
