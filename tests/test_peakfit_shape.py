"""The peak-shape estimate of simsflow.peakfit is a converged optimum, window by window.

Each isolated peak's width and tail come from a Levenberg-Marquardt fit that stops when its
own step is below a tolerance: so the answer does not change with a longer iteration limit,
does not depend on which other peaks are fitted beside it, sits within the tolerance of a
much tighter fit, and recovers the simulator's width.
"""

import numpy as np
import pytest
from scipy.optimize import nnls

from simsflow.calibrate import (
    CalibrationSettings,
    calibrate_spots,
    calibrated_spots,
    calibration_table,
    reference_ions_for,
)
from simsflow.chemistry import ion_mz, parse_ion
from simsflow.peakfit import (
    _fit_peaks,
    _peak_windows,
    _strongest,
    _tailed_cdf_terms,
    _two_term_nnls,
    estimate_shapes,
    tailed_cdf,
)
from simsflow.simulate.instrument import FWHM_PER_SIGMA, peak_fwhm_ns, simulate_spectrum
from simsflow.simulate.overlap import CALIBRANTS, overlap_spectrum, pair_counts
from simsflow.simulate.study import design, instrument, spot_ion_counts, spot_rng
from simsflow.simulate.study import mass_list as demo_mass_list
from simsflow.spots import Spot

CANDIDATES = [(ion_mz(n), n in ("H+", "Na+")) for n in CALIBRANTS]
KNOWN = np.array([m for m, _ in CANDIDATES] + [ion_mz("K+"), ion_mz("C3H3+")])


