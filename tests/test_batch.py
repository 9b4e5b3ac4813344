"""Batch jobs: the spectrum stages of a sheet batch in one job, with the per-sample results."""

import filecmp
import re

import pandas as pd
import pytest

from .badinputs import CONFIG, MASS_LIST
from .conftest import FIXTURES, copy_workflow, snakemake

pytestmark = pytest.mark.workflow

RAW = {
    "N": (FIXTURES / "iontof-ascii" / "N_Ru-Pt_Bi3_1.txt").read_bytes(),
}


def _project(workdir, batches: dict[str, str]):
    """The mini study with samples A-D (two spots each); ``batches`` maps sample -> batch."""
    copy_workflow(workdir)
    (workdir / "config" / "config.yaml").write_text(CONFIG)
    (workdir / "config" / "mini").mkdir(parents=True, exist_ok=True)
    (workdir / "config" / "mini" / "mass_list.tsv").write_text(MASS_LIST)
    rows = ["sample\tspot\tfile\tbatch\n"]
    for sample in ("A", "B", "C", "D"):
        for spot in ("1", "2"):
            path = workdir / "data" / "mini" / sample / f"{spot}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(RAW["N"])
            rows.append(f"{sample}\t{spot}\t{sample}/{spot}.txt\t{batches.get(sample, '')}\n")
    (workdir / "config" / "mini" / "samples.tsv").write_text("".join(rows))
    return workdir


def _planned(workdir) -> dict[str, int]:
    out = snakemake(workdir, "-n", "results/mini/peaks.parquet").stdout
    if "Nothing to be done" in out:
        return {}
    table = out.split("Job stats:")[1].split("total")[0]
    return {m[0]: int(m[1]) for m in re.findall(r"^(\w+)\s+(\d+)$", table, re.M)}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    single = _project(tmp_path_factory.mktemp("single"), {})
    batched = _project(
        tmp_path_factory.mktemp("batched"), {"A": "b1", "B": "b1", "C": "b2", "D": "b2"}
    )
    plan = _planned(batched)
    for workdir in (single, batched):
        snakemake(workdir, "--cores", "2", "results/mini/peaks.parquet")
    return single, batched, plan


def test_a_batch_is_one_job_with_the_per_sample_results_byte_for_byte(runs):
    single, batched, plan = runs
    assert plan["spectra_batch_mini_b1"] == 1 and plan["spectra_batch_mini_b2"] == 1
    assert not {"import_spectra", "calibrate", "integrate"} & set(plan)
    for folder, suffix in [
        ("spectra", "parquet"),
        ("calibration", "parquet"),
        ("peaks", "parquet"),
        ("summed", "parquet"),
        ("qc/integration", "tsv"),
    ]:
        for sample in "ABCD":
            name = f"results/mini/{folder}/{sample}.{suffix}"
            assert filecmp.cmp(single / name, batched / name, shallow=False), name
    # the study table differs only in the sheet's batch column
    tables = [pd.read_parquet(w / "results/mini/peaks.parquet") for w in (single, batched)]
    assert list(tables[1]["batch"]) == ["b1"] * 4 + ["b2"] * 4
    pd.testing.assert_frame_equal(tables[0].drop(columns="batch"), tables[1].drop(columns="batch"))


def test_a_new_batch_runs_only_its_own_job_and_the_aggregates(runs):
    _, batched, _ = runs
    for spot in ("1", "2"):
        path = batched / "data" / "mini" / "E" / f"{spot}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(RAW["N"])
    with open(batched / "config" / "mini" / "samples.tsv", "a") as sheet:
        sheet.write("E\t1\tE/1.txt\tb3\nE\t2\tE/2.txt\tb3\n")
    plan = _planned(batched)
    assert plan.pop("spectra_batch_mini_b3") == 1
    assert not any(rule.startswith("spectra_batch") for rule in plan)
    assert "peak_table" in plan


def test_a_sample_split_over_two_batches_is_named_with_its_line(tmp_path):
    workdir = _project(tmp_path, {"A": "b1"})
    sheet = workdir / "config" / "mini" / "samples.tsv"
    lines = sheet.read_text().splitlines(keepends=True)
    lines[2] = lines[2].replace("\tb1", "\tb9")  # A spot 2
    sheet.write_text("".join(lines))
    result = snakemake(workdir, "-n", check=False)
    assert result.returncode != 0
    assert (
        "config/mini/samples.tsv, line 3, column 'batch': sample 'A' is in batches 'b1', 'b9'"
        in result.stderr + result.stdout
    )


def test_batch_names_of_any_text_give_distinct_rules(tmp_path):
    # "run 1/a" and "run-1.a" both read as run_1_a: the second rule gets a number
    workdir = _project(tmp_path, {"A": "run 1/a", "B": "run 1/a", "C": "run-1.a", "D": "x"})
    plan = _planned(workdir)
    batches = {k: v for k, v in plan.items() if k.startswith("spectra_batch")}
    assert batches == {
        "spectra_batch_mini_run_1_a": 1,
        "spectra_batch_mini_run_1_a_2": 1,
        "spectra_batch_mini_x": 1,
    }
