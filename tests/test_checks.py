"""The checks every Snakemake start runs (simsflow.studies), on the demo config: each mistake
a user can make in it stops the run with the file and the key or line and column to fix."""

import copy

import pandas as pd
import pytest
import yaml

from simsflow.errors import SimsflowError
from simsflow.sheets import DEFAULT_BATCH_SIZE, assign_batches
from simsflow.studies import Batch, check_studies, load_studies, spectrum_batches

from .conftest import ROOT, SCHEMAS

CONFIG_FILE = "config/config.yaml"


@pytest.fixture(scope="module")
def demo_config():
    return yaml.safe_load((ROOT / CONFIG_FILE).read_text())


@pytest.fixture(autouse=True)
def in_project(monkeypatch):
    monkeypatch.chdir(ROOT)  # the config's paths are relative to the project


def _check(config, edit_sheets=None):
    cfg, sheets, mass_lists = load_studies(config, SCHEMAS, [CONFIG_FILE])
    if edit_sheets is not None:
        edit_sheets(sheets)
    return check_studies(cfg, sheets, mass_lists, CONFIG_FILE)


def test_the_demo_config_passes(demo_config):
    studies = _check(demo_config)
    assert "Li2CO3" in studies.spectrum_samples and "img_uncycled" in studies.image_samples
    assert studies.batched_samples == set()
    assert next(iter(studies.rows_by_sample["lithium"])) == "Li2CO3"  # sheet order


def test_each_sample_s_rows_are_its_rows_of_the_sheet(demo_config):
    """rows_by_sample takes a sample's frame from the sheet when asked: the frame a groupby
    of the sheet gives, samples in sheet order; ``column`` is each frame's column."""
    from simsflow.studies import SampleRows

    _, sheets, _ = load_studies(demo_config, SCHEMAS, [CONFIG_FILE])
    interleaved = pd.DataFrame(
        {"sample": ["b", "a", "b", "c", "a"], "spot": list("12345"), "n": [1, 2, 3, 4, 5]},
        index=[10, 11, 12, 13, 14],
    )
    for sheet in [*sheets.values(), interleaved]:
        rows = SampleRows(sheet)
        groups = dict(tuple(sheet.groupby("sample", sort=False)))
        assert list(rows) == list(groups) and len(rows) == len(groups)
        for sample, group in groups.items():
            pd.testing.assert_frame_equal(rows[sample], group)
            for column in sheet.columns:
                assert rows.column(column)[sample] == list(group[column])
        assert rows.get("no such sample") is None
    assert type(SampleRows(interleaved).column("n")["b"][0]) is int  # as list(a Series) gives


