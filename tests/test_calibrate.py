"""Mass calibration: accuracy against the simulator's truth, failures, real exports."""

import numpy as np
import pytest

from simsflow.calibrate import (
    CalibrationSettings,
    calibrate_sample,
    calibrated_mz,
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
