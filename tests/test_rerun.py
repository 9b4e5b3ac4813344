"""Rerun on change: only what a change touches is scheduled again (dry runs on copies)."""

import re
import shutil

import pytest

from .badinputs import CONFIG as BASE_CONFIG
from .badinputs import MASS_LIST, PER_SAMPLE
from .conftest import FIXTURES, copy_workflow, snakemake

pytestmark = pytest.mark.workflow

CONFIG = (
    BASE_CONFIG
    + PER_SAMPLE
    + "    scaling:\n      methods:\n        total_ion: [{method: total_ion}]\n"
)


def _add_sample(workdir, sample, spots=("1", "2")):
    raw = (FIXTURES / "iontof-ascii" / "N_Ru-Pt_Bi3_1.txt").read_bytes()
    rows = []
    for spot in spots:
        path = workdir / "data" / "mini" / sample / f"{spot}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw)
        rows.append(f"{sample}\t{spot}\t{sample}/{spot}.txt\n")
    sheet = workdir / "config" / "mini" / "samples.tsv"
    if not sheet.exists():
        sheet.parent.mkdir(parents=True, exist_ok=True)
        sheet.write_text("sample\tspot\tfile\n")
    with open(sheet, "a") as handle:
        handle.writelines(rows)


@pytest.fixture(scope="module")
def mini_run(tmp_path_factory):
    workdir = copy_workflow(tmp_path_factory.mktemp("mini"))
    (workdir / "config" / "config.yaml").write_text(CONFIG)
    _add_sample(workdir, "A")
    _add_sample(workdir, "B")
    (workdir / "config" / "mini" / "mass_list.tsv").write_text(MASS_LIST)
    snakemake(workdir, "--cores", "2")
    return workdir


def _planned(workdir) -> dict[str, int]:
    """Jobs a dry run would run, per rule."""
    out = snakemake(workdir, "-n").stdout
    if "Nothing to be done" in out:
        return {}
    table = out.split("Job stats:")[1].split("total")[0]
    return {m[0]: int(m[1]) for m in re.findall(r"^(\w+)\s+(\d+)$", table, re.M)}


@pytest.fixture
def copy(mini_run, tmp_path):
    dest = tmp_path / "copy"
    shutil.copytree(mini_run, dest, symlinks=True)
    return dest


def test_unchanged_rerun_does_nothing(copy):
    assert _planned(copy) == {}


def test_changed_scaling_reruns_scaling_onward_only(copy):
    config = copy / "config" / "config.yaml"
    config.write_text(
        config.read_text().replace("[{method: total_ion}]", "[{method: total_ion, exclude: [Cl-]}]")
    )
    planned = _planned(copy)
    assert set(planned) == {"scale", "all"}  # the scaled table, its statistics and box plots


def test_new_batch_runs_only_new_samples_and_the_aggregates(copy):
    _add_sample(copy, "C", spots=("1", "2", "3"))
    planned = _planned(copy)
    assert planned["import_spectra"] == 1
    assert planned["calibrate"] == 1
    assert planned["integrate"] == 1
    assert {"peak_table", "spectrum_qc", "scale"} <= set(planned)


def test_changed_box_plot_ions_rerun_only_the_scaling_job(copy):
    config = copy / "config" / "config.yaml"
    config.write_text(config.read_text() + "      important_ions: [C-, Cl-]\n")
    assert set(_planned(copy)) == {"scale", "all"}


def test_changed_peak_search_reruns_only_the_spectrum_qc(copy):
    config = copy / "config" / "config.yaml"
    config.write_text(config.read_text() + "    peak_search: {tolerance_ppm: 50}\n")
    assert set(_planned(copy)) == {"spectrum_qc", "all"}


def test_changed_mass_list_reruns_integration_onward(copy):
    mass_list = copy / "config" / "mini" / "mass_list.tsv"
    mass_list.write_text(mass_list.read_text().replace("11.95\t12.05", "11.96\t12.04"))
    planned = _planned(copy)
    assert planned["integrate"] == 2
    assert {"peak_table", "scale"} <= set(planned)
    assert not {"import_spectra", "calibrate"} & set(planned)


def test_changed_library_code_reruns_the_rules_that_use_it(copy):
    module = copy / "workflow" / "scripts" / "simsflow" / "scaling.py"
    module.write_text(module.read_text() + "\n# a change to the scaling code\n")
    planned = _planned(copy)
    assert "scale" in planned
    assert not {"import_spectra", "calibrate", "integrate"} & set(planned)


@pytest.fixture(scope="module")
def auto_run(tmp_path_factory):
    """The mini study without a batch column, in automatic batches of 4 spectra: A and B
    (two spots each) in auto001, C in auto002."""
    workdir = copy_workflow(tmp_path_factory.mktemp("auto"))
    (workdir / "config" / "config.yaml").write_text(
        re.sub(r"batch_spectra: 0.*\n", "batch_spectra: 4\n", CONFIG)
    )
    for sample in "ABC":
        _add_sample(workdir, sample)
    (workdir / "config" / "mini" / "mass_list.tsv").write_text(MASS_LIST)
    snakemake(workdir, "--cores", "2")
    return workdir


def test_samples_appended_to_a_sheet_rerun_only_the_last_automatic_batch(auto_run):
    assert _planned(auto_run) == {}
    assert sorted(p.name for p in (auto_run / "results/mini/batches").iterdir()) == [
        "auto001",
        "auto002",
    ]
    _add_sample(auto_run, "D")  # joins C in auto002
    _add_sample(auto_run, "E", spots=("1", "2", "3"))  # does not fit: auto003
    planned = _planned(auto_run)
    assert planned["spectra_batch_mini_auto002"] == 1
    assert planned["spectra_batch_mini_auto003"] == 1
    assert "spectra_batch_mini_auto001" not in planned
    assert not {"import_spectra", "calibrate", "integrate"} & set(planned)
    assert {"peak_table", "spectrum_qc", "scale"} <= set(planned)