def _edited(config, path, value):
    config = copy.deepcopy(config)
    *keys, last = path
    node = config["studies"]
    for key in keys:
        node = node[key]
    node[last] = value
    return config


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            ("lithium", "data_dir"),
            "data/elsewhere",
            "column 'studies.lithium.data_dir': a simulated study's data_dir must be "
            "data/demo/lithium",
        ),
        (
            ("cathode", "scaling", "reference_sample"),
            "nowhere",
            "column 'studies.cathode.scaling.reference_sample': reference sample 'nowhere' is "
            "not in the sample sheet",
        ),
        (
            ("cathode", "scaling", "methods", "NiO2"),
            [{"method": "reference_ion", "ion": "XY-"}],
            "column 'studies.cathode.scaling.methods.NiO2': reference ion 'XY-' is not in the "
            "mass list",
        ),
        (
            ("cathode", "scaling", "methods", "NiO2"),
            [{"method": "minmax", "axis": "ion", "ion": "NiO2-"}],
            "column 'studies.cathode.scaling.methods.NiO2': scaling method 'minmax': unexpected "
            "parameter(s) ion (it takes: axis)",
        ),
        (
            ("cathode", "scaling", "methods", "NiO2"),
            [{"method": "total_ion"}, {"method": "minmax"}],
            "column 'studies.cathode.scaling.methods.NiO2': scaling method 'minmax' needs axis "
            "(e.g. {method: minmax, axis: ion})",
        ),
        (
            ("lithium", "classification", "scaling"),
            [{"method": "reference_ion"}],
            "column 'studies.lithium.classification.scaling': scaling method 'reference_ion' "
            "needs ion",
        ),
        (
            ("lithium", "classification", "compare"),
            ["total_ion", "nope"],
            "column 'studies.lithium.classification.compare': 'nope' is not under scaling.methods",
        ),
        (
            ("lithium", "classification", "decision_boundaries"),
            [{"class": "Li2CO3", "versus": "LiF", "mixture": "mix_Li2CO3_LiOH"}],
            "column 'studies.lithium.classification.decision_boundaries.0.versus': 'LiF' is "
            "not a label of a train row",
        ),
        (
            ("lithium", "classification", "decision_boundaries"),
            [{"class": "Li2CO3", "versus": "LiOH", "mixture": "Li2CO3"}],
            "column 'studies.lithium.classification.decision_boundaries.0.mixture': 'Li2CO3' "
            "is not a sample with role predict",
        ),
        (
            ("cathode", "degradation", "uncoated"),
            "cycled_gold",
            "column 'studies.cathode.degradation.uncoated': 'cycled_gold' is not a sample of "
            "the sheet",
        ),
        (
            ("cathode", "degradation", "pathways"),
            ["polysulfide", "SO_z"],
            "column 'studies.cathode.degradation.pathways': 'SO_z' is not a mass-list group",
        ),
        (
            ("cathode", "degradation", "score_pairs"),
            [["PC1", "PC6"]],
            "column 'studies.cathode.degradation.score_pairs': PC6 beyond 5 components",
        ),
        (
            ("cathode", "degradation", "scaling"),
            [{"method": "max_relative", "axis": "ion"}],
            "column 'studies.cathode.degradation.scaling': scaling method 'max_relative': "
            "unexpected parameter(s) axis (it takes: none)",
        ),
        (
            ("cathode_images", "imaging", "overlays"),
            [["NiO2-", "Ag-"]],
            "column 'studies.cathode_images.imaging': ion(s) Ag- are not in the mass list",
        ),
    ],
    ids=[
        "simulated-data-dir",
        "reference-sample",
        "reference-ion",
        "step-parameter",
        "step-without-required-parameter",
        "classifier-step-without-required-parameter",
        "compared-scaling",
        "boundary-class",
        "boundary-mixture",
        "degradation-anchor",
        "pathway-group",
        "score-pair",
        "degradation-scaling",
        "image-ion",
    ],
)
def test_a_mistake_in_the_config_names_its_key(demo_config, path, value, expected):
    with pytest.raises(SimsflowError) as err:
        _check(_edited(demo_config, path, value))
    assert str(err.value) == f"{CONFIG_FILE}, {expected}"


def test_a_scaling_that_nothing_uses_is_named(demo_config):
    config = _edited(demo_config, ("lithium", "scaling", "statistics"), ["total_ion"])
    _check(config)  # compare is null: every scaling is cross-validated
    config = _edited(config, ("lithium", "classification", "compare"), ["total_ion"])
    with pytest.raises(SimsflowError) as err:
        _check(config)
    assert str(err.value) == (
        f"{CONFIG_FILE}, column 'studies.lithium.scaling.methods.tic_minmax': scaling "
        "'tic_minmax' is in neither scaling.statistics nor classification.compare: nothing "
        "would use it (add it to one of them, or remove it)"
    )
    _check(_edited(config, ("lithium", "classification", "compare"), ["tic_minmax"]))


def test_a_rate_test_without_the_uncoated_sample(demo_config, tmp_path):
    rates = tmp_path / "rates.tsv"
    rates.write_text("sample\tcapacity_0.1C\tcapacity_2C\nuncycled\t180\t120\n")
    with pytest.raises(SimsflowError, match=r"rate_test': .*rates.tsv has no row for"):
        _check(_edited(demo_config, ("cathode", "degradation", "rate_test"), str(rates)))


