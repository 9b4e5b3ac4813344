"""simsflow.settings: what the rules are given, computed from the demo config without
Snakemake (every decision that used to live in common.smk)."""

import copy
import hashlib
import json
from types import SimpleNamespace

import pytest
import yaml

from simsflow.calibrate import DEFAULT_REFERENCE_IONS
from simsflow.settings import NEVER, STAGE_FILES, Project
from simsflow.studies import check_studies, load_studies

from .conftest import ROOT, SCHEMAS

CONFIG_FILE = "config/config.yaml"


@pytest.fixture(autouse=True)
def in_project(monkeypatch):
    monkeypatch.chdir(ROOT)  # the config's paths are relative to the project


def _project(edit=None, edit_sheets=None) -> Project:
    config = yaml.safe_load((ROOT / CONFIG_FILE).read_text())
    if edit is not None:
        config = copy.deepcopy(config)
        edit(config)
    cfg, sheets, mass_lists = load_studies(config, SCHEMAS, [CONFIG_FILE])
    if edit_sheets is not None:
        edit_sheets(sheets)
    return Project(cfg, sheets, mass_lists, check_studies(cfg, sheets, mass_lists, CONFIG_FILE))


@pytest.fixture(scope="module")
def project():
    return _project()


def wc(**kw):
    return SimpleNamespace(**kw)


def test_studies_by_analysis(project):
    assert project.studies == ["cathode", "cathode_images", "lithium"]
    assert project.classified == ["lithium"]
    assert project.degraded == ["cathode"]
    assert project.simulated == project.studies


def test_stage_files_per_sample_and_per_batch():
    def batch(sheets):
        sheet = sheets["cathode"]
        first = list(dict.fromkeys(sheet["sample"]))[:2]
        sheet["batch"] = sheet["sample"].isin(first).map({True: "b1", False: ""})

    project = _project(edit_sheets=batch)
    first, _, third = project.samples_of_kind("cathode", "spectrum")[:3]
    assert (
        project.stage_file("cathode", first, "peaks") == "results/cathode/batches/b1/peaks.parquet"
    )
    assert project.stage_file("cathode", third, "qc") == STAGE_FILES["qc"].format(
        study="cathode", sample=third
    )
    # a batch's file once, where its first sample stands
    files = project.spectrum_files("cathode", "peaks")
    assert files[0] == "results/cathode/batches/b1/peaks.parquet"
    assert files[1] == f"results/cathode/peaks/{third}.parquet"
    # batched samples are kept out of the per-sample rules' wildcard pattern
    pattern = project.sample_patterns()["spectrum"]
    assert first not in pattern.split("|") and third in pattern.split("|")


def test_no_images_gives_a_pattern_that_matches_nothing(project):
    assert project.sample_patterns()["image"] != NEVER  # cathode_images has images
    only_lithium = _project(
        edit=lambda c: [c["studies"].pop(s) for s in ("cathode", "cathode_images")]
    )
    assert only_lithium.sample_patterns()["image"] == NEVER


def test_calibration_settings_add_the_polarity_s_reference_ions(project):
    sample = project.samples_of_kind("lithium", "spectrum")[0]
    settings = project.calibration_settings(wc(study="lithium", sample=sample))
    polarity = project.sample_rows(wc(study="lithium", sample=sample))["polarity"].iloc[0]
    extra = project.config["studies"]["lithium"]["calibration"]["reference_ions"]
    assert set(settings["reference_ions"]) == set(DEFAULT_REFERENCE_IONS[polarity]) | set(extra)
    assert "replace_defaults" not in settings


def test_skipping_unreadable_files_excludes_failed_calibrations():
    def skip(config):
        config["studies"]["lithium"]["on_error"] = "skip"

    project = _project(edit=skip)
    sample = project.samples_of_kind("lithium", "spectrum")[0]
    assert project.calibration_settings(wc(study="lithium", sample=sample))["on_failure"] == (
        "exclude"
    )


def test_compared_scalings_default_to_every_chain(project):
    compared = project.compared_scalings(wc(study="lithium"))
    assert list(compared) == project.scaling_methods("lithium")


def test_classification_hash_changes_with_the_classification_only(project):
    def fold(config):
        config["studies"]["lithium"]["classification"]["folds"] = 3

    def polarity(config):
        config["studies"]["lithium"]["calibration"]["search_ppm"] = 900

    base = project.classification_config_hash(wc(study="lithium"))
    assert _project(edit=fold).classification_config_hash(wc(study="lithium")) != base
    assert _project(edit=polarity).classification_config_hash(wc(study="lithium")) == base
    blob = json.dumps(
        {
            "classification": project.config["studies"]["lithium"]["classification"],
            "compare": project.compared_scalings(wc(study="lithium")),
            "ions": project.study_ions(wc(study="lithium")),
        },
        sort_keys=True,
    )
    assert base == hashlib.sha256(blob.encode()).hexdigest()


