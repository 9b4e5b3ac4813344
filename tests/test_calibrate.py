"""Mass calibration: accuracy against the simulator's truth, failures, real exports."""

import numpy as np
import pytest

from simsflow.calibrate import (
    CalibrationSettings,
    calibrate_sample,
    calibrated_mz,
    fit_tof,
    peak_apex,
    reference_ions_for,
)
from simsflow.chemistry import ion_mz
from simsflow.errors import SimsflowError
from simsflow.io.importer import import_sample
from simsflow.simulate.instrument import Instrument, simulate_spectrum

from .conftest import FIXTURES
from .helpers import spectra_frame

NEGATIVE = reference_ions_for("negative", ["CO3-"])
IONS = {
    "H-": 2e5,
    "C-": 5e4,
    "CH-": 8e4,
    "O-": 2e5,
    "OH-": 1e5,
    "C2-": 6e4,
    "C2H-": 9e4,
    "CO3-": 2e5,
    "LiCO3-": 6e4,
    "Li3C2O6-": 1e4,
}


def _table(spectra, with_channel=True):
    return spectra_frame(spectra, with_channel=with_channel)[0]


def _true_error_ppm(spectrum, inst, calibration_row, names):
    """Error of the calibrated mass axis at the true flight time of each ion (truth)."""
    p = spectrum.params
    mz = np.array([ion_mz(n) for n in names])
    channel = (p.t0_ns + p.k_ns * np.sqrt(mz)) / inst.channel_width_ns
    x = channel if calibration_row["model"] == "channel" else None
    if x is None:  # the stored m/z at that flight time, then the fitted correction
        s_stored = (1 + p.stored_alpha) * np.sqrt(mz) + p.stored_beta
        x = s_stored
    return (calibrated_mz(x, calibration_row["a"], calibration_row["b"]) / mz - 1) * 1e6


@pytest.fixture(scope="module")
def simulated():
    inst = Instrument(mass_max=150.0)
    rng = np.random.default_rng(42)
    return inst, [(f"{i:02d}", simulate_spectrum(inst, IONS, rng)) for i in range(6)]


@pytest.mark.parametrize("with_channel", [True, False], ids=["channel-axis", "mz-axis"])
def test_recalibration_removes_the_stored_error(simulated, with_channel):
    inst, spectra = simulated
    table = calibrate_sample(_table(spectra, with_channel), CalibrationSettings(NEGATIVE))
    assert (table["status"] == "ok").all()
    assert table["model"].unique().tolist() == ["channel" if with_channel else "mz"]
    assert (table["ppm_before"] > 15).all()
    others = ["LiCO3-", "Li3C2O6-"]  # not reference ions: the fit must carry over to them
    for (_, spectrum), (_, row) in zip(spectra, table.iterrows(), strict=True):
        assert np.median(np.abs(_true_error_ppm(spectrum, inst, row, NEGATIVE))) <= 10
        assert np.max(np.abs(_true_error_ppm(spectrum, inst, row, others))) <= 20


def test_peak_apex_is_exact_for_a_gaussian():
    x = np.arange(10.0)
    y = 1000 * np.exp(-0.5 * ((x - 4.3) / 1.2) ** 2)
    assert peak_apex(x, y, 4) == pytest.approx(4.3, abs=1e-9)


def test_too_few_reference_ions_is_an_error_naming_the_spectrum(simulated):
    _, spectra = simulated
    settings = CalibrationSettings(("Cl-", "S-", "C2H-"), min_ions=3)
    with pytest.raises(SimsflowError) as err:
        calibrate_sample(_table(spectra[:1]), settings)
    message = str(err.value)
    assert "calibration of sample 's' spot '00' failed: 1 reference ions found, need 3" in message
    assert "on_failure: exclude" in message


def test_excluded_spectra_are_listed_not_kept_silently(simulated):
    _, spectra = simulated
    settings = CalibrationSettings(("Cl-", "S-", "C2H-"), on_failure="exclude")
    table = calibrate_sample(_table(spectra[:2]), settings)
    assert table["status"].tolist() == ["excluded", "excluded"]
    assert table["reason"].str.contains("reference ions found").all()
    assert table["a"].isna().all()


