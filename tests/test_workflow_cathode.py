"""The cathode demo study against the simulator's ground truth (issue thresholds)."""

import pandas as pd
import pytest
from scipy.stats import spearmanr

pytestmark = pytest.mark.workflow
DEGRADATION_GROUPS = {"polysulfide", "SO_y", "PO_y"}


def _truth(workdir):
    frames = [pd.read_parquet(p) for p in sorted((workdir / "data/demo/cathode/truth").glob("*"))]
    truth = pd.concat(frames).drop_duplicates("sample").set_index("sample")
    return truth[["polysulfide", "oxygenated"]]


@pytest.fixture(scope="module")
def scores(demo_run):
    return pd.read_csv(demo_run / "results/cathode/degradation/scores.tsv", sep="\t").set_index(
        "sample"
    )


def test_scores_are_anchored_at_uncycled_and_uncoated(scores):
    for column in ("DS", "DS_polysulfide", "DS_SO_y", "DS_PO_y"):
        assert abs(scores.loc["uncycled", column]) < 1e-9
        assert abs(scores.loc["cycled_uncoated", column] - 1) < 1e-9
    assert scores.loc["cycled_uncoated", ["QS_0", "QS_ret"]].tolist() == [1.0, 1.0]


def test_scores_rank_the_true_degradation(demo_run, scores):
    truth = _truth(demo_run)
    cycled = [s for s in truth.index if s != "uncycled"]
    total = truth.loc[cycled].sum(axis=1)
    assert spearmanr(scores.loc[cycled, "DS"], total)[0] >= 0.9
    assert (
        spearmanr(scores.loc[cycled, "DS_polysulfide"], truth.loc[cycled, "polysulfide"])[0] >= 0.9
    )
    for pathway in ("DS_SO_y", "DS_PO_y"):
        assert spearmanr(scores.loc[cycled, pathway], truth.loc[cycled, "oxygenated"])[0] >= 0.9


def test_largest_pc1_loadings_are_degradation_fragments(demo_run):
    loadings = pd.read_csv(
        demo_run / "results/cathode/pca/anchors/loadings.tsv", sep="\t", keep_default_na=False
    )
    top = loadings.sort_values("PC1", ascending=False).head(10)
    assert top["group"].isin(DEGRADATION_GROUPS).sum() >= 7


def test_pc1_orientation_and_figures(demo_run):
    scores = pd.read_parquet(demo_run / "results/cathode/pca/anchors/scores.parquet")
    means = scores.groupby("sample")["PC1"].mean()
    assert means["cycled_uncoated"] > means["uncycled"]
    figures = demo_run / "results/cathode/figures/degradation"
    names = {p.name for p in figures.glob("*.png")}
    assert {
        "degradation_scores.png",
        "radar_overview.png",
        "pca_anchors_PC1_PC2.png",
        "pca_all_PC1_PC2.png",
        "pca_all_PC1_PC3.png",
        "pca_anchors_loadings_PC1.png",
    } <= names
    assert sum(n.startswith("radar_cycled") for n in names) == 6
