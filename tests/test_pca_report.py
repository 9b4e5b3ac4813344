"""The PCA report against known answers: a direct SVD, and a table small enough to do by hand."""

import numpy as np
import pandas as pd
import pytest

from simsflow.config import load_schema
from simsflow.errors import SimsflowError
from simsflow.io.masslist import read_mass_list
from simsflow.pca_report import PCAReportSettings, chain_title, pca_report
from simsflow.plots.pca import save_pca_report

from .conftest import ROOT
from .helpers import simulated_counts

COMPOUNDS = ["Li2CO3", "Li2O", "Li3N", "LiH", "LiOH"]


@pytest.fixture(scope="module")
def lithium():
    schema = load_schema(ROOT / "workflow/schemas/mass_list.schema.yaml")
    mass_list = read_mass_list(ROOT / "config/lithium/mass_list.tsv", schema)
    entries = {c: {"powders": {c: 1.0}, "spots": 8} for c in COMPOUNDS}
    peaks = simulated_counts("lithium", entries, mass_list["ion"].tolist())
    return peaks, mass_list


@pytest.mark.parametrize(
    "steps",
    [
        [{"method": "sqrt"}],
        [{"method": "poisson"}],
        [{"method": "log", "offset": 1.0}],
        [{"method": "total_ion"}, {"method": "zscore"}],
    ],
)
def test_scores_and_variance_equal_a_direct_svd_of_the_scaled_centred_matrix(lithium, steps):
    peaks, mass_list = lithium
    ions = mass_list["ion"].tolist()
    out = pca_report(peaks, mass_list, PCAReportSettings(scaling=tuple(steps), components=4))
    X = peaks[ions].to_numpy(dtype=float)
    if steps[0]["method"] == "sqrt":
        X = np.sqrt(X)
    elif steps[0]["method"] == "poisson":
        X = X / np.sqrt(np.outer(X.mean(axis=1), X.mean(axis=0)))
    elif steps[0]["method"] == "log":
        X = np.log(X + 1.0)
    else:
        X = X / X.sum(axis=1, keepdims=True)
        sd = X.std(axis=0)
        X = np.divide(X - X.mean(axis=0), sd, out=np.zeros_like(X), where=sd > 0)
    centred = X - X.mean(axis=0)
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    # the documented convention: each component's largest |loading| is positive
    sign = np.sign(vt[np.arange(len(vt)), np.argmax(np.abs(vt), axis=1)])
    vt, u = vt * sign[:, None], u * sign[None, :]
    pcs = [f"PC{k}" for k in range(1, 5)]
    np.testing.assert_allclose(out["scores"][pcs].to_numpy(), (u * s)[:, :4], rtol=0, atol=1e-10)
    np.testing.assert_allclose(out["loadings"][pcs].to_numpy(), vt[:4].T, rtol=0, atol=1e-10)
    pct = 100 * s**2 / np.sum(s**2)
    variance = out["variance"]
    np.testing.assert_allclose(variance["explained_variance_pct"], pct[:4], rtol=0, atol=1e-10)
    np.testing.assert_allclose(variance["cumulative_pct"], np.cumsum(pct)[:4], rtol=0, atol=1e-10)


def test_a_four_by_three_table_computed_by_hand():
    # square roots [[4,1,5],[0,1,5],[2,2,5],[2,0,5]]: mean (2,1,5); centred (2,0,0), (-2,0,0),
    # (0,1,0), (0,-1,0). Variance along ion a: 8, along b: 2, along c: 0 (sums of squares) ->
    # PC1 = a (80 %), PC2 = b (20 %); scores 2, -2, 0, 0 and 0, 0, 1, -1.
    peaks = pd.DataFrame(
        {
            "sample": ["s1", "s2", "s3", "s4"],
            "spot": ["1"] * 4,
            "a-": [16.0, 0.0, 4.0, 4.0],
            "b-": [1.0, 1.0, 4.0, 0.0],
            "c-": [25.0, 25.0, 25.0, 25.0],
        }
    )
    mass_list = pd.DataFrame({"ion": ["a-", "b-", "c-"], "mz": [1.0, 2.0, 3.0], "group": ""})
    out = pca_report(peaks, mass_list, PCAReportSettings(components=2))
    np.testing.assert_allclose(out["scores"]["PC1"], [2, -2, 0, 0], atol=1e-12)
    np.testing.assert_allclose(out["scores"]["PC2"], [0, 0, 1, -1], atol=1e-12)
    np.testing.assert_allclose(
        out["loadings"][["PC1", "PC2"]], [[1, 0], [0, 1], [0, 0]], atol=1e-12
    )
    np.testing.assert_allclose(out["variance"]["explained_variance_pct"], [80, 20], atol=1e-12)
    np.testing.assert_allclose(out["variance"]["cumulative_pct"], [80, 100], atol=1e-12)
    assert out["loadings"]["mz"].tolist() == [1.0, 2.0, 3.0]
    assert out["scores"]["sample"].tolist() == ["s1", "s2", "s3", "s4"]