def test_training_classes_too_small_for_the_folds(demo_config):
    with pytest.raises(SimsflowError) as err:
        _check(_edited(demo_config, ("lithium", "classification", "folds"), 20))
    assert str(err.value).startswith("config/lithium/samples.tsv, column 'label': class(es) ")


def test_a_class_in_a_single_cv_group_is_named_with_its_sheet_line(demo_config):
    """Caught at the start, not in the training job: the demo's two powder batches per class
    ('remark') pass; Li2O's second batch relabelled as its first leaves Li2O in one group."""
    config = _edited(demo_config, ("lithium", "classification", "group_column"), "remark")
    _check(config)

    def one_batch(sheets):
        sheet = sheets["lithium"]
        sheet.loc[sheet["sample"] == "Li2O_batch2", "remark"] = "pure powder batch 1"

    with pytest.raises(SimsflowError) as err:
        _check(config, one_batch)
    assert str(err.value) == (
        "config/lithium/samples.tsv, line 14, column 'remark': class(es) 'Li2O' ('pure powder "
        "batch 1') have all their train rows in one 'remark' value, so the cross-validation "
        "fold that holds it out has no training spectrum of the class (give each class train "
        "rows with at least two values of 'remark', or set classification.group_column to "
        "another column or to null)"
    )


@pytest.mark.parametrize("column", ["no_such_column", "sheet_line"])
def test_a_cv_group_column_that_is_not_in_the_sheet_is_named(demo_config, column):
    with pytest.raises(SimsflowError) as err:
        _check(_edited(demo_config, ("lithium", "classification", "group_column"), column))
    assert str(err.value) == (
        f"{CONFIG_FILE}, column 'studies.lithium.classification.group_column': '{column}' is "
        "not a sheet column"
    )


def test_a_name_used_for_spectra_and_for_images(demo_config):
    def rename(sheets):
        sheet = sheets["cathode_images"]
        sheet.loc[sheet["sample"] == "img_uncycled", "sample"] = "uncycled"

    with pytest.raises(SimsflowError, match="uncycled are spectra in one study and images"):
        _check(demo_config, rename)


def test_ids_whose_file_names_are_spectra_and_images_are_named_with_the_file_name(demo_config):
    # 'uncycled*' and 'uncycled?' differ as ids, but share the file name (and wildcard) of
    # the per-sample rules: a spectrum sample in one study, an image sample in the other
    def rename(sheets):
        sheet = sheets["cathode_images"]
        sheet.loc[sheet["sample"] == "img_uncycled", "sample"] = "uncycled?"
        sheet = sheets["cathode"]
        sheet.loc[sheet["sample"] == "uncycled", "sample"] = "uncycled*"

    with pytest.raises(SimsflowError) as err:
        _check(demo_config, rename)
    assert str(err.value).startswith(
        "sample name(s) 'uncycled*' (file name uncycled_), 'uncycled?' (file name uncycled_) are "
        "spectra in one study and images in another"
    )


def test_a_sample_batched_in_one_study_only(demo_config):
    def batch(sheets):
        sheets["cathode"]["batch"] = "b1"
        sheets["lithium"].loc[sheets["lithium"]["sample"] == "Li2CO3", "sample"] = "uncycled"

    with pytest.raises(SimsflowError) as err:
        _check(demo_config, batch)
    assert str(err.value).startswith(
        "sample name(s) uncycled run their spectrum stages in batches in study 'cathode' and "
        "one job per sample in study 'lithium': those jobs are named by the sample alone, so "
    )


