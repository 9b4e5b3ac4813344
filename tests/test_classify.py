"""Classifier pieces on small synthetic data: unmixing, flags, model JSON, CV options."""

import json
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from simsflow import classify
from simsflow.checks import check_classes, check_groups, classes_in_one_group
from simsflow.classify import (
    ClassifierSettings,
    cv_splits,
    mixture_distance,
    predict_unknowns,
    train_study,
    unmix,
)
from simsflow.errors import InputFileError, SimsflowError
from simsflow.io.model import read_model, write_model
from simsflow.model import pipeline_from_document
from simsflow.scaling import ion_frame

IONS = ["a-", "b-", "c-", "d-"]
PROFILES = {"A": [100, 10, 5, 1], "B": [5, 100, 10, 2], "C": [3, 8, 100, 20]}


def _peaks(n=10, seed=0, unknown=None):
    rng = np.random.default_rng(seed)
    rows = []
    for label, profile in PROFILES.items():
        for i in range(n):
            counts = rng.poisson(np.array(profile) * 50 * rng.lognormal(0, 0.3))
            rows.append(
                {
                    "sample": label,
                    "spot": str(i),
                    "role": "train",
                    "label": label,
                    **dict(zip(IONS, counts.astype(float), strict=True)),
                }
            )
    if unknown is not None:
        for i in range(n):
            counts = rng.poisson(np.array(unknown) * 50)
            rows.append(
                {
                    "sample": "U",
                    "spot": str(i),
                    "role": "predict",
                    "label": "",
                    **dict(zip(IONS, counts.astype(float), strict=True)),
                }
            )
    frame = pd.DataFrame(rows)
    frame["total_counts"] = frame[IONS].sum(axis=1) * 1.05
    frame.insert(0, "study", "t")
    return frame


def test_unmix_recovers_an_exact_mixture():
    means = np.array([[1.0, 0.0, 0.2], [0.1, 1.0, 0.0], [0.0, 0.3, 1.0]])
    f, residual = unmix(0.3 * means[0] + 0.7 * means[2], means)
    np.testing.assert_allclose(f, [0.3, 0.0, 0.7], atol=1e-8)
    assert residual < 1e-8
    spread = np.full_like(means, 0.1)
    assert mixture_distance(0.5 * means[0] + 0.5 * means[1], means, spread) < 1e-6
    assert mixture_distance(np.array([0.0, 0.0, 0.0]), means, spread) > 1


def test_class_with_fewer_spectra_than_folds_is_refused():
    with pytest.raises(SimsflowError, match=r"class\(es\) 'B' \(3\) have fewer spectra than the 5"):
        check_classes(np.array(["A"] * 6 + ["B"] * 3), 5)
    with pytest.raises(SimsflowError, match=r"at least two classes, found 1: 'A' \(6 spectra\)"):
        check_classes(np.array(["A"] * 6), 5)


def test_class_in_a_single_group_is_refused_naming_the_class_its_group_and_line():
    labels = np.array(["A", "A", "B", "B", "C", "C"])
    check_groups(labels, ["g1", "g2", "g1", "g2", "g1", "g2"], "batch")
    with pytest.raises(SimsflowError) as err:
        check_groups(labels, ["g1", "g2", "g1", "g1", "", ""], "batch", lines=range(2, 8))
    assert str(err.value) == (
        "line 4, column 'batch': class(es) 'B' ('g1'), 'C' ('') have all their train rows in "
        "one 'batch' value, so the cross-validation fold that holds it out has no training "
        "spectrum of the class (give each class train rows with at least two values of "
        "'batch', or set classification.group_column to another column or to null)"
    )