def test_excluded_rows_are_left_out_and_too_few_spectra_stop_with_a_message():
    peaks = pd.DataFrame(
        {"sample": list("abc"), "spot": "1", "role": ["", "exclude", "exclude"], "x-": [1.0, 2, 3]}
    )
    mass_list = pd.DataFrame({"ion": ["x-"], "mz": [1.0], "group": ""})
    with pytest.raises(SimsflowError, match="at least two spectra not excluded"):
        pca_report(peaks, mass_list, PCAReportSettings())


def test_report_figures_are_written_with_titles_from_study_and_chain(lithium, tmp_path):
    peaks, mass_list = lithium
    settings = PCAReportSettings(scaling=({"method": "sqrt"},), colour_by="label")
    tables = pca_report(peaks, mass_list, settings)
    chain = chain_title(settings.scaling)
    assert chain == "sqrt -> mean-centred"
    save_pca_report(tmp_path, tables, "lithium", chain, "label", [("PC1", "PC2")], 5)
    names = sorted(p.name for p in tmp_path.glob("*.png"))
    assert names == [
        "biplot_PC1_PC2.png",
        "loading_spectrum_PC1.png",
        "loading_spectrum_PC2.png",
        "loading_spectrum_PC3.png",
        "loadings_PC1.png",
        "loadings_PC2.png",
        "loadings_PC3.png",
        "scores_PC1_PC2.png",
        "scree.png",
    ]


def test_loading_spectrum_draws_every_ion_at_its_mz_and_labels_the_top_ones(lithium):
    from simsflow.plots import pca as plots_pca

    peaks, mass_list = lithium
    tables = pca_report(peaks, mass_list, PCAReportSettings())
    loadings = tables["loadings"]
    fig = plots_pca.loading_spectrum(loadings, "PC1", 4, "t")
    ax = fig.axes[0]
    drawn = np.concatenate([np.asarray(c.get_segments())[:, 0, 0] for c in ax.collections])
    assert sorted(drawn) == pytest.approx(sorted(loadings["mz"]))
    labels = {t.get_text() for t in ax.texts}
    top = loadings.iloc[np.argsort(-loadings["PC1"].abs().to_numpy())[:4]]["ion"]
    assert labels == set(top)


def test_score_plot_draws_one_ellipse_per_colour_value(lithium):
    from simsflow.plots import pca as plots_pca

    peaks, mass_list = lithium
    tables = pca_report(peaks, mass_list, PCAReportSettings())
    fig = plots_pca.scores(tables["scores"], tables["variance"], "PC1", "PC2", "label", "t")
    assert len(fig.axes[0].patches) == len(COMPOUNDS)


def test_a_colour_value_of_two_spectra_says_it_has_no_ellipse(lithium):
    """Two spots per sample (a user's small study): the title promised '95 % ellipses by
    sample' and none was drawn, without a word."""
    from simsflow.plots import pca as plots_pca

    peaks, mass_list = lithium
    tables = pca_report(peaks, mass_list, PCAReportSettings())
    scores = tables["scores"]
    first = scores["label"].iloc[0]
    two = pd.concat([scores[scores["label"] == first].head(2), scores[scores["label"] != first]])
    fig = plots_pca.scores(two, tables["variance"], "PC1", "PC2", "label", "t")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert f"{first} (n=2, too few for an ellipse)" in labels
    assert len(fig.axes[0].patches) == len(COMPOUNDS) - 1