def test_a_sheet_shared_with_a_study_without_mass_list_leaves_that_study_out(tmp_path):
    """A user's path: the same sheet once with a mass list (batched) and once without (the
    list proposed in the run, one job per sample). That refused the whole run with 'batched
    in one study and not in another ... give a batch in both', though both had one; now the
    study without a list is left out with why, and the other is built."""
    from simsflow.studies import load_and_check_studies

    from .conftest import FIXTURES

    data = tmp_path / "data"
    data.mkdir()
    export = (FIXTURES / "iontof-ascii" / "N_Ru-Pt_Bi3_1.txt").read_bytes()
    (data / "a.txt").write_bytes(export)
    sheet = tmp_path / "samples.tsv"
    sheet.write_text("sample\tspot\tfile\tbatch\nRu-Pt (ref)\t1\ta.txt\tb001\n")
    mass_list = tmp_path / "mass_list.tsv"
    mass_list.write_text("ion\tmz\nCl-\t34.969\n")
    study = {"sample_sheet": str(sheet), "data_dir": str(data)}
    config = {"studies": {"rupt": {**study, "mass_list": str(mass_list)}, "rupt_auto": study}}
    cfg, _, _, studies, bad = load_and_check_studies(config, SCHEMAS, [CONFIG_FILE])
    assert list(bad) == ["rupt_auto"] and list(cfg["studies"]) == ["rupt"]
    assert bad["rupt_auto"] == (
        "study 'rupt_auto': config/config.yaml, column 'studies.rupt_auto': sample name(s) "
        "'Ru-Pt (ref)' (file name Ru-Pt__ref_) run their spectrum stages in batches in study "
        "'rupt' and one job per sample in study 'rupt_auto' (its mass list is proposed in the "
        "run, which ignores batches): those jobs are named by the sample alone, so give the "
        "samples other names in one of the sheets, or the same batching in both "
        "(batch_spectra: 0 and no batch column in the other)"
    )
    assert studies.batched_samples == {"Ru-Pt__ref_"}


def test_a_sample_split_over_two_batches_names_the_sheet_line(demo_config):
    def split(sheets):
        sheet = sheets["cathode"]
        sheet["batch"] = "b1"
        second = sheet.index[sheet["sample"] == "uncycled"][1]
        sheet.loc[second, "batch"] = "b2"

    with pytest.raises(SimsflowError) as err:
        _check(demo_config, split)
    assert str(err.value) == (
        "config/cathode/samples.tsv, line 3, column 'batch': sample 'uncycled' is in batches "
        "'b1', 'b2' (all rows of a sample need one batch)"
    )


def test_the_first_sample_split_over_batches_is_named_whatever_the_row_order():
    """The sheet is checked column-wise, the message made sample by sample as before: the
    first sample (in sheet order) split over batches, at its first row in another batch;
    image samples may mix batches (they run no batch job)."""
    from simsflow.studies import _check_one_batch_per_sample

    sheet = pd.DataFrame(
        {
            "sample": ["I", "A", "B", "B", "A", "B"],
            "kind": ["image", "spectrum", "spectrum", "spectrum", "spectrum", "spectrum"],
            "batch": ["x", "b1", "", "b2", "b3", "b4"],
            "sheet_line": [2, 3, 4, 5, 6, 7],
        }
    )
    with pytest.raises(SimsflowError) as err:
        _check_one_batch_per_sample("s.tsv", sheet)
    assert str(err.value) == (
        "s.tsv, line 6, column 'batch': sample 'A' is in batches 'b1', 'b3' (all rows of a "
        "sample need one batch)"
    )
    sheet.loc[4, "batch"] = "b1"
    with pytest.raises(SimsflowError, match=r"line 5, .*sample 'B' is in batches '', 'b2', 'b4'"):
        _check_one_batch_per_sample("s.tsv", sheet)
    fine = sheet.assign(batch=["x", "b1", "b2", "b2", "b1", "b2"])
    fine.loc[0, "batch"] = "y"
    _check_one_batch_per_sample("s.tsv", pd.concat([fine, fine.iloc[:1].assign(batch="z")]))


