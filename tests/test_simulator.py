"""The simulator's physics, checked against its own configuration and natural constants."""

import hashlib

import numpy as np
import pandas as pd
import pytest

from simsflow import deadtime
from simsflow.chemistry import ion_mz
from simsflow.io.spectra import read_spectrum
from simsflow.simulate.demo import write_sample
from simsflow.simulate.instrument import (
    Instrument,
    SpectrumParameters,
    dead_window_bins,
    simulate_spectrum,
)
from simsflow.simulate.study import instrument, simulate_sample

# no dead-time losses, no background: the peaks alone
IDEAL = Instrument(mass_max=120.0, n_shots=10**12, background_per_bin=0.0, resolution_spread=0.0)


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_simulator_is_byte_for_byte_deterministic_for_a_seed(tmp_path):
    for run in ("a", "b"):
        write_sample("lithium", "LiOH", 7, tmp_path / run / "raw", tmp_path / run / "truth.pq")
    files = sorted(p.name for p in (tmp_path / "a" / "raw").iterdir())
    assert len(files) == 6
    for name in files:
        assert _sha(tmp_path / "a" / "raw" / name) == _sha(tmp_path / "b" / "raw" / name)
    assert _sha(tmp_path / "a" / "truth.pq") == _sha(tmp_path / "b" / "truth.pq")
    write_sample("lithium", "LiOH", 8, tmp_path / "c" / "raw", tmp_path / "c" / "truth.pq")
    assert _sha(tmp_path / "a" / "raw" / "01.txt") != _sha(tmp_path / "c" / "raw" / "01.txt")


def _area(spectrum, params, mz, half_width=0.02):
    """Counts within +-half_width of a true m/z (on the true mass axis)."""
    t = spectrum.channel * IDEAL.channel_width_ns
    true_mz = ((t - params.t0_ns) / params.k_ns) ** 2
    return spectrum.intensity[np.abs(true_mz - mz) < half_width].sum()


def test_lithium_isotopologue_ratio_is_natural_within_3_percent():
    rng = np.random.default_rng(3)
    spectrum = simulate_spectrum(IDEAL, {"LiO-": 2e6}, rng)
    seven = _area(spectrum, spectrum.params, ion_mz("LiO-"))
    six = _area(spectrum, spectrum.params, ion_mz("6LiO-"))
    natural = 0.9241 / 0.0759
    assert seven / six == pytest.approx(natural, rel=0.03)


@pytest.mark.parametrize("resolution", [3000.0, 5000.0, 8000.0])
def test_fitted_peak_width_matches_configured_resolution_within_10_percent(resolution):
    inst = Instrument(
        mass_max=120.0,
        n_shots=10**12,
        background_per_bin=0.0,
        resolution=resolution,
        resolution_spread=0.0,
        binning=4,
    )
    rng = np.random.default_rng(5)
    spectrum = simulate_spectrum(inst, {"C8H4-": 5e6}, rng)  # one isolated ion near 100 u
    peak = int(np.argmax(spectrum.intensity))
    top = spectrum.intensity[peak]
    core = np.arange(peak - 40, peak + 41)
    core = core[spectrum.intensity[core] > 0.5 * top]
    # a Gaussian core is a parabola in log space: fit it, read off sigma
    x = spectrum.mz[core] - spectrum.mz[peak]
    a, _, _ = np.polyfit(x, np.log(spectrum.intensity[core]), 2)
    fwhm = 2.0 * np.sqrt(2.0 * np.log(2.0)) * np.sqrt(-1.0 / (2.0 * a))
    measured = spectrum.mz[peak] / fwhm
    assert measured == pytest.approx(resolution, rel=0.10)


def test_counts_in_a_flat_region_are_poisson():
    spectrum = simulate_sample("lithium", "Li2CO3", 1)[0][1]
    flat = (spectrum.mz > 100.0) & (spectrum.mz < 138.0)  # no ion of the study lies here
    counts = spectrum.intensity[flat].astype(float)
    assert counts.size > 2000
    assert counts.var() / counts.mean() == pytest.approx(1.0, abs=0.1)