def test_radar_axes_follow_pathways_and_rate_test(project):
    d = project.config["studies"]["cathode"]["degradation"]
    axes = project.radar_axes(wc(study="cathode"))
    expected = ["DS", *[f"DS_{p}" for p in d["pathways"]]]
    if d["rate_test"] is not None:
        expected += ["QS_0", "QS_ret"]
    assert axes == (d["radar"] if d["radar"] is not None else expected)

    def no_rate(config):
        config["studies"]["cathode"]["degradation"]["rate_test"] = None
        config["studies"]["cathode"]["degradation"]["radar"] = None

    assert "QS_0" not in _project(edit=no_rate).radar_axes(wc(study="cathode"))


def test_imaging_maps_default_to_every_ion(project):
    settings = project.imaging_settings(wc(study="cathode_images"))
    configured = project.config["studies"]["cathode_images"]["imaging"]["maps"]
    assert settings["maps"] == (configured or project.study_ions(wc(study="cathode_images")))


def test_targets_of_one_study_are_what_its_archive_holds(project):
    every = project.all_targets()
    lithium = project.study_results(wc(study="lithium"))
    assert lithium and all(t.startswith("results/lithium/") for t in lithium)
    assert set(lithium) == {t for t in every if t.startswith("results/lithium/")}
    assert "results/lithium/model/model.json" in lithium
    assert "results/cathode/degradation/scores.tsv" in every


def test_archive_files_hold_the_config_sheet_and_mass_list(project):
    files = project.archive_files(wc(study="lithium"))
    settings = project.config["studies"]["lithium"]
    assert files[:3] == [CONFIG_FILE, settings["sample_sheet"], settings["mass_list"]]
    assert files[-2:] == ["results/report.html", "results/report.zip"]


def test_simulated_samples_read_their_simulator_folder(project):
    sample = project.samples_of_kind("lithium", "spectrum")[0]
    raw = project.raw_inputs(wc(study="lithium", sample=sample))
    assert raw == f"data/demo/lithium/raw/{sample}"
    assert project.batch_raw_inputs("lithium", [sample]) == [raw]


# ids as real SurfaceLab exports give them; the last two differ only in case once slugged
ODD_IDS = {
    "Li2CO3": "RuPd_Bi3++",
    "Li2O": "Cu (ref)",
    "Li3N": "10µm, 25°C",
    "LiH": "cu (REF)",
    "LiOH": "Spot 2",
}


def _odd_ids(sheets):
    sheets["lithium"]["sample"] = sheets["lithium"]["sample"].replace(ODD_IDS)


@pytest.fixture(scope="module")
def odd():
    return _project(edit_sheets=_odd_ids)


def test_files_and_wildcards_use_a_slug_of_each_id_and_the_rules_get_the_id(odd):
    import re

    slugs = odd.sample_slugs(wc(study="lithium"))
    assert list(slugs) == odd.samples("lithium")  # sheet order, every sample
    assert set(ODD_IDS.values()) <= set(slugs)
    for sample, slug in slugs.items():
        assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*", slug), slug
        assert odd.sample_id(wc(study="lithium", sample=slug)) == sample
        assert odd.sample_slug("lithium", sample) == slug
    assert slugs["RuPd_Bi3++"] == "RuPd_Bi3++"  # a safe id keeps its name
    assert slugs["Spot 2"] == "Spot_2"
    # a case-only clash of slugs ('Cu__ref_' and 'cu__REF_') is kept apart with a hash
    assert slugs["Cu (ref)"].casefold() != slugs["cu (REF)"].casefold()
    assert len({s.casefold() for s in slugs.values()}) == len(slugs)
    # the per-sample files and the wildcard pattern of the per-sample rules use the slug
    slug = slugs["Cu (ref)"]
    assert odd.stage_file("lithium", "Cu (ref)", "peaks") == f"results/lithium/peaks/{slug}.parquet"
    pattern = odd.sample_patterns()["spectrum"]
    assert re.fullmatch(pattern, slug) and not re.fullmatch(pattern, "Cu (ref)")
    # the input functions asked with the slug find the id's rows
    rows = odd.sample_rows(wc(study="lithium", sample=slug))
    assert set(rows["sample"]) == {"Cu (ref)"} and len(rows) > 0
    assert odd.sample_files(wc(study="lithium", sample=slug)) == list(rows["path"])
    # a batch job's params are keyed by id
    assert list(odd.for_batch("lithium", ["Spot 2"], odd.sample_spots)) == ["Spot 2"]
    assert "results/lithium/names.tsv" in odd.all_targets()
    # the report labels an image figure with the sample's id
    labels = odd.image_figure_labels(wc(study="lithium", sample=slug, name="maps"))
    assert labels == {"sample": "Cu (ref)", "figure": "maps"}


