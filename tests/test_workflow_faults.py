"""Whole runs under faults, on a small classification study without unknowns (the lithium demo's
training samples only): it runs to the end; a truncated intermediate Parquet is named, then
rebuilt once deleted; a second run in the same folder is refused by the lock; a run killed with
kill -9 resumes, after --unlock, with --rerun-incomplete to the same bytes."""

import os
import shutil
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from .conftest import ROOT, copy_workflow, snakemake, snakemake_env

pytestmark = pytest.mark.workflow

CLASSES = ("Li2CO3", "LiOH", "Li2O")
CONFIG = """\
studies:
  lithium:
    sample_sheet: config/lithium/samples.tsv
    mass_list: config/lithium/mass_list.tsv
    data_dir: data/demo/lithium
    polarity: negative
    batch_spectra: 0  # one job per sample: the tests damage one sample's own files
    simulate: {design: lithium, seed: 1}
    calibration: {reference_ions: [CO3-]}
    integration: {deadtime_shots: 1500000}
    scaling:
      methods:
        tic_minmax: [{method: total_ion}, {method: minmax, axis: ion}]
    classification:
      scaling: [{method: total_ion}, {method: minmax, axis: ion}]
      folds: 5
"""


def _tables(workdir):
    root = workdir / "results" / "lithium"
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.suffix in {".tsv", ".parquet", ".json", ".png"}
    }


@pytest.fixture(scope="module")
def no_unknowns(tmp_path_factory):
    """The study run once to the end (`snakemake --cores 2`), and what the run said."""
    workdir = copy_workflow(tmp_path_factory.mktemp("no_unknowns"))
    (workdir / "config" / "config.yaml").write_text(CONFIG)
    sheet = pd.read_csv(ROOT / "config" / "lithium" / "samples.tsv", sep="\t", dtype=str)
    sheet = sheet[sheet["sample"].isin(CLASSES)].groupby("sample").head(6)
    sheet.to_csv(workdir / "config" / "lithium" / "samples.tsv", sep="\t", index=False)
    result = snakemake(workdir, "--cores", "2", check=False)
    return workdir, result


@pytest.fixture
def copy(no_unknowns, tmp_path):
    workdir, result = no_unknowns
    assert result.returncode == 0, result.stderr[-3000:]
    dest = tmp_path / "copy"
    shutil.copytree(workdir, dest, symlinks=True)
    return dest


def test_a_classification_study_without_unknowns_runs_to_the_end(no_unknowns):
    workdir, result = no_unknowns
    assert result.returncode == 0, result.stderr[-3000:]
    results = workdir / "results" / "lithium"
    for name in ("model/model.json", "figures/confusion.png", "pca/scores.parquet"):
        assert (results / name).is_file(), name
    assert not (results / "figures" / "predictions_heatmap.png").exists()
    predictions = pd.read_csv(results / "predictions.tsv", sep="\t")
    assert predictions.empty and list(predictions.columns[:1]) == ["sample"]
    assert "nothing to predict" in (workdir / "logs" / "lithium" / "predict.log").read_text()


def test_a_truncated_intermediate_is_named_then_rebuilt_once_deleted(copy):
    peaks = "results/lithium/peaks.parquet"
    reference = _tables(copy)
    spectra = copy / "results" / "lithium" / "spectra" / "LiOH.parquet"
    spectra.write_bytes(spectra.read_bytes()[:-1000])  # a copy cut short
    failed = snakemake(copy, "--cores", "2", peaks, check=False)
    assert failed.returncode != 0
    lines = {ln for ln in failed.stderr.splitlines() if ln.startswith("simsflow: error:")}
    assert lines == {
        "simsflow: error: results/lithium/spectra/LiOH.parquet: damaged or truncated Parquet "
        "file (Parquet magic bytes not found in footer) (delete it and rerun: Snakemake then "
        "makes it again)"
    }
    spectra.unlink()
    snakemake(copy, "--cores", "2")  # as the message says: delete it and rerun
    assert _tables(copy) == reference


def test_a_second_run_is_refused_by_the_lock_and_a_killed_run_resumes(copy):
    reference = _tables(copy)
    # the aggregates run again; none of their outputs exists, so none vanishes under the
    # second run while it reads the folder (it would stop on that, before the lock)
    for name in ("model", "pca", "figures", "predictions.tsv", "predictions_spectra.tsv"):
        path = copy / "results" / "lithium" / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    shutil.rmtree(copy / "logs")
    first = subprocess.Popen(
        [sys.executable, "-m", "snakemake", "--directory", str(copy), "--cores", "1"],
        cwd=copy,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=snakemake_env(),
        start_new_session=True,
    )
    marker = copy / "logs" / "lithium" / "train_classifier.log"
    deadline = time.monotonic() + 600
    while not marker.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert first.poll() is None, "the run ended before the classifier started"
    second = snakemake(copy, "--cores", "1", check=False)
    assert first.poll() is None, "the first run ended before the second one was refused"
    assert second.returncode != 0
    assert "Directory cannot be locked" in second.stderr
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    stale = snakemake(copy, "--cores", "1", check=False)  # the lock of the killed run remains
    assert stale.returncode != 0 and "--unlock" in stale.stderr
    snakemake(copy, "--unlock")
    resumed = snakemake(copy, "--cores", "2", "--rerun-incomplete")
    assert "Nothing to be done" not in resumed.stdout + resumed.stderr
    assert _tables(copy) == reference