def _simulated(count, seed, resolution=4000):
    """Spectra on their true m/z axis with the simulator's sigma(m) of each."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        sim = overlap_spectrum(pair_counts("K+/C3H3+", 1), resolution, rng)
        spectrum, params = sim.spectrum, sim.spectrum.params
        t = spectrum.channel * sim.instrument.channel_width_ns
        mz = ((t - params.t0_ns) / params.k_ns) ** 2

        def sigma(m, sim=sim, params=params):
            fwhm_ns = peak_fwhm_ns(sim.instrument, params, np.array([m]))[0]
            return fwhm_ns / FWHM_PER_SIGMA * 2 * np.sqrt(m) / params.k_ns

        out.append((mz, spectrum.intensity.astype(float), sigma))
    return out


def _calibrated_cathode_windows(count):
    """The shape-fit windows of ``count`` calibrated spectra of the cathode demo (benchmark
    i's first sample; on these the former 40-iteration fit had not converged: doubling its
    limit moved a width by 6 %), all usable peaks of each."""
    inst, entry = instrument("cathode"), dict(design("cathode")["samples"][0], sample="S000")
    settings = CalibrationSettings(reference_ions_for("negative", ["S-", "Cl-", "S2-", "PS3-"]))
    spots = []
    for k in range(count):
        rng = spot_rng(7, "bench-fit", "S000", str(k))
        counts, _ = spot_ion_counts("cathode", entry, rng)
        sim = simulate_spectrum(inst, counts, rng)
        channel, intensity = sim.channel.astype(float), sim.intensity.astype(float)
        spots.append(Spot("cathode", "S000", str(k), channel, sim.mz, intensity))
    table = calibration_table(spots, calibrate_spots(spots, settings), settings)
    references = dict(zip(table["spot"], table["reference_ions"], strict=True))
    spectra = [(key[2], mz, y.astype(float)) for key, mz, y in calibrated_spots(spots, table)]
    candidates = [
        [(ion_mz(n), parse_ion(n).n_atoms == 1) for n in references[spot].split(",")]
        for spot, _, _ in spectra
    ]
    listed = [float(m) for m in demo_mass_list("cathode")["mz"]]
    known = np.sort(np.array(listed + [m for c in candidates for m, _ in c]))
    return [
        w[3]
        for (_, mz, y), c in zip(spectra, candidates, strict=True)
        for w in _peak_windows(mz, y, c, known, 500.0, max_peaks=20)
    ]


@pytest.fixture(scope="module")
def windows():
    return _calibrated_cathode_windows(10)


def test_shape_fit_unchanged_when_the_iteration_limit_is_doubled(windows):
    sigma, tail = _fit_peaks(windows)
    assert np.isfinite(sigma).sum() >= 0.95 * len(windows)
    sigma2, tail2 = _fit_peaks(windows, iterations=200)
    np.testing.assert_array_equal(sigma2, sigma)
    np.testing.assert_array_equal(tail2, tail)


def test_shape_fit_sits_within_its_tolerance_of_a_tight_optimum(windows):
    sigma, tail = _fit_peaks(windows)
    tight_sigma, tight_tail = _fit_peaks(windows, iterations=400, tolerance=1e-10)
    np.testing.assert_allclose(sigma, tight_sigma, rtol=1e-4)
    np.testing.assert_allclose(tail, tight_tail, rtol=1e-4)


def test_a_window_shape_does_not_depend_on_the_other_windows(windows):
    sigma, tail = _fit_peaks(windows)
    for k in range(len(windows)):
        alone_sigma, alone_tail = _fit_peaks([windows[k]])
        assert alone_sigma[0] == pytest.approx(sigma[k], rel=1e-9)
        assert alone_tail[0] == pytest.approx(tail[k], rel=1e-9)
    # and in another company (reversed, half of them)
    half = windows[::-2]
    sigma_h, _ = _fit_peaks(half)
    np.testing.assert_allclose(sigma_h, sigma[::-2], rtol=1e-9)


def test_an_unconverged_window_gives_no_width(windows):
    sigma, _ = _fit_peaks(windows, iterations=1)
    assert np.isnan(sigma).all()
    assert np.isfinite(_fit_peaks(windows, iterations=5)[0]).sum() < len(windows)


@pytest.mark.parametrize("resolution", [3000, 8000])
def test_shape_recovers_the_simulated_width(resolution):
    spectra = _simulated(3, seed=resolution, resolution=resolution)
    shapes = estimate_shapes(
        [(mz, counts) for mz, counts, _ in spectra], [CANDIDATES] * len(spectra), KNOWN
    )
    for shape, (_, _, sigma) in zip(shapes, spectra, strict=True):
        assert shape is not None
        for mz in (1.0, 7.0, 27.0, 39.0):
            assert shape.sigma(mz) == pytest.approx(sigma(mz), rel=0.03)


def test_analytic_derivatives_match_finite_differences():
    x = np.linspace(-0.05, 0.2, 2001)[None, :]
    sigma, tail, h = np.array([[0.01]]), np.array([[3.0]]), 1e-6
    cdf, d_centre, d_log_sigma, d_log_tail = _tailed_cdf_terms(x, sigma, tail)
    np.testing.assert_allclose(cdf, tailed_cdf(x, sigma, tail), atol=1e-15)
    numeric = (tailed_cdf(x - h, sigma, tail) - tailed_cdf(x + h, sigma, tail)) / (2 * h)
    np.testing.assert_allclose(d_centre, numeric, atol=1e-4 * np.abs(numeric).max())
    up, down = np.exp(h), np.exp(-h)
    numeric = (tailed_cdf(x, sigma * up, tail) - tailed_cdf(x, sigma * down, tail)) / (2 * h)
    np.testing.assert_allclose(d_log_sigma, numeric, atol=1e-7)
    numeric = (tailed_cdf(x, sigma, tail * up) - tailed_cdf(x, sigma, tail * down)) / (2 * h)
    np.testing.assert_allclose(d_log_tail, numeric, atol=1e-9)


def test_strongest_peaks_take_turns_by_kind():
    usable = [(0, True, 50.0), (1, False, 900.0), (2, False, 800.0), (3, True, 70.0),
              (4, False, 10.0), (5, False, 700.0)]  # fmt: skip
    # the strongest of each kind, then the second of each: 3 and 1, then 0 and 2
    assert _strongest(usable, 4) == [0, 1, 2, 3]
    assert _strongest(usable, 2) == [1, 3]
    assert _strongest(usable, 10) == [0, 1, 2, 3, 4, 5]
    assert _strongest([], 3) == []


def test_two_term_nnls_equals_scipy():
    rng = np.random.default_rng(4)
    for _ in range(500):
        design = rng.normal(size=(int(rng.integers(2, 8)), 2)) * rng.uniform(0.1, 10.0, 2)
        target = rng.normal(size=design.shape[0])
        got = np.array(_two_term_nnls(design, target))
        expected = nnls(design, target)[0]
        assert (got >= 0).all()
        cost = np.sum((design @ got - target) ** 2)
        assert cost == pytest.approx(np.sum((design @ expected - target) ** 2), abs=1e-9)