def test_batches_get_distinct_rule_names_and_folder_keys():
    # "run 1/a" and "run-1.a" both read as run_1_a; an image sample's batch makes no job
    sheets = {
        "s-1": pd.DataFrame(
            {
                "sample": ["A", "A", "B", "C", "D", "E"],
                "kind": ["spectrum"] * 5 + ["image"],
                "batch": ["run 1/a", "run 1/a", "run-1.a", "", "run 1/a", "x"],
            }
        )
    }
    assert spectrum_batches(sheets) == [
        Batch("s-1", "spectra_batch_s_1_run_1_a", "run_1_a", ["A", "D"]),
        Batch("s-1", "spectra_batch_s_1_run_1_a_2", "run_1_a_2", ["B"]),
    ]


def first_two(config):
    sheet = pd.read_csv(ROOT / config["studies"]["cathode"]["sample_sheet"], sep="\t", dtype=str)
    return list(dict.fromkeys(sheet["sample"]))[:2]


def test_the_studies_know_each_batched_sample_s_batch(demo_config):
    def batch(sheets):
        sheet = sheets["cathode"]
        first = list(dict.fromkeys(sheet["sample"]))[:2]
        sheet["batch"] = sheet["sample"].isin(first).map({True: "b1", False: ""})

    studies = _check(demo_config, batch)
    keys = studies.batch_keys("cathode")
    assert list(keys) == first_two(demo_config) and set(keys.values()) == {"b1"}
    assert set(keys) == studies.batched_samples
    assert studies.batch_keys("lithium") == {}


def test_one_bad_study_is_left_out_and_the_others_are_kept(demo_config, tmp_path):
    """Issue 23: a problem in one study's config, sheet or mass list leaves that study out,
    with a message naming it; the other studies load and check as if it were not there."""
    from simsflow.studies import load_and_check_studies

    config = _edited(demo_config, ("cathode", "on_error"), "maybe")  # schema
    config = _edited(config, ("lithium", "classification", "folds"), 20)  # cross-check
    sheet = tmp_path / "samples.tsv"
    sheet.write_text("sample,spot,file\n")
    config = _edited(config, ("cathode_images", "sample_sheet"), str(sheet))  # sheet
    config["studies"]["fine"] = copy.deepcopy(demo_config["studies"]["cathode"])
    config["studies"]["fine"]["simulate"]["design"] = "cathode"
    config["studies"]["fine"]["data_dir"] = "data/demo/fine"
    cfg, sheets, mass_lists, studies, bad = load_and_check_studies(config, SCHEMAS, [CONFIG_FILE])
    assert list(cfg["studies"]) == list(sheets) == list(mass_lists) == ["fine"]
    assert set(studies.rows_by_sample) == {"fine"}
    assert list(bad) == ["cathode", "cathode_images", "lithium"]
    assert bad["cathode"].startswith(
        # edited here, not in a file: "config" stands for the file
        "study 'cathode': config, column 'studies.cathode.on_error': 'maybe' is not one of"
    )
    assert bad["cathode_images"] == (
        f"study 'cathode_images': {sheet}, line 1: expected tab-separated columns; found "
        "commas (save the table as tab-separated text (TSV), not CSV)"
    )
    assert bad["lithium"].startswith(
        "study 'lithium': config/lithium/samples.tsv, column 'label': class(es) "
    )


def test_when_every_study_is_bad_the_first_problem_stops_the_run(demo_config):
    from simsflow.studies import StudyError, load_and_check_studies

    config = _edited(demo_config, ("cathode", "on_error"), "maybe")
    config["studies"] = {"cathode": config["studies"]["cathode"]}
    with pytest.raises(StudyError) as err:
        load_and_check_studies(config, SCHEMAS, [CONFIG_FILE])
    assert str(err.value).startswith(
        "study 'cathode': config, column 'studies.cathode.on_error': 'maybe' is not one of"
    )


