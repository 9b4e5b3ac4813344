"""Classifier pieces on small synthetic data: unmixing, flags, model JSON, CV options."""

import json

import numpy as np
import pandas as pd
import pytest

from simsflow.checks import check_classes
from simsflow.classify import (
    ClassifierSettings,
    mixture_distance,
    predict_unknowns,
    train_study,
    unmix,
)
from simsflow.errors import InputFileError, SimsflowError
from simsflow.io.model import pipeline_from_document, read_model, write_model
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
    folds = out["metrics"][out["metrics"]["fold"] != "overall"]
    assert set(folds["C"]) <= {0.1, 1.0, 10.0}
    assert (folds["n_test"] == 6).all()  # one batch (2 spectra per class) per fold
    assert out["document"]["cv"]["C"] in (0.1, 1.0, 10.0)


def test_characteristic_ions_name_each_class_marker(trained):
    table = trained[1]["characteristic"]
    top = table[table["rank"] == 1].set_index("class")["ion"].to_dict()
    assert top == {"A": "a-", "B": "b-", "C": "c-"}
