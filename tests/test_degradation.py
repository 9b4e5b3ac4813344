"""Degradation and electrochemical score formulas on hand-computed examples."""

import numpy as np
import pandas as pd
import pytest

from simsflow.degradation import (
    electrochemical_scores,
    radar_values,
    rescale,
    spot_scores,
)
from simsflow.errors import ConfigError, SimsflowError
from simsflow.io.ratetest import read_rate_test

from .conftest import ROOT


def test_degradation_score_hand_computed():
    # two fragments; loadings 0.6 (S3-, polysulfide) and 0.8 (SO3-, SO_y)
    scaled = pd.DataFrame(
        {"S3-": [0.1, 0.3, 0.9, 1.1, 0.5, 0.5], "SO3-": [0.2, 0.2, 1.0, 1.0, 0.4, 0.6]}
    )
    samples = np.array(["u", "u", "c", "c", "x", "x"])
    loadings = pd.Series({"S3-": 0.6, "SO3-": 0.8})
    groups = {"S3-": "polysulfide", "SO3-": "SO_y"}
    raw = spot_scores(scaled, loadings, groups, ["polysulfide", "SO_y"])
    np.testing.assert_allclose(raw["DS"], 0.6 * scaled["S3-"] + 0.8 * scaled["SO3-"])
    np.testing.assert_allclose(raw["DS_polysulfide"], 0.6 * scaled["S3-"])
    scores = rescale(raw, samples, "u", "c")
    # DS_raw: u = (0.22 + 0.34)/2 = 0.28; c = (1.34 + 1.46)/2 = 1.40; x = (0.62 + 0.78)/2 = 0.70
    assert scores["DS"][samples == "x"].mean() == pytest.approx((0.70 - 0.28) / (1.40 - 0.28))
    assert scores["DS"][samples == "u"].mean() == pytest.approx(0.0, abs=1e-12)
    assert scores["DS"][samples == "c"].mean() == pytest.approx(1.0, abs=1e-12)
    # polysulfide: u 0.12, c 0.6, x 0.3 -> (0.3 - 0.12) / 0.48
    assert scores["DS_polysulfide"][samples == "x"].mean() == pytest.approx(0.18 / 0.48)


def test_rescaling_by_anchor_means_with_skewed_spots_in_sheet_order():
    # three spots per anchor, skewed so mean != median, samples interleaved as in a sheet
    samples = np.array(["c", "u", "x", "u", "c", "u", "x", "c"])
    raw = pd.DataFrame(
        {
            "DS": [2.0, 0.1, 1.0, 0.9, 3.1, 0.2, 1.9, 2.1],
            "DS_SO_y": [1.0, 0.0, 0.5, 0.0, 1.0, 0.3, 0.5, 4.0],
        }
    )
    scores = rescale(raw, samples, "u", "c")
    # DS: u mean (0.1 + 0.9 + 0.2)/3 = 0.4 (median 0.2); c mean (2.0 + 3.1 + 2.1)/3 = 2.4
    # (median 2.1); span 2.0, each spot (v - 0.4) / 2.0
    np.testing.assert_allclose(
        scores["DS"], [0.8, -0.15, 0.3, 0.25, 1.35, -0.1, 0.75, 0.85], atol=1e-12
    )
    # DS_SO_y: u mean 0.1, c mean 2.0 (median 1.0): span 1.9
    np.testing.assert_allclose(scores["DS_SO_y"], (raw["DS_SO_y"] - 0.1) / 1.9, atol=1e-12)
    # x, the sample scored: mean of its spots (1.0 - 0.4)/2 and (1.9 - 0.4)/2 = 0.525
    assert scores["DS"][samples == "x"].mean() == pytest.approx(0.525)


def test_identical_anchors_are_an_error():
    raw = pd.DataFrame({"DS": [1.0, 1.0]})
    with pytest.raises(SimsflowError, match="the anchors do not differ"):
        rescale(raw, np.array(["u", "c"]), "u", "c")


def test_unknown_pathway_group_is_an_error():
    scaled = pd.DataFrame({"S3-": [0.1]})
    with pytest.raises(SimsflowError, match="pathway group 'PO_y' has no ion"):
        spot_scores(scaled, pd.Series({"S3-": 1.0}), {"S3-": "polysulfide"}, ["PO_y"])


def test_electrochemical_scores_hand_computed():
    rates = pd.DataFrame(
        {"sample": ["bare", "coated"], "capacity_0.1C": [120.0, 132.0], "capacity_2C": [60.0, 79.2]}
    )
    scores = electrochemical_scores(rates, "bare").set_index("sample")
    assert scores.loc["bare"].tolist() == [1.0, 1.0]
    assert scores.loc["coated", "QS_0"] == pytest.approx(1.1)
    assert scores.loc["coated", "QS_ret"] == pytest.approx((79.2 / 132) / (60 / 120))
    with pytest.raises(SimsflowError, match="no row for the uncoated sample 'other'"):
        electrochemical_scores(rates, "other")


def test_radar_orientation_further_out_is_better():
    scores = pd.DataFrame({"sample": ["a", "b"], "DS": [0.2, 1.0], "QS_0": [1.1, 1.0]})
    values = radar_values(scores, ["DS", "QS_0"])
    assert values["DS"].tolist() == [0.8, 0.0]
    assert values["QS_0"].tolist() == [1.1, 1.0]


def test_rate_test_table_errors(tmp_path):
    path = tmp_path / "rates.tsv"
    path.write_text("sample\tcapacity_0.1C\tcapacity_2C\nA\t120\tfast\n")
    with pytest.raises(ConfigError, match=r"line 2, column 'capacity_2C': 'fast' is not a number"):
        read_rate_test(path)
    path.write_text("sample\tcapacity_0.1C\tcapacity_2C\nA\t120\t-3\n")
    with pytest.raises(ConfigError, match="capacity -3 is not positive"):
        read_rate_test(path)
    path.write_text("sample\tcapacity_0.1C\nA\t120\n")
    with pytest.raises(ConfigError, match="missing column"):
        read_rate_test(path)


def test_shipped_rate_test_is_the_simulator_design():
    from simsflow.simulate.study import rate_test

    shipped = read_rate_test(ROOT / "config" / "cathode" / "rate_test.tsv")
    pd.testing.assert_frame_equal(shipped, rate_test("cathode"), check_dtype=False)
