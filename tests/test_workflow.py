"""The workflow as a user runs it: Snakemake in a subprocess on a fresh copy of the project."""

import hashlib
import re
import subprocess
import sys

import pandas as pd
import pyarrow.parquet as pq
import pytest

from simsflow.io.tables import read_parquet_metadata

from .conftest import ROOT, copy_workflow, snakemake

pytestmark = pytest.mark.workflow


def test_demo_leaves_spectra_for_every_sample(demo_run):
    for study in ("lithium", "cathode"):
        sheet = pd.read_csv(demo_run / "config" / study / "samples.tsv", sep="\t", dtype=str)
        for sample, rows in sheet.groupby("sample", sort=False):
            path = demo_run / "results" / study / "spectra" / f"{sample}.parquet"
            table = pq.read_table(path)
            meta = read_parquet_metadata(path)
            assert [s["spot"] for s in meta["spots"]] == list(rows["spot"])
            for spot in meta["spots"]:
                raw = (demo_run / spot["file"]).read_bytes()
                assert spot["sha256"] == hashlib.sha256(raw).hexdigest()
            n_lines = sum(
                sum(
                    1
                    for ln in (demo_run / s["file"]).read_bytes().splitlines()
                    if ln and not ln.startswith(b"#")
                )
                - 1
                for s in meta["spots"]
            )
            assert table.num_rows == n_lines
            assert set(table.column("study").to_pylist()) == {study}


def test_unchanged_rerun_does_nothing(demo_run):
    result = snakemake(demo_run, "-n")
    assert "Nothing to be done" in result.stdout + result.stderr


def test_a_config_error_leaves_its_study_out_and_the_others_are_planned(tmp_path):
    """Issue 23: one broken study never blocks another; the plan ends with the job that
    fails the run naming it, and its own targets say why they cannot be built."""
    workdir = copy_workflow(tmp_path / "wf")
    overlay = workdir / "bad.yaml"
    overlay.write_text("studies:\n  cathode:\n    simulate: {design: cathode, seed: x}\n")
    result = snakemake(workdir, "-n", "--configfile", str(overlay))
    message = (
        f"study 'cathode': {overlay}, line 3, column 'studies.cathode.simulate.seed': 'x' is "
        "not of type 'integer'"
    )
    assert f"simsflow: configuration error: {message}" in result.stderr
    assert "results/lithium/peaks.parquet" in result.stdout
    assert "results/cathode_images/peaks.parquet" in result.stdout
    assert "results/cathode/" not in result.stdout
    assert re.search(r"^configuration_errors\s+1$", result.stdout, re.M)
    target = snakemake(
        workdir, "-n", "results/cathode/peaks.parquet", "--configfile", str(overlay), check=False
    )
    assert target.returncode != 0
    assert f"simsflow: error: results/cathode/peaks.parquet: {message}" in target.stderr
    assert not (workdir / "results").exists()
    assert not (workdir / "data").exists()


def test_a_sheet_error_leaves_its_study_out(tmp_path):
    workdir = copy_workflow(tmp_path / "wf")
    sheet = workdir / "config" / "lithium" / "samples.tsv"
    lines = sheet.read_text().splitlines(keepends=True)
    sheet.write_text("".join([*lines, lines[5]]))  # repeat line 6 at the end
    result = snakemake(workdir, "-n")
    assert (
        f"simsflow: configuration error: study 'lithium': config/lithium/samples.tsv, line "
        f"{len(lines) + 1}, column 'spot': duplicate sample 'Li2CO3' spot '05' (first on line 6)"
        in result.stderr
    )
    assert "results/lithium/" not in result.stdout
    assert "results/cathode/peaks.parquet" in result.stdout


def test_simulate_command_writes_a_complete_study(tmp_path):
    out = tmp_path / "lithium"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "simsflow",
            "simulate",
            "--study",
            "lithium",
            "--out",
            str(out),
            "--seed",
            "1",
        ],
        cwd=ROOT / "workflow" / "scripts",
        check=True,
        capture_output=True,
    )
    sheet = (out / "samples.tsv").read_text()
    assert sheet == (ROOT / "config" / "lithium" / "samples.tsv").read_text()
    assert len(list((out / "raw").glob("*/*.txt"))) == sheet.count("\n") - 1
    samples = {line.split("\t")[0] for line in sheet.splitlines()[1:]}
    assert len(list((out / "truth").glob("*.parquet"))) == len(samples) == 15
