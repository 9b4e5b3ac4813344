"""Per-sample statistics equal pandas' describe; relative differences to the reference."""

import logging

import numpy as np
import pandas as pd
import pytest

from simsflow.errors import SimsflowError
from simsflow.stats import important_ions, sample_statistics


@pytest.fixture
def scaled():
    rng = np.random.default_rng(3)
    n = [5, 7, 4]
    return pd.DataFrame(
        {
            "study": "s",
            "sample": np.repeat(["ref", "b", "c"], n),
            "spot": [str(i) for k in n for i in range(k)],
            "X-": rng.lognormal(0, 1, sum(n)),
            "Y-": rng.normal(5, 1, sum(n)),
        }
    )


def test_statistics_equal_pandas_describe(scaled):
    table = sample_statistics(scaled, ["X-", "Y-"], {"X-": "g"}, "ref")
    for (sample, ion), row in table.set_index(["sample", "ion"]).iterrows():
        d = scaled.loc[scaled["sample"] == sample, ion].describe()
        assert row["n"] == d["count"]
        for ours, theirs in [
            ("min", "min"),
            ("q1", "25%"),
            ("median", "50%"),
            ("mean", "mean"),
            ("q3", "75%"),
            ("max", "max"),
            ("std", "std"),
        ]:
            assert row[ours] == pytest.approx(d[theirs], rel=1e-12), (sample, ion, ours)
    assert table["group"].tolist() == ["g", "", "g", "", "g", ""]


def test_relative_difference_to_the_reference(scaled):
    table = sample_statistics(scaled, ["X-", "Y-"], {}, "ref").set_index(["sample", "ion"])
    assert (table.loc["ref", "rel_diff_pct"] == 0).all()
    ref = scaled.loc[scaled["sample"] == "ref", "Y-"].mean()
    b = scaled.loc[scaled["sample"] == "b", "Y-"].mean()
    assert table.loc[("b", "Y-"), "rel_diff_pct"] == pytest.approx(100 * (b - ref) / ref)


def test_zero_reference_mean_is_reported_not_divided(scaled, caplog):
    scaled.loc[scaled["sample"] == "ref", "X-"] = 0.0
    with caplog.at_level(logging.WARNING):
        table = sample_statistics(scaled, ["X-"], {}, "ref")
    assert table["rel_diff_pct"].isna().all()
    assert "reference mean is 0 for X-" in caplog.text


def test_unknown_reference_sample(scaled):
    with pytest.raises(SimsflowError, match="reference sample 'nope' is not in the study"):
        sample_statistics(scaled, ["X-"], {}, "nope")


def test_important_ions_default_and_named():
    ions = ["H-", "S-", "S3-", "SO2-"]
    groups = {"H-": "contamination", "S-": "electrolyte", "S3-": "polysulfide", "SO2-": "SO_y"}
    assert important_ions(ions, groups, [], None) == (["S-", "S3-", "SO2-"], ["H-"])
    assert important_ions(ions, groups, ["H-"], ["SO_y"]) == (["H-", "SO2-"], ["S-", "S3-"])
    with pytest.raises(SimsflowError, match="important ion"):
        important_ions(ions, groups, ["Xx-"], None)