def test_stored_calibration_error_is_within_the_configured_range():
    inst = instrument("cathode")
    lo, hi = inst.calibration_error_ppm
    for spot, spectrum, truth, _ in simulate_sample("cathode", "cycled_LiNbO3", 1):
        p = spectrum.params
        t = spectrum.channel * inst.channel_width_ns
        true_mz = ((t - p.t0_ns) / p.k_ns) ** 2
        in_span = (true_mz >= 1.0) & (true_mz <= inst.mass_max)
        ppm = np.abs(spectrum.mz[in_span] / true_mz[in_span] - 1.0) * 1e6
        # m/z is written with 6 decimals: allow that rounding (<= 0.5 ppm at 1 u)
        assert ppm.min() >= lo - 0.6, spot
        assert ppm.max() <= hi + 0.6, spot
        assert truth["resolution"] > 0


def test_dead_time_saturates_intense_peaks_and_the_correction_restores_them():
    inst = Instrument(mass_max=40.0, n_shots=200_000, background_per_bin=0.0)
    rng = np.random.default_rng(11)
    true_counts = 150_000.0  # p = 1 - exp(-0.75) = 0.53 of the shots see this ion
    params = SpectrumParameters(5000.0, -40.0, 3200.0, 0.0, 0.0)
    spectrum = simulate_spectrum(inst, {"O-": true_counts}, rng, params)
    observed = spectrum.intensity.sum()
    expected_observed = inst.n_shots * -np.expm1(-true_counts / inst.n_shots)
    assert observed == pytest.approx(expected_observed, rel=0.01)
    assert observed < 0.8 * true_counts  # biased low, as real uncorrected data
    corrected = deadtime.correct(spectrum.intensity, inst.n_shots, dead_window_bins(inst))
    assert corrected.sum() == pytest.approx(true_counts, rel=0.01)


def test_mixture_is_not_the_average_of_its_components():
    """The matrix effect: a 1:1 mixture's ion ratios differ from the mean of the pure spectra."""
    from simsflow.simulate.study import _lithium_ions, design

    d = design("lithium")
    pure_a = _lithium_ions(d, {"Li2CO3": 1.0})
    pure_b = _lithium_ions(d, {"LiOH": 1.0})
    mix = _lithium_ions(d, {"Li2CO3": 0.5, "LiOH": 0.5})
    average = {k: 0.5 * pure_a.get(k, 0) + 0.5 * pure_b.get(k, 0) for k in mix}
    assert mix["CO3-"] / average["CO3-"] < 0.9  # carbonate ions suppressed by LiOH
    assert mix["LiO2H2-"] / average["LiO2H2-"] > 1.05  # hydroxide ions enhanced


def test_import_round_trips_a_simulated_file_exactly(tmp_path):
    simulated = simulate_sample("cathode", "uncycled", 1)[:2]
    write_sample("cathode", "uncycled", 1, tmp_path / "raw", tmp_path / "truth.pq")
    for spot, spectrum, _, _ in simulated:
        read = read_spectrum(tmp_path / "raw" / f"{spot}.txt")
        np.testing.assert_array_equal(read.channel, spectrum.channel)
        np.testing.assert_array_equal(read.mz, spectrum.mz)
        np.testing.assert_array_equal(read.intensity, spectrum.intensity)
        assert read.header == spectrum.header
        assert read.deadtime_corrected is True


def test_truth_table_is_separate_and_complete(tmp_path):
    write_sample("cathode", "cycled_X_thin", 1, tmp_path / "raw", tmp_path / "truth.parquet")
    truth = pd.read_parquet(tmp_path / "truth.parquet")
    assert set(truth["spot"]) == {f"{i:02d}" for i in range(1, 11)}
    assert (truth["polysulfide"] == 0.40).all()
    assert (truth["oxygenated"] == 0.84).all()
    assert {"expected_counts", "stored_error_ppm", "resolution", "t0_ns"} <= set(truth.columns)


def test_a_design_measured_in_the_other_polarity_uses_that_polarity_s_ions():
    from simsflow.simulate.study import design, mass_list, spot_ion_counts, spot_rng

    entry = design("lithium")["samples"][0]
    positive, _ = spot_ion_counts("lithium", entry, spot_rng(1, "t", "s", "1"), polarity="positive")
    negative, _ = spot_ion_counts("lithium", entry, spot_rng(1, "t", "s", "1"))
    assert positive and all(ion.endswith("+") for ion in positive)
    assert negative and all(ion.endswith("-") for ion in negative)
    assert max(positive, key=positive.get) == "Li+"  # the strongest positive ion of Li compounds
    ions = mass_list("lithium", polarity="positive")["ion"]
    assert set(positive) <= set(ions) and all(ion.endswith("+") for ion in ions)
    assert mass_list("lithium")["ion"].str.endswith("-").all()  # the design's own polarity