def test_a_scaling_only_compared_by_the_classification_draws_no_box_plots():
    def compare_only(config):
        scaling = config["studies"]["lithium"]["scaling"]
        scaling["methods"]["sqrt_z"] = [{"method": "sqrt"}, {"method": "zscore"}]
        scaling["statistics"] = ["total_ion"]

    project = _project(edit=compare_only)
    # every method is cross-validated side by side (compare: null) ...
    assert list(project.compared_scalings(wc(study="lithium"))) == [
        "sqrt_z",
        "tic_minmax",
        "total_ion",
    ]
    # ... but only the one for statistics gets a scale job (table, statistics, box plots)
    assert project.statistics_scalings("lithium") == ["total_ion"]
    targets = [t for t in project.study_targets() if t.startswith("results/lithium/")]
    assert [t for t in targets if "/boxplots/" in t] == [
        "results/lithium/figures/boxplots/total_ion"
    ]
    assert not [t for t in targets if "sqrt_z" in t or "tic_minmax" in t]
    # by default every method has its statistics and box plots
    assert _project().statistics_scalings("lithium") == ["tic_minmax", "total_ion"]


def test_statistics_names_a_configured_scaling():
    from simsflow.errors import SimsflowError

    def unknown(config):
        config["studies"]["lithium"]["scaling"]["statistics"] = ["nope"]

    with pytest.raises(SimsflowError, match=r"'nope' is not under scaling\.methods") as err:
        _project(edit=unknown)
    assert "studies.lithium.scaling.statistics" in str(err.value)


def test_box_plot_settings_go_to_the_scale_job(project):
    def every(config):
        config["studies"]["cathode"]["scaling"]["boxplots"] = "all"

    assert project.boxplot_settings(wc(study="cathode")) == {
        "names": [],
        "group_names": ["polysulfide", "SO_y", "PO_y"],
        "boxplots": "important",
    }
    assert _project(edit=every).boxplot_settings(wc(study="cathode"))["boxplots"] == "all"


def test_the_per_sample_params_are_each_sample_s_rows_and_share_no_list(project):
    """The params of the per-sample rules and of a batch's samples are read from the sheet
    once per study and handed out as copies: the same values as each sample's rows give, and
    no list shared between two calls (a job's params are its own)."""
    for study in project.studies:
        for sample in project.samples(study):
            w = wc(study=study, sample=project.sample_slug(study, sample))
            rows = project.sample_rows(w)
            assert project.sample_spots(w) == list(rows["spot"])
            assert project.sample_files(w) == list(rows["path"])
            first, again = project.sample_files(w), project.sample_files(w)
            first.append("changed")
            assert again == list(rows["path"])
    unknown = wc(study="lithium", sample="no_such_sample")
    assert project.sample_spots(unknown) == [] and project.sample_files(unknown) == []
    with pytest.raises(IndexError):  # as the unknown sample's empty rows say
        project.calibration_settings(unknown)
    samples = project.samples_of_kind("lithium", "spectrum")[:2]
    a, b = project.for_batch("lithium", samples, project.calibration_settings).values()
    assert a == b and a["mass_list"] and a["reference_ions"]
    a["mass_list"][0][1] = -1.0
    a["reference_ions"].append("changed")
    again = project.calibration_settings(wc(study="lithium", sample=samples[0]))
    assert again == b and again["mass_list"][0][1] != -1.0
    records = project.mass_list_records(wc(study="lithium"))
    records[0]["ion"] = "changed"
    assert project.mass_list_records(wc(study="lithium"))[0]["ion"] != "changed"


def test_the_calibration_settings_keep_their_keys_in_order(project):
    """A job's params are compared as written: the settings of every sample of a study are
    the study's calibration settings with reference_ions moved to the end and mass_list
    after them (replace_defaults dropped), the same for each call."""
    sample = project.samples_of_kind("lithium", "spectrum")[0]
    settings = project.calibration_settings(wc(study="lithium", sample=sample))
    configured = [
        k
        for k in project.config["studies"]["lithium"]["calibration"]
        if k not in ("reference_ions", "replace_defaults")
    ]
    assert list(settings) == [*configured, "reference_ions", "mass_list"]


def test_memory_estimates_count_files_folders_and_nothing_for_missing_ones(tmp_path):
    from simsflow.settings import STREAM_BYTES, input_megabytes

    (tmp_path / "a.txt").write_bytes(b"x" * 1000)
    folder = tmp_path / "region"
    (folder / "deep").mkdir(parents=True)
    (folder / "1.txt").write_bytes(b"x" * 2000)
    (folder / "deep" / "2.txt").write_bytes(b"x" * 3000)
    big = tmp_path / "big.txt"
    with open(big, "wb") as handle:
        handle.truncate(STREAM_BYTES + 1)
    (tmp_path / "link.txt").symlink_to(tmp_path / "a.txt")
    paths = [tmp_path / "a.txt", folder, str(big), tmp_path / "missing.txt", tmp_path / "link.txt"]
    assert input_megabytes(paths) == (7000 / 1e6, (STREAM_BYTES + 1) / 1e6)