def test_a_sample_in_two_batches_leaves_only_its_study_out(demo_config, tmp_path):
    from simsflow.studies import load_and_check_studies

    lines = (ROOT / "config" / "cathode" / "samples.tsv").read_text().splitlines()
    batches = ["batch", *(["b1", "b2"] + ["b1"] * (len(lines) - 3))]
    sheet = tmp_path / "samples.tsv"
    sheet.write_text("".join(f"{ln}\t{b}\n" for ln, b in zip(lines, batches, strict=True)))
    config = _edited(demo_config, ("cathode", "sample_sheet"), str(sheet))
    cfg, _, _, studies, bad = load_and_check_studies(config, SCHEMAS, [CONFIG_FILE])
    assert sorted(cfg["studies"]) == ["cathode_images", "lithium"]
    assert "uncycled" not in studies.spectrum_samples
    assert bad == {
        "cathode": f"study 'cathode': {sheet}, line 3, column 'batch': sample 'uncycled' is in "
        "batches 'b1', 'b2' (all rows of a sample need one batch)"
    }


def _auto_sheet(sizes: dict[str, int], batch: dict[str, str] | None = None) -> pd.DataFrame:
    """A sheet of spectrum samples with ``sizes[sample]`` spots each."""
    samples = [s for s, n in sizes.items() for _ in range(n)]
    return pd.DataFrame(
        {
            "sample": samples,
            "kind": "spectrum",
            "batch": [(batch or {}).get(s, "") for s in samples],
        }
    )


def test_samples_without_a_batch_get_automatic_batches_of_about_n_spectra():
    # 3 + 2 spectra fill the first batch of 5; C (4) does not fit and starts the next, and
    # D (6) is larger than a batch and stays whole, alone; X keeps its sheet batch
    sheet = _auto_sheet({"A": 3, "B": 2, "X": 1, "C": 4, "D": 6, "E": 1}, {"X": "b1"})
    got = {b.key: b.samples for b in spectrum_batches({"s": sheet}, {"s": 5})}
    assert got == {
        "auto001": ["A", "B"],
        "b1": ["X"],
        "auto002": ["C"],
        "auto003": ["D"],
        "auto004": ["E"],
    }
    # 0 (or a study not named): one job per sample for the samples without a batch
    for sizes in ({"s": 0}, None):
        assert [b.key for b in spectrum_batches({"s": sheet}, sizes)] == ["b1"]


def test_an_automatic_batch_never_joins_a_sheet_batch_of_the_same_name():
    sheet = _auto_sheet({"A": 1, "B": 1}, {"A": "auto001"})
    batches = spectrum_batches({"s": sheet}, {"s": 50})
    assert [(b.key, b.samples) for b in batches] == [("auto001", ["A"]), ("auto001_2", ["B"])]


def test_samples_appended_to_a_sheet_change_only_the_last_automatic_batch():
    before = spectrum_batches({"s": _auto_sheet({"A": 2, "B": 2, "C": 2, "D": 1})}, {"s": 4})
    after = spectrum_batches(
        {"s": _auto_sheet({"A": 2, "B": 2, "C": 2, "D": 1, "E": 1, "F": 3})}, {"s": 4}
    )
    assert before[:-1] == after[: len(before) - 1]  # every batch but the last is unchanged
    assert [b.samples for b in after[len(before) - 1 :]] == [["C", "D", "E"], ["F"]]


def test_a_study_of_the_user_runs_in_batches_by_default(demo_config):
    config = copy.deepcopy(demo_config)
    del config["studies"]["lithium"]["batch_spectra"]  # as a study of the user's own has it
    studies = _check(config)
    sheet = pd.read_csv(ROOT / config["studies"]["lithium"]["sample_sheet"], sep="\t", dtype=str)
    expected = assign_batches(sheet["sample"].tolist(), DEFAULT_BATCH_SIZE)
    keys = studies.batch_keys("lithium")
    assert [keys[s] for s in sheet["sample"]] == ["auto" + b[1:] for b in expected]
    assert len(set(keys.values())) == 2  # 90 spectra: two jobs per stage, not 10
    assert studies.batch_keys("cathode") == {}  # batch_spectra: 0


def test_the_default_batch_size_is_the_sheet_command_s():
    schema = yaml.safe_load((SCHEMAS / "config.schema.yaml").read_text())
    assert schema["$defs"]["study"]["properties"]["batch_spectra"]["default"] == DEFAULT_BATCH_SIZE