@pytest.mark.parametrize("seed", range(6))
def test_the_start_check_refuses_exactly_the_groups_the_training_split_refuses(seed):
    """check_groups (at the Snakemake start) and cv_splits (in the training job) agree."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(["A", "B", "C"], 30)
    groups = rng.choice(["g1", "g2", "g3"], 30)
    if seed % 2:
        groups[labels == "C"] = "g3"
    try:
        cv_splits(labels, groups, 3, seed)
        refused = False
    except SimsflowError as err:
        refused = "in one group only" in err.message
    assert refused == bool(classes_in_one_group(labels, groups))
    assert refused == (seed % 2 == 1)


@pytest.fixture(scope="module")
def trained():
    peaks = _peaks(unknown=[50, 50, 5, 1])
    out = train_study(peaks, IONS, ClassifierSettings(n_bootstrap=50), {}, "0" * 64)
    return peaks, out


def test_model_json_reloads_to_identical_probabilities(trained, tmp_path):
    peaks, out = trained
    path = tmp_path / "model.json"
    write_model(path, out["document"])
    assert "pickle" not in path.read_text()
    document = read_model(path)
    X = ion_frame(peaks, IONS, [s["config"] for s in document["scaling"]])
    original = pipeline_from_document(out["document"]).predict_proba(X)
    reloaded = pipeline_from_document(document).predict_proba(X)
    assert np.array_equal(original, reloaded)
    assert out["metrics"].iloc[-1]["accuracy"] == 1.0


def test_unknown_mixture_gets_probabilities_composition_and_no_flag(trained):
    peaks, out = trained
    spectra, samples = predict_unknowns(out["document"], peaks)
    row = samples.iloc[0]
    top_two = sorted(PROFILES, key=lambda c: -row[f"p_{c}"])[:2]
    assert sorted(top_two) == ["A", "B"]
    assert row["f_A"] == pytest.approx(0.5, abs=0.1)
    assert row["f_A_lo"] <= row["f_A"] <= row["f_A_hi"]
    assert row["flag"] == ""
    assert len(spectra) == 10


def test_model_with_other_ions_is_refused(trained):
    peaks, out = trained
    with pytest.raises(SimsflowError, match=r"needs ion\(s\) missing from the peak table: c-"):
        predict_unknowns(out["document"], peaks.drop(columns=["c-"]))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.pop("classifier"), "'classifier' is a required property"),
        (lambda d: d.update(format="pickle"), "'simsflow-model' was expected"),
        (lambda d: d["classifier"]["params"].update(C=-1), "column 'classifier.params.C'"),
    ],
    ids=["missing-key", "wrong-format", "bad-value"],
)
def test_invalid_model_files_are_refused_before_use(trained, tmp_path, edit, message):
    document = json.loads(json.dumps(trained[1]["document"]))
    edit(document)
    path = tmp_path / "model.json"
    path.write_text(json.dumps(document))
    with pytest.raises(InputFileError, match=message):
        read_model(path)


def test_not_json_names_the_line(tmp_path):
    path = tmp_path / "model.json"
    path.write_text('{\n"format": "simsflow-model",\n oops\n}')
    with pytest.raises(InputFileError, match=r"model.json, line 3: not JSON"):
        read_model(path)


def test_grouped_folds_and_nested_search_of_C():
    peaks = _peaks(n=10)
    peaks["batch"] = (peaks["spot"].astype(int) % 5).astype(str)
    settings = ClassifierSettings(group_column="batch", C_grid=(0.1, 1.0, 10.0), n_bootstrap=0)
    out = train_study(peaks, IONS, settings, {}, "0" * 64)
    folds = out["metrics"][~out["metrics"]["fold"].str.startswith("overall")]
    assert set(folds["C"]) <= {0.1, 1.0, 10.0}
    assert (folds["C_search"] == "ran").all()
    assert (folds["n_test"] == 6).all()  # one batch (2 spectra per class) per fold
    assert out["document"]["cv"]["C"] in (0.1, 1.0, 10.0)
    assert out["document"]["cv"]["group_column"] == "batch"


SAMPLE_IONS = [f"m{k}-" for k in range(12)]


def _samples_study(samples_per_class, spots, seed=0, spot_noise=0.3):
    """Spectra of several samples of three classes: class profiles differ by a lognormal sigma of
    0.3 per ion, each sample (powder batch, preparation) by 0.5 around its class, and its spots by
    ``spot_noise`` around the sample."""
    rng = np.random.default_rng(seed)
    rows = []
    for label in ("A", "B", "C"):
        profile = rng.lognormal(0, 0.3, len(SAMPLE_IONS))
        for k, n_spots in enumerate(np.resize(spots, samples_per_class)):
            sample_profile = profile * rng.lognormal(0, 0.5, len(SAMPLE_IONS))
            for i in range(n_spots):
                counts = sample_profile * 1000 * rng.lognormal(0, spot_noise, len(SAMPLE_IONS))
                rows.append(
                    {
                        "sample": f"{label}_{k}",
                        "spot": str(i),
                        "role": "train",
                        "label": label,
                        **dict(zip(SAMPLE_IONS, counts, strict=True)),
                    }
                )
    frame = pd.DataFrame(rows)
    frame["total_counts"] = frame[SAMPLE_IONS].sum(axis=1) * 1.05
    frame.insert(0, "study", "t")
    return frame


class _RecordingSearch(classify.GridSearchCV):
    """GridSearchCV that remembers the rows it was fitted on and its inner splits."""

    calls: ClassVar[list] = []

    def fit(self, X, y=None, **params):
        _RecordingSearch.calls.append((X.index.to_numpy(), list(self.cv)))
        return super().fit(X, y, **params)


def test_no_group_is_on_both_sides_of_any_outer_or_inner_fold(monkeypatch):
    # unequal group sizes: 2 to 7 spots per sample, 4 samples per class
    peaks = _samples_study(4, [2, 7, 3, 5], seed=3)
    groups = peaks["sample"].to_numpy()
    for folds in (3, 5):
        splits = cv_splits(peaks["label"].to_numpy(), groups, folds, seed=1)
        assert len(splits) == folds
        for train, test in splits:
            assert not set(groups[train]) & set(groups[test])
    # fewer groups than folds: each group is a test fold once (leave one group out)
    few = cv_splits(np.array(list("aaabbbbb")), np.array(list("xxyzzzww")), 5, seed=1)
    assert sorted(tuple(test) for _, test in few) == [(0, 1), (2,), (3, 4, 5), (6, 7)]
    monkeypatch.setattr(classify, "GridSearchCV", _RecordingSearch)
    _RecordingSearch.calls = []
    settings = ClassifierSettings(folds=3, C_grid=(0.1, 1.0), n_bootstrap=0)
    out = train_study(peaks, SAMPLE_IONS, settings, {}, "0" * 64)
    assert out["document"]["cv"]["group_column"] == "sample"  # the default: several per class
    spots_of = peaks.groupby("sample").size()
    checked = 0
    for index, inner in _RecordingSearch.calls:
        fitted = np.array([name.split("/")[0] for name in index])  # rows are 'sample/spot'
        samples, n = np.unique(fitted, return_counts=True)
        if (spots_of[samples].to_numpy() != n).any():
            continue  # a fold of the ungrouped comparison: split spots on purpose
        checked += 1
        for train, test in inner:
            assert not set(fitted[train]) & set(fitted[test])
    assert checked == 3 + 1  # every outer fold's search and the final model's


def test_grouped_cv_accuracy_is_below_ungrouped_when_spots_of_a_sample_are_alike():
    # spots of one sample nearly identical, samples of one class far apart: ungrouped CV
    # recognises the sample's other spots, grouped CV has to recognise a new sample
    peaks = _samples_study(4, [6], seed=1, spot_noise=0.02)
    settings = ClassifierSettings(C=10.0, n_bootstrap=0)
    out = train_study(peaks, SAMPLE_IONS, settings, {}, "0" * 64)
    metrics = out["metrics"].set_index("fold")
    grouped = metrics.loc["overall", "accuracy"]
    ungrouped = metrics.loc["overall_ungrouped", "accuracy"]
    assert ungrouped >= 0.95
    assert grouped <= ungrouped - 0.1
    cv = out["document"]["cv"]
    assert (cv["accuracy"], cv["accuracy_ungrouped"]) == (grouped, ungrouped)
    assert cv["grouping"].startswith("grouped by 'sample' (default")
    assert (
        metrics.loc["1", "split"]
        == metrics.loc["overall", "split"]
        != (metrics.loc["overall_ungrouped", "split"])
    )


def test_grouped_folds_with_a_few_classes_each_score_f1_on_those():
    peaks = _peaks(n=10)
    peaks["sample"] = peaks["label"] + "_" + (peaks["spot"].astype(int) % 2).astype(str)
    out = train_study(peaks, IONS, ClassifierSettings(n_bootstrap=0), {}, "0" * 64)
    folds = out["metrics"][~out["metrics"]["fold"].str.startswith("overall")]
    assert out["document"]["cv"]["n_groups"] == 6
    assert (folds["n_test"] < 30).all()  # whole samples held out, not every class per fold
    assert (folds["accuracy"] == 1.0).all() and (folds["macro_f1"] == 1.0).all()


def test_one_sample_per_class_is_not_grouped_and_says_what_cv_measures(trained):
    cv = trained[1]["document"]["cv"]
    assert cv["group_column"] is None and cv["accuracy_ungrouped"] is None
    assert "spot-to-spot reproducibility" in cv["grouping"]
    assert "overall_ungrouped" not in set(trained[1]["metrics"]["fold"])


def test_group_column_with_a_class_in_one_group_is_refused():
    peaks = _peaks(n=6)
    peaks["batch"] = np.where(peaks["label"] == "C", "c", peaks["spot"].astype(int) % 3)
    settings = ClassifierSettings(folds=2, group_column="batch", n_bootstrap=0)
    with pytest.raises(SimsflowError, match=r"column 'batch': .* class\(es\) 'C' are in one group"):
        train_study(peaks, IONS, settings, {}, "0" * 64)


@pytest.mark.parametrize("grouped", [False, True], ids=["too-few-spectra", "too-few-groups"])
def test_inner_search_that_cannot_run_uses_the_default_C_and_says_so(grouped):
    if grouped:  # two samples per class: an outer fold leaves one, the inner search has no split
        peaks = _samples_study(2, [5], seed=4)
    else:  # class C has 2 spectra: 1 in each outer training fold, too few for 2 inner folds
        peaks = _peaks(n=6)
        peaks = peaks[(peaks["label"] != "C") | (peaks["spot"].astype(int) < 2)]
    settings = ClassifierSettings(folds=2, C=0.5, C_grid=(0.01, 100.0), n_bootstrap=0)
    ions = SAMPLE_IONS if grouped else IONS
    out = train_study(peaks, ions, settings, {}, "0" * 64)
    folds = out["metrics"][out["metrics"]["fold"].isin(["1", "2"])]
    assert (folds["C"] == 0.5).all()
    assert folds["C_search"].str.startswith("C search not run").all()
    reason = "in one group" if grouped else "'C' (1) have fewer spectra than the 2 folds"
    assert reason in folds["C_search"].iloc[0]
    assert out["document"]["cv"]["C_search_folds"] == folds["C_search"].tolist()
    assert np.isfinite(out["metrics"]["log_loss"]).all()


def test_characteristic_ions_name_each_class_marker(trained):
    table = trained[1]["characteristic"]
    top = table[table["rank"] == 1].set_index("class")["ion"].to_dict()
    assert top == {"A": "a-", "B": "b-", "C": "c-"}


def test_characteristic_ions_of_two_classes_name_each_class_marker():
    # scikit-learn keeps a single coefficient row for two classes (the second's)
    rng = np.random.default_rng(3)
    counts = rng.poisson(20, (24, 4)).astype(float)
    counts[:12, 0] += 400  # class A: a-
    counts[12:, 1] += 400  # class B: b-
    X = pd.DataFrame(counts, columns=["a-", "b-", "c-", "d-"])
    y = np.array(["A"] * 12 + ["B"] * 12)
    model = classify.build_pipeline(classify.DEFAULT_SCALING).fit(X, y)
    table = classify.characteristic_ions(model, X, y, top_k=2)
    top = table[table["rank"] == 1].set_index("class")["ion"].to_dict()
    assert top == {"A": "a-", "B": "b-"}


def test_characteristic_ions_keep_their_header_when_no_ion_stands_out():
    X = pd.DataFrame(np.ones((6, 2)), columns=["a-", "b-"])
    y = np.array(["A", "B", "C"] * 2)
    model = classify.build_pipeline([{"method": "none"}]).fit(X, y)
    table = classify.characteristic_ions(model, X, y, top_k=2)
    assert table.empty and list(table.columns) == [
        "class",
        "rank",
        "ion",
        "coefficient",
        "mean_scaled_intensity",
    ]


def test_balanced_accuracy_is_scikit_learns_and_quiet_on_a_single_class_fold():
    import warnings

    from sklearn.metrics import balanced_accuracy_score

    from simsflow.classify import balanced_accuracy

    rng = np.random.default_rng(5)
    for _ in range(50):
        y = rng.choice(["a", "b", "c"], size=20)
        pred = np.where(rng.random(20) < 0.7, y, rng.choice(["a", "b", "c"], size=20))
        assert balanced_accuracy(y, pred) == pytest.approx(balanced_accuracy_score(y, pred))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert balanced_accuracy(np.array(["a", "a"]), np.array(["a", "b"])) == 0.5
