"""Scaling methods against hand-computed values, edge cases, and no leakage in CV."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline

from simsflow.errors import SimsflowError
from simsflow.estimators import estimator_class, make_scaler
from simsflow.scaling import (
    LogTransform,
    MaxRelativeScaler,
    MinMaxScaler,
    PoissonScaler,
    ReferenceIonScaler,
    SqrtTransform,
    TotalIonScaler,
    ZScoreScaler,
    scale_table,
)

X = pd.DataFrame(
    {
        "A-": [1.0, 4.0, 2.0],
        "B-": [3.0, 4.0, 6.0],
        "C-": [0.0, 2.0, 2.0],
        "total_counts": [8.0, 20.0, 20.0],
    },
    index=["s/1", "s/2", "t/1"],
)
IONS = X[["A-", "B-", "C-"]]


def test_total_ion_over_ions_and_with_exclusion():
    np.testing.assert_allclose(
        TotalIonScaler().fit_transform(IONS).to_numpy(),
        [[1 / 4, 3 / 4, 0], [4 / 10, 4 / 10, 2 / 10], [2 / 10, 6 / 10, 2 / 10]],
    )
    np.testing.assert_allclose(
        TotalIonScaler(exclude=["B-"]).fit_transform(IONS).to_numpy()[0], [1, 3, 0]
    )


def test_total_ion_over_the_whole_spectrum_drops_the_total_column():
    out = TotalIonScaler(basis="spectrum").fit_transform(X)
    assert list(out.columns) == ["A-", "B-", "C-"]
    np.testing.assert_allclose(out.to_numpy()[0], [1 / 8, 3 / 8, 0])


def test_reference_ion():
    np.testing.assert_allclose(
        ReferenceIonScaler(ion="B-").fit_transform(IONS).to_numpy()[:, 0], [1 / 3, 1, 1 / 3]
    )


def test_minmax_per_ion_and_per_spectrum():
    per_ion = MinMaxScaler(axis="ion").fit_transform(IONS).to_numpy()
    np.testing.assert_allclose(per_ion[:, 0], [0, 1, 1 / 3])
    np.testing.assert_allclose(per_ion[:, 1], [0, 1 / 3, 1])
    per_spectrum = MinMaxScaler(axis="spectrum").fit_transform(IONS).to_numpy()
    np.testing.assert_allclose(per_spectrum, [[1 / 3, 1, 0], [1, 1, 0], [0, 1, 0]])


def test_max_relative_zscore_poisson_sqrt_log():
    np.testing.assert_allclose(
        MaxRelativeScaler().fit_transform(IONS).to_numpy()[:, 1], [0.5, 4 / 6, 1]
    )
    a = np.array([1.0, 4.0, 2.0])
    np.testing.assert_allclose(
        ZScoreScaler().fit_transform(IONS).to_numpy()[:, 0], (a - a.mean()) / a.std()
    )
    g = IONS.to_numpy().mean(axis=1)
    h = IONS.to_numpy().mean(axis=0)
    np.testing.assert_allclose(
        PoissonScaler().fit_transform(IONS).to_numpy(), IONS.to_numpy() / np.sqrt(np.outer(g, h))
    )
    np.testing.assert_allclose(
        SqrtTransform().fit_transform(IONS).to_numpy()[1], [2, 2, np.sqrt(2)]
    )
    np.testing.assert_allclose(LogTransform().fit_transform(IONS).to_numpy()[0], np.log([2, 4, 1]))


def test_chain_from_config():
    scaler = make_scaler([{"method": "total_ion"}, {"method": "max_relative"}])
    tic = IONS.to_numpy() / IONS.to_numpy().sum(axis=1, keepdims=True)
    np.testing.assert_allclose(scaler.fit_transform(IONS).to_numpy(), tic / tic.max(axis=0))


def test_constant_ion_maps_to_zero_not_nan():
    constant = IONS.assign(**{"C-": 5.0})
    for scaler in (MinMaxScaler(axis="ion"), ZScoreScaler()):
        out = scaler.fit_transform(constant)
        assert (out["C-"] == 0).all()
        assert not out.isna().any().any()
    never = IONS.assign(**{"C-": 0.0})
    assert (MaxRelativeScaler().fit_transform(never)["C-"] == 0).all()
    assert (PoissonScaler().fit_transform(never)["C-"] == 0).all()


@pytest.mark.parametrize(
    ("scaler", "data", "message"),
    [
        (
            TotalIonScaler(),
            IONS.assign(**{"A-": [0.0, 4, 2], "B-": [0.0, 4, 6], "C-": 0.0}),
            "total ion count is 0 in spectrum 's/1'",
        ),
        (ReferenceIonScaler(ion="D-"), IONS, "reference ion 'D-' is not in the peak table"),
        (ReferenceIonScaler(ion="C-"), IONS, "reference ion 'C-' has 0 counts in spectrum 's/1'"),
        (MinMaxScaler(), IONS, "minmax needs axis 'ion' or 'spectrum', got None"),
        (
            SqrtTransform(),
            IONS.assign(**{"B-": [3.0, -1, 6]}),
            "square root of a negative value in spectrum 's/2', ion 'B-'",
        ),
        (LogTransform(), IONS.assign(**{"C-": [0.0, -2, 2]}), "spectrum 's/2', ion 'C-'"),
        (TotalIonScaler(basis="spectrum"), IONS, "needs the total_counts column"),
    ],
    ids=[
        "zero-total",
        "missing-reference",
        "zero-reference",
        "no-axis",
        "negative-sqrt",
        "log-domain",
        "no-total-column",
    ],
)
def test_edge_cases_are_clear_errors(scaler, data, message):
    with pytest.raises(SimsflowError, match=message.replace("(", r"\(").replace(")", r"\)")):
        scaler.fit_transform(data)


def test_no_leakage_inside_cross_validation():
    rng = np.random.default_rng(0)
    data = pd.DataFrame(rng.lognormal(3, 1, size=(40, 5)), columns=list("abcde"))
    labels = np.repeat([0, 1], 20)
    pipe = make_pipeline(MinMaxScaler(axis="ion"), LogisticRegression())
    folds = list(StratifiedKFold(5, shuffle=True, random_state=1).split(data, labels))
    result = cross_validate(pipe, data, labels, cv=folds, return_estimator=True)
    for estimator, (train, _) in zip(result["estimator"], folds, strict=True):
        scaler = estimator[0]
        np.testing.assert_array_equal(scaler.min_, data.iloc[train].min().to_numpy())
        np.testing.assert_array_equal(scaler.max_, data.iloc[train].max().to_numpy())
    # test rows outside the training range leave [0, 1]: the test fold was never seen in fit
    outside = [
        (est[0].transform(data.iloc[test]).to_numpy() > 1).any()
        for est, (_, test) in zip(result["estimator"], folds, strict=True)
    ]
    assert any(outside)


def test_estimators_clone_with_their_parameters():
    scaler = make_scaler([{"method": "minmax", "axis": "spectrum"}, {"method": "log", "offset": 2}])
    copy = clone(scaler)
    assert copy.get_params()["0_minmax__axis"] == "spectrum"
    assert copy.get_params()["1_log__offset"] == 2


def test_unknown_method_and_bad_parameter():
    with pytest.raises(SimsflowError, match="unknown scaling method 'mystery'"):
        make_scaler([{"method": "mystery"}])
    with pytest.raises(SimsflowError, match=r"scaling method 'minmax': unexpected .* colour"):
        make_scaler([{"method": "minmax", "axis": "ion", "colour": "red"}])
    with pytest.raises(SimsflowError, match="at least one step"):
        make_scaler([])


def test_the_start_up_check_knows_every_method_and_its_parameters():
    """The scikit-learn-free check at Snakemake start and the estimators agree."""
    from simsflow.scaling import METHODS, STEP_PARAMETERS

    assert STEP_PARAMETERS.keys() == METHODS.keys()
    for name, cls in METHODS.items():
        # scikit-learn's own list of an estimator's parameters (from its __init__)
        params = estimator_class(cls)._get_param_names()
        assert sorted(params) == sorted(STEP_PARAMETERS[name]), name


def test_the_start_up_check_requires_the_parameters_without_a_default():
    """A parameter whose transformer default is None fails in the job: the start-up check
    asks for exactly those, and its example for each is a value the transformer takes."""
    from simsflow.scaling import METHODS, STEP_EXAMPLES, STEP_REQUIRED, check_scaling_steps

    for name, cls in METHODS.items():
        no_default = [p for p, v in estimator_class(cls)().get_params().items() if v is None]
        assert sorted(no_default) == sorted(STEP_REQUIRED.get(name, ())), name
    for name, example in STEP_EXAMPLES.items():
        step = {"method": name, **example}
        check_scaling_steps([step])
        ions = IONS.rename(columns={IONS.columns[0]: example.get("ion", IONS.columns[0])})
        make_scaler([step]).fit_transform(ions)


def test_snakemake_start_does_not_import_scikit_learn():
    """The library modules common.smk imports (at every start) leave scikit-learn out."""
    import re
    import subprocess
    import sys

    from .conftest import ROOT

    text = (ROOT / "workflow" / "rules" / "common.smk").read_text()
    modules = re.findall(r"^from (simsflow[\w.]*) import", text, re.M)
    assert {"simsflow.studies", "simsflow.settings"} <= set(modules)
    code = "; ".join(f"import {m}" for m in modules)
    code += "; import sys; print(sorted(m for m in sys.modules if m.startswith('sklearn')))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT / "workflow" / "scripts",
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]"


CHAINS = [
    [{"method": "total_ion"}],
    [{"method": "total_ion", "basis": "spectrum"}, {"method": "sqrt"}],
    [{"method": "total_ion", "exclude": ["B-"]}, {"method": "log", "offset": 0.5}],
    [{"method": "reference_ion", "ion": "B-"}, {"method": "zscore"}],
    [{"method": "minmax", "axis": "ion"}],
    [{"method": "minmax", "axis": "spectrum"}, {"method": "max_relative"}],
    [{"method": "poisson"}],
    [{"method": "none"}],
]


@pytest.mark.parametrize("steps", CHAINS, ids=lambda s: "-".join(x["method"] for x in s))
def test_a_table_scaled_without_scikit_learn_is_the_pipelines_to_the_last_bit(steps):
    """scale_table chains the methods itself; a model's Pipeline of the same chain gives the
    same numbers exactly."""
    from simsflow.scaling import fit_transform, ion_frame

    peaks = pd.DataFrame({"sample": ["a", "a", "b", "c"], "spot": ["1", "2", "1", "1"]}).assign(
        **{"A-": [1.0, 4, 2, 7], "B-": [3.0, 4, 6, 1], "C-": [0.5, 2, 2, 9]},
        total_counts=[18.0, 20, 20, 30],
    )
    frame = ion_frame(peaks, ["A-", "B-", "C-"], steps)
    ours = fit_transform(frame, steps)
    pipeline = make_scaler(steps).fit_transform(frame)
    pd.testing.assert_frame_equal(ours, pipeline, check_exact=True)
    table = scale_table(peaks, ["A-", "B-", "C-"], steps)
    np.testing.assert_array_equal(table[["A-", "B-", "C-"]].to_numpy(), pipeline.to_numpy())


def test_scaling_a_table_does_not_import_scikit_learn():
    """A scale job (scaling, statistics, box plots) leaves scikit-learn, seconds to import,
    out; a model's Pipeline (simsflow.estimators) still has it."""
    import subprocess
    import sys

    from .conftest import ROOT

    code = (
        "import sys; import pandas as pd; from simsflow.scaling import scale_table; "
        "peaks = pd.DataFrame({'sample': ['a', 'b'], 'spot': ['1', '1'], 'A-': [1.0, 2.0], "
        "'B-': [3.0, 1.0]}); "
        "scale_table(peaks, ['A-', 'B-'], [{'method': 'total_ion'}, {'method': 'zscore'}]); "
        "print('sklearn' in sys.modules); "
        "from simsflow.estimators import make_scaler; make_scaler([{'method': 'zscore'}]); "
        "print('sklearn' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT / "workflow" / "scripts",
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["False", "True"]


def test_scale_table_keeps_the_sheet_columns():
    peaks = pd.DataFrame(
        {
            "study": "s",
            "sample": ["a", "a", "b"],
            "spot": ["1", "2", "1"],
            "label": ["x", "x", "y"],
            **IONS.reset_index(drop=True),
            "total_counts": [8.0, 20, 20],
        }
    )
    out = scale_table(peaks, ["A-", "B-", "C-"], [{"method": "total_ion", "basis": "spectrum"}])
    assert list(out.columns) == ["study", "sample", "spot", "label", "A-", "B-", "C-"]
    np.testing.assert_allclose(out["A-"], [1 / 8, 4 / 20, 2 / 20])
