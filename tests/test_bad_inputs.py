"""Bad inputs give a non-zero exit and one precise message, and leave no partial output;
with on_error: skip, bad spectra are listed and every valid one is still processed."""

import os
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from .badinputs import CASES, VALID, build, nested_aliases
from .conftest import copy_workflow, snakemake, snakemake_env

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


def _simsflow_lines(stderr: str) -> list[str]:
    return sorted({ln for ln in stderr.splitlines() if ln.startswith("simsflow: ")})


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("-n", "results/nostudy/peaks.parquet"),
            "simsflow: error: results/nostudy/peaks.parquet: no study 'nostudy' in "
            "config/config.yaml (the studies are mini)",
        ),
        (
            ("--cores", "1", "results/minii/stats/total_ion.tsv"),
            "simsflow: error: results/minii/stats/total_ion.tsv: no study 'minii' in "
            "config/config.yaml (did you mean 'mini'? the studies are mini)",
        ),
    ],
    ids=["dry-run", "run"],
)
def test_a_target_of_an_unknown_study_names_the_studies(fresh, args, expected):
    result = snakemake(fresh, *args, check=False)
    assert result.returncode != 0
    assert _simsflow_lines(result.stderr) == [expected], result.stderr[-3000:]
    assert "MissingRuleException" not in result.stderr
    assert not (fresh / "results").exists()
    locks = fresh / ".snakemake" / "locks"
    assert not locks.exists() or not any(locks.iterdir())


# runs its arguments as a child and reports the child's peak resident memory (kB)
_MEASURED = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:]).returncode
print(f"maxrss_kb={resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}", file=sys.stderr)
sys.exit(code)
"""


def _measured_snakemake(workdir, *args) -> tuple[subprocess.CompletedProcess, float]:
    """Snakemake run as ``snakemake`` runs it, with the peak resident memory (MB) of its
    process, and stopped (its whole process group) if it runs two minutes."""
    command = [sys.executable, "-m", "snakemake", "--directory", str(workdir), *args]
    with subprocess.Popen(
        [sys.executable, "-c", _MEASURED, *command],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=snakemake_env(),
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=120)  # the bomb ran 90 s before
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.communicate()
            raise
    peak = re.search(r"^maxrss_kb=(\d+)$", stderr, re.M)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr), int(
        peak[1]
    ) / 1024


def test_a_yaml_alias_bomb_is_refused_before_it_grows(fresh, tmp_path):
    """A config file whose aliases expand to 9**9 values (under a known key) is refused with
    the file, line and key, in no more memory than a plain dry run needs plus 100 MB; given
    with --configfile or as config/config.yaml."""
    _, plain_mb = _measured_snakemake(fresh, "-n")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(  # after the mini study's 6 lines: important_ions is on line 8
        (fresh / "config" / "config.yaml").read_text()
        + f"    scaling:\n      important_ions: {nested_aliases(9)}\n"
    )
    for args, name in (
        (("-n", "--configfile", str(bomb)), str(bomb)),
        (("-n",), "config/config.yaml"),
    ):
        if name == "config/config.yaml":
            shutil.copy(bomb, fresh / "config" / "config.yaml")
        result, peak_mb = _measured_snakemake(fresh, *args)
        assert result.returncode != 0
        assert _simsflow_lines(result.stderr) == [
            f"simsflow: configuration error: {name}, line 8, column "
            "'studies.mini.scaling.important_ions': the value expands to more than 100,000 "
            "values or 10,000,000 characters (YAML anchors and aliases repeat it) (write the "
            "settings out without nested aliases (&name / *name / <<))"
        ], result.stderr[-3000:]
        assert peak_mb < plain_mb + 100, (peak_mb, plain_mb)
        assert not (fresh / "results").exists()


def test_a_broken_study_is_left_out_the_others_are_built_and_the_run_fails_naming_it(fresh):
    """Issue 23: `snakemake --cores 2` builds every good study, then ends non-zero listing
    the studies left out with their problems."""
    config = fresh / "config" / "config.yaml"
    config.write_text(
        config.read_text()
        + "  broken:\n    sample_sheet: config/mini/samples.tsv\n"
        + "    mass_list: config/mini/mass_list.tsv\n    data_dir: data/mini\n"
        + "    scaling:\n      methods:\n        mm: [{method: minmax}]\n"
    )
    result = snakemake(fresh, "--cores", "2", check=False)
    assert result.returncode != 0
    problem = (
        "study 'broken': config/config.yaml, column 'studies.broken.scaling.methods.mm': "
        "scaling method 'minmax' needs axis (e.g. {method: minmax, axis: ion})"
    )
    assert _simsflow_lines(result.stderr) == [
        f"simsflow: configuration error: {problem} (left out)",
        "simsflow: error: 1 study was left out for a problem in the configuration, sheet or "
        "mass list, the others are built: 'broken' (each problem is printed at the start of "
        "the run and in logs/configuration_errors.log; fix them and run again)",
    ], result.stderr[-3000:]
    assert f"left out: {problem}" in (fresh / "logs" / "configuration_errors.log").read_text()
    assert pd.read_parquet(fresh / "results/mini/peaks.parquet")["spot"].tolist() == ["1", "2"]
    assert (fresh / "results/mini/stats/total_ion.tsv").exists()
    assert sorted(p.name for p in (fresh / "results").iterdir()) == ["mini"]
