"""Batch jobs: the spectrum stages of a sheet batch in one job, one file per stage, and the
same study results as one job per sample and stage."""

import filecmp
import re

import pandas as pd
import pytest

from simsflow.io.batches import sample_provenance

from .badinputs import CONFIG, MASS_LIST, PER_SAMPLE
from .conftest import FIXTURES, copy_workflow, snakemake

pytestmark = pytest.mark.workflow

RAW = {
    "N": (FIXTURES / "iontof-ascii" / "N_Ru-Pt_Bi3_1.txt").read_bytes(),
}


# unreadable exports, skipped (on_error: skip): one spot of B, every spot of D
UNREADABLE = {("B", "2"), ("D", "1"), ("D", "2")}


def _project(workdir, batches: dict[str, str]):
    """The mini study with samples A-D (two spots each, three of them unreadable and
    skipped); ``batches`` maps sample -> batch."""
    copy_workflow(workdir)
    (workdir / "config" / "config.yaml").write_text(CONFIG + PER_SAMPLE + "    on_error: skip\n")
    (workdir / "config" / "mini").mkdir(parents=True, exist_ok=True)
    (workdir / "config" / "mini" / "mass_list.tsv").write_text(MASS_LIST)
    rows = ["sample\tspot\tfile\tbatch\n"]
    for sample in ("A", "B", "C", "D"):
        for spot in ("1", "2"):
            path = workdir / "data" / "mini" / sample / f"{spot}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"not an export\n" if (sample, spot) in UNREADABLE else RAW["N"])
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
    # batches that interleave in the sheet: the study tables still come in sheet order
    mixed = _project(tmp_path_factory.mktemp("mixed"), {"A": "b1", "B": "b2", "C": "b1"})
    plan = _planned(batched)
    for workdir in (single, batched, mixed):
        snakemake(
            workdir, "--cores", "2", "results/mini/peaks.parquet", "results/mini/summed.parquet"
        )
    return single, batched, mixed, plan


STUDY_FILES = ["qc/calibration.tsv", "qc/integration.tsv", "qc/skipped.tsv", "summed.parquet"]


def test_a_batch_is_one_job_with_one_file_per_stage(runs):
    _, batched, _, plan = runs
    assert plan["spectra_batch_mini_b1"] == 1 and plan["spectra_batch_mini_b2"] == 1
    assert not {"import_spectra", "calibrate", "integrate"} & set(plan)
    for key, samples, read in [("b1", "AB", "AB"), ("b2", "CD", "C")]:  # D: all skipped
        folder = batched / "results" / "mini" / "batches" / key
        assert sorted(p.name for p in folder.iterdir()) == [
            "calibration.parquet",
            "peaks.parquet",
            "qc.tsv",
            "spectra.parquet",
            "summed.parquet",
        ]
        spectra = pd.read_parquet(folder / "spectra.parquet")
        assert list(dict.fromkeys(spectra["sample"])) == list(read)
        assert [m["sample"] for m in sample_provenance(folder / "spectra.parquet")] == list(samples)
    assert not (batched / "results" / "mini" / "spectra").exists()
    # the default target (every sample's spectra, the study's results) asks for batch files,
    # never for the per-sample files no rule makes for batched samples
    plan = snakemake(batched, "-n", "--forceall").stdout
    assert "import_spectra" not in plan and "spectra_batch_mini_b1" in plan


def test_batched_and_per_sample_jobs_give_the_same_study_results(runs):
    single, batched, mixed, _ = runs
    for workdir in (batched, mixed):
        for name in STUDY_FILES:
            path = f"results/mini/{name}"
            assert filecmp.cmp(single / path, workdir / path, shallow=False), (workdir, name)
    # the study table differs only in the sheet's batch column
    tables = [pd.read_parquet(w / "results/mini/peaks.parquet") for w in (single, batched, mixed)]
    assert list(tables[1]["batch"]) == ["b1"] * 3 + ["b2"] * 2  # B 2 and D skipped
    assert list(tables[2]["batch"]) == ["b1", "b1", "b2", "b1", "b1"]
    skipped = (single / "results/mini/qc/skipped.tsv").read_text().splitlines()[1:]
    assert [tuple(line.split("\t")[1:3]) for line in skipped] == sorted(UNREADABLE)
    for table in tables[1:]:
        pd.testing.assert_frame_equal(tables[0].drop(columns="batch"), table.drop(columns="batch"))


def test_a_new_batch_runs_only_its_own_job_and_the_aggregates(runs):
    _, batched, _, _ = runs
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
