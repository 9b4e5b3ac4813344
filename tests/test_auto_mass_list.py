"""`mass_list: auto` (or no mass list): the list a peak search proposes from the study's summed
spectrum is integrated in the same run (checkpoint propose_mass_list). The settings and checks
without Snakemake, then one `snakemake` call from raw files to a cross-validated model."""

import copy
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml

from simsflow.errors import SimsflowError
from simsflow.settings import AUTO_MASS_LIST, Project
from simsflow.studies import check_studies, load_studies

from .conftest import ROOT, SCHEMAS, copy_workflow, snakemake

CONFIG_FILE = "config/config.yaml"


@pytest.fixture(autouse=True)
def in_project(monkeypatch):
    monkeypatch.chdir(ROOT)  # the config's paths are relative to the project


def _auto(edit=None, edit_sheets=None, drop_key=False):
    config = copy.deepcopy(yaml.safe_load((ROOT / CONFIG_FILE).read_text()))
    lithium = config["studies"]["lithium"]
    if drop_key:
        del lithium["mass_list"]
    else:
        lithium["mass_list"] = "auto"
    if edit is not None:
        edit(config["studies"]["lithium"])
    cfg, sheets, mass_lists = load_studies(config, SCHEMAS, [CONFIG_FILE])
    if edit_sheets is not None:
        edit_sheets(sheets)
    return cfg, sheets, mass_lists, check_studies(cfg, sheets, mass_lists, CONFIG_FILE)


@pytest.mark.parametrize("drop_key", [False, True])
def test_auto_or_no_mass_list_is_proposed_in_the_run(drop_key, tmp_path):
    cfg, sheets, mass_lists, studies = _auto(drop_key=drop_key)
    assert mass_lists["lithium"] is None and mass_lists["cathode"] is not None
    proposed = tmp_path / "proposed.tsv"
    project = Project(cfg, sheets, mass_lists, studies, ROOT, lambda study: proposed)
    assert project.auto_studies() == ["lithium"]
    lithium = SimpleNamespace(study="lithium")
    assert project.mass_list_file(lithium) == str(proposed)
    assert (
        project.mass_list_file(SimpleNamespace(study="cathode")) == "config/cathode/mass_list.tsv"
    )
    # the proposed list is read and checked as a user's, once written
    proposed.write_text(
        "ion\tformula\tmz\tlower\tupper\tgroup\tcandidates\theight\n"
        "Li-\tLi\t7.016\t7.01\t7.03\t\tLi- (+1.0 ppm)\t100\n"
        "m8.031-\t\t8.031\t8.02\t8.04\t\t\t50\n"
    )
    assert project.study_ions(lithium) == ["Li-", "m8.031-"]
    assert project.mass_list_records(lithium)[0]["mz"] == pytest.approx(7.016, abs=1e-3)
    # the proposal is a result of the study (and the archive packs it as one)
    assert AUTO_MASS_LIST.format(study="lithium") in project.study_results(lithium)
    assert not any("mass_list" in f for f in project.archive_files(lithium))


def test_the_default_project_names_the_checkpoint_output():
    project = Project(*_auto())
    assert project.mass_list_file(SimpleNamespace(study="lithium")) == (
        "results/lithium/mass_list.auto.tsv"
    )


def test_an_auto_study_runs_one_job_per_sample_whatever_its_batches():
    def batch(sheets):
        sheets["lithium"]["batch"] = "b1"
        sheets["cathode"]["batch"] = "c1"

    *_, studies = _auto(edit_sheets=batch)
    assert {b.study for b in studies.batches} == {"cathode"}
    assert "Li2CO3" not in studies.batched_samples


@pytest.mark.parametrize(
    ("edit", "column", "what"),
    [
        (
            lambda s: s["scaling"]["methods"].update(
                ref=[{"method": "reference_ion", "ion": "O-"}]
            ),
            "studies.lithium.scaling.methods.ref",
            "a reference_ion scaling",
        ),
        (
            lambda s: s["scaling"].update(important_ions=["O-"]),
            "studies.lithium.scaling.important_ions",
            "important ions",
        ),
    ],
)
def test_an_auto_study_names_no_ion_in_its_config(edit, column, what):
    with pytest.raises(SimsflowError) as err:
        _auto(edit=edit)
    message = str(err.value)
    assert f"column '{column}'" in message and what in message and "mass_list is auto" in message