def test_residual_above_the_limit_fails(simulated):
    _, spectra = simulated
    settings = CalibrationSettings(NEGATIVE, max_residual_ppm=0.01, min_ions=8)
    with pytest.raises(SimsflowError, match=r"residual [+-]\d+\.\d ppm \(.+\) above the limit"):
        calibrate_sample(_table(spectra[:1]), settings)


@pytest.mark.parametrize(
    ("name", "polarity"), [("N_Ru-Pt_Bi3_1.txt", "negative"), ("P_Ru-Pt_Bi3_1.txt", "positive")]
)
def test_real_exports_calibrate_with_the_default_reference_ions(name, polarity):
    table, _ = import_sample("ru", "x", ["1"], [FIXTURES / "iontof-ascii" / name])
    result = calibrate_sample(
        table.to_pandas(), CalibrationSettings(reference_ions_for(polarity))
    ).iloc[0]
    assert result["status"] == "ok"
    assert result["n_reference_ions"] >= 5
    # binned by 200 channels, a peak fills one bin: residuals are reported, limited to half a bin
    assert 0 < result["ppm_after"] < result["residual_limit_ppm"]
    assert np.isfinite(result["ppm_before"])


def _huber_loss(x, mz, a, b, f_scale=10.0):
    r = np.abs((a * x + b - np.sqrt(mz)) / (5e-7 * np.sqrt(mz)))
    return np.sum(np.where(r <= f_scale, 0.5 * r**2, f_scale * r - 0.5 * f_scale**2))


@pytest.mark.parametrize("seed", range(3))
def test_huber_fit_reaches_the_minimum_scipy_approaches(seed):
    # heavy-tailed errors of 1-300 ppm, 3-15 ions: the exact fit is never worse than scipy's
    # iterative least_squares(loss="huber"), and the warm start changes nothing
    from scipy.optimize import least_squares

    rng = np.random.default_rng(seed)
    for _ in range(100):
        n = int(rng.integers(3, 16))
        x = np.sort(rng.uniform(1e4, 5e5, n))
        mz = (1.5e-5 * x + 0.01) ** 2 * (1 + rng.standard_t(2, n) * rng.uniform(1, 300) * 1e-6)
        a, b = fit_tof(x, mz)
        s = np.sqrt(mz)
        a0, b0 = np.polyfit(x, s, 1)
        ref = least_squares(
            lambda p, x=x, s=s: (p[0] * x + p[1] - s) / (5e-7 * s),
            [a0, b0],
            loss="huber",
            f_scale=10.0,
            x_scale="jac",
        ).x
        ours, theirs = _huber_loss(x, mz, a, b), _huber_loss(x, mz, *ref)
        assert ours <= theirs * (1 + 1e-8) + 1e-9
        warm = fit_tof(x, mz, start=(ref[0] * 1.000001, ref[1]))
        assert _huber_loss(x, mz, *warm) == pytest.approx(ours, rel=1e-8, abs=1e-9)


def test_huber_fit_is_exact_on_a_perfect_line_and_bounds_a_gross_outlier():
    x = np.linspace(1e4, 4e5, 8)
    mz = (1.5e-5 * x + 0.01) ** 2
    assert fit_tof(x, mz) == pytest.approx((1.5e-5, 0.01), rel=1e-12)
    mz[3] *= 1 + 500e-6  # one peak 500 ppm off pulls the line by a bounded amount only
    others = np.delete(np.arange(8), 3)

    def worst_ppm(a, b):
        return np.max(np.abs(((a * x[others] + b) ** 2 / mz[others] - 1) * 1e6))

    assert worst_ppm(*fit_tof(x, mz)) < 3
    assert worst_ppm(*np.polyfit(x, np.sqrt(mz), 1)) > 20  # least squares is dragged along
