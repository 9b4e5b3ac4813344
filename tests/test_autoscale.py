"""scaling: auto - the one-standard-error rule, and the choice on simulated studies, with no
ConvergenceWarning on any chain."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

from simsflow.autoscale import CHAINS, choose_chain
from simsflow.classify import ClassifierSettings, predict_unknowns, train_study
from simsflow.errors import SimsflowError
from simsflow.io.model import read_model, write_model

from .conftest import ROOT
from .helpers import simulated_counts

IONS = pd.read_csv(ROOT / "config/lithium/mass_list.tsv", sep="\t")["ion"].tolist()
COMPOUNDS = ["Li2CO3", "Li2O", "Li3N", "LiH", "LiOH"]


def _table(means, ses, steps, eligible=None):
    return pd.DataFrame(
        {
            "scaling": [f"c{k}" for k in range(len(means))],
            "accuracy_mean": means,
            "accuracy_se": ses,
            "log_loss_mean": means,
            "log_loss_se": ses,
            "n_steps": steps,
            "eligible": [True] * len(means) if eligible is None else eligible,
        }
    )


def test_one_standard_error_rule_takes_the_simplest_chain_near_the_best():
    # best c2 (0.90 +- 0.04): c1 (0.87, one step) is within 0.86 and simpler; c0 (0.85) is not
    chosen, table = choose_chain(
        _table([0.85, 0.87, 0.90, 0.89], [0.01, 0.05, 0.04, 0.01], [1, 1, 2, 2]), "accuracy"
    )
    assert chosen == "c1"
    assert table["best"].tolist() == [False, False, True, False]
    assert table["within_1se"].tolist() == [False, True, True, True]


def test_fewer_steps_win_over_table_order_and_log_loss_is_lower_better():
    chosen, _ = choose_chain(_table([0.5, 0.2, 0.25], [0.01, 0.1, 0.1], [2, 2, 1]), "log_loss")
    assert chosen == "c2"  # best c1 (0.2 + 0.1); c2 within and has one step
    chosen, _ = choose_chain(_table([0.9, 0.9], [0.0, 0.0], [2, 1]), "accuracy")
    assert chosen == "c1"


def test_a_chain_not_eligible_is_never_chosen_even_when_best():
    chosen, table = choose_chain(
        _table([1.0, 0.7, 0.95], [0, 0.01, 0.02], [1, 1, 2], [False, True, True]), "accuracy"
    )
    assert chosen == "c2" and not table.loc[0, "chosen"]


@pytest.fixture(scope="module")
def lithium_peaks():
    entries = {c: {"powders": {c: 1.0}, "spots": 8} for c in COMPOUNDS}
    entries["mix"] = {
        "powders": {"Li2CO3": 0.5, "LiOH": 0.5},
        "spots": 4,
        "role": "predict",
        "label": "",
    }
    return simulated_counts("lithium", entries, IONS, seed=2)


def _auto(peaks, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return train_study(peaks, IONS, ClassifierSettings(scaling="auto", **kwargs), {}, "0" * 64)


def _within_one_se_of_best(table):
    chosen = table[table["chosen"]].iloc[0]
    eligible = table[table["eligible"]]
    best = eligible.loc[eligible["accuracy_mean"].idxmax()]
    assert chosen["accuracy_mean"] >= best["accuracy_mean"] - best["accuracy_se"] - 1e-12
    return chosen


def test_lithium_study_auto_choice_is_recorded_and_within_one_se(lithium_peaks, tmp_path):
    out = _auto(lithium_peaks)
    table = out["scaling_choice"]
    assert table["scaling"].tolist() == list(CHAINS)
    chosen = _within_one_se_of_best(table)
    document = out["document"]
    assert document["scaling_choice"]["chosen"] == chosen["scaling"]
    assert [s["config"] for s in document["scaling"]] == CHAINS[chosen["scaling"]]
    assert len(document["scaling_choice"]["table"]) == len(CHAINS)
    write_model(tmp_path / "model.json", document)
    reread = read_model(tmp_path / "model.json")  # the schema takes the choice
    assert reread["scaling_choice"]["chosen"] == chosen["scaling"]
    json.dumps(reread)
    _, samples = predict_unknowns(reread, lithium_peaks)
    top = samples.set_index("sample").loc["mix", [f"p_{c}" for c in COMPOUNDS]].nlargest(2)
    assert set(top.index) == {"p_Li2CO3", "p_LiOH"}


def test_chain_sensitive_study_picks_a_chain_within_one_se_of_the_best():
    # two carbonate/hydroxide ratios and an even mix, spots 0.5 lognormal apart in intensity:
    # the chains' CV accuracies span over 0.2
    entries = {
        name: {"powders": {"Li2CO3": a, "LiOH": 1 - a}, "spots": 10, "label": name}
        for name, a in (("carbonate_rich", 0.6), ("even", 0.5), ("hydroxide_rich", 0.4))
    }
    peaks = simulated_counts("lithium", entries, IONS, seed=3, spot_spread=0.5)
    table = _auto(peaks)["scaling_choice"]
    assert np.ptp(table["accuracy_mean"]) > 0.2
    chosen = _within_one_se_of_best(table)
    assert chosen["scaling"] != "none"


def test_candidates_restrict_the_comparison_and_may_name_none(lithium_peaks):
    out = _auto(lithium_peaks, candidates=("none", "sqrt_zscore"))
    assert out["scaling_choice"]["scaling"].tolist() == ["none", "sqrt_zscore"]
    assert out["scaling_choice"]["eligible"].all()


def test_a_zero_reference_ion_stops_with_every_spectrum_named(lithium_peaks):
    peaks = lithium_peaks.copy()
    peaks.loc[[0, 3, 9], "CO3-"] = 0.0
    settings = ClassifierSettings(scaling=({"method": "reference_ion", "ion": "CO3-"},))
    with pytest.raises(SimsflowError) as err:
        train_study(peaks, IONS, settings, {}, "0" * 64)
    text = str(err.value)
    assert "reference ion 'CO3-' has 0 counts in spectrum 'Li2CO3/01'" in text
    assert "also in Li2CO3/04, Li2O/02" in text