def test_an_unknown_peak_search_element_is_named_at_start():
    with pytest.raises(SimsflowError) as err:
        _auto(edit=lambda s: s.setdefault("peak_search", {}).update(elements={"Xq": 1, "O": 2}))
    message = str(err.value)
    assert "column 'studies.lithium.peak_search.elements'" in message
    assert "unknown element(s) Xq" in message and "known elements: Ag, Al" in message


def test_image_samples_need_a_mass_list(tmp_path):
    config = copy.deepcopy(yaml.safe_load((ROOT / CONFIG_FILE).read_text()))
    config["studies"]["cathode_images"]["mass_list"] = "auto"
    cfg, sheets, mass_lists = load_studies(config, SCHEMAS, [CONFIG_FILE])
    with pytest.raises(SimsflowError, match="image samples need a mass list") as err:
        check_studies(cfg, sheets, mass_lists, CONFIG_FILE)
    assert "config/cathode_images/samples.tsv, line 2, column 'file'" in str(err.value)


# A small classification study of simulated exports (the lithium compounds, two powder batches
# of 3 spots each) with
# `mass_list: auto`: nothing but the sheet and the raw files.
AUTO_CONFIG = """studies:
  lithium:
    sample_sheet: config/auto/samples.tsv
    mass_list: auto
    data_dir: data/demo/lithium
    polarity: negative
    simulate: {design: lithium, seed: 1}
    calibration: {reference_ions: [CO3-]}
    integration: {deadtime_shots: 1500000}
    scaling:
      methods:
        total_ion: [{method: total_ion}]
    classification:
      scaling: [{method: total_ion}, {method: minmax, axis: ion}]
      folds: 5
"""


@pytest.mark.workflow
def test_from_raw_files_to_a_cross_validated_model_in_one_call(tmp_path):
    workdir = copy_workflow(tmp_path / "wf")
    sheet = pd.read_csv(
        workdir / "config/lithium/samples.tsv", sep="\t", dtype=str, keep_default_na=False
    )
    sheet = sheet[(sheet["role"] == "train") & (sheet["spot"].astype(int) <= 3)]
    (workdir / "config/auto").mkdir()
    sheet.to_csv(workdir / "config/auto/samples.tsv", sep="\t", index=False)
    (workdir / "config/config.yaml").write_text(AUTO_CONFIG)
    snakemake(
        workdir,
        "--cores",
        "2",
        "results/lithium/model/model.json",
        "results/lithium/model/cv_metrics.tsv",
        "results/lithium/mass_list.proposed.tsv",
    )
    proposed = pd.read_csv(
        workdir / "results/lithium/mass_list.auto.tsv", sep="\t", keep_default_na=False
    )
    peaks = pd.read_parquet(workdir / "results/lithium/peaks.parquet")
    assert len(peaks) == len(sheet) == 30
    assert list(proposed["ion"]) == [c for c in peaks.columns if c in set(proposed["ion"])]
    # the study's ions are among the proposal's names (the simulator's ground truth)
    truth = pd.read_csv(workdir / "config/lithium/mass_list.tsv", sep="\t")
    named = set(truth["ion"]) & set(proposed["ion"])
    assert len(named) >= 0.75 * len(truth), sorted(set(truth["ion"]) - named)
    # measured: 5-fold CV accuracy 1.00 on the 5 compounds (30 spectra, 61 proposed ions)
    metrics = pd.read_csv(workdir / "results/lithium/model/cv_metrics.tsv", sep="\t")
    assert metrics.loc[metrics["fold"] == "overall", "accuracy"].iloc[0] >= 0.95
    # the search the QC step runs on the integrated study's summed spectrum finds the same list
    assert (workdir / "results/lithium/mass_list.proposed.tsv").read_bytes() == (
        workdir / "results/lithium/mass_list.auto.tsv"
    ).read_bytes()
    # and a second call has nothing to do
    again = snakemake(workdir, "--cores", "2", "-n", "results/lithium/model/model.json")
    assert "Nothing to be done" in again.stdout + again.stderr
