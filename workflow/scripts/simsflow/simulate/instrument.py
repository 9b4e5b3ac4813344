"""A time-of-flight SIMS instrument model: from expected ion yields to an exported spectrum.

Physics, each step a function of its own:
- flight time t = t0 + k*sqrt(m/z); a time-to-digital converter with fixed channels, exported
  binned by ``binning`` channels (channel column = bin centre, as SurfaceLab writes it);
- peak shape in time: Gaussian core whose FWHM is (t - t0)/(2R) (mass resolution R = m/dm)
  combined in quadrature with a fixed primary-pulse width, so resolution drops at low mass, and an
  exponential tail towards long flight times (high mass), longer for atomic ions;
- isotopologue patterns from formulas and natural abundances (``simsflow.chemistry``);
- a smooth background, binomial single-ion counting per primary shot with a dead time after each
  detected ion (Stephan et al.'s model): bins inside a dead window after an intense peak and the
  intense peaks themselves are undercounted, so uncorrected total ion counts are biased low;
- optional instrument dead-time (Poisson) correction of the exported counts;
- a stored mass calibration that is slightly wrong (tens to hundreds of ppm), as real stored
  calibrations drift, used to write the m/z column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np
from scipy.special import ndtr

from .. import deadtime
from ..chemistry import isotope_pattern, parse_ion

FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))


@dataclass(frozen=True)
class Instrument:
    """Nominal settings of the simulated instrument (per-spectrum values are drawn around them)."""

    mass_max: float = 150.0
    channel_width_ns: float = 0.05
    binning: int = 16
    k_ns: float = 3200.0  # flight time per sqrt(u): about 2 kV extraction over about 2 m
    resolution: float = 5000.0
    resolution_spread: float = 0.08  # per-spectrum resolution drawn from R*(1 +- spread)
    pulse_width_ns: float = 0.8  # FWHM of the primary pulse: limits resolution at low mass
    tail_start: float = 1.5  # the exponential tail starts this many sigma above the centre
    tail_length: float = 2.0  # decay length of the tail in sigma (molecular ions)
    atomic_tail_length: float = 4.0  # atomic ions tail more
    dead_time_ns: float = 65.0
    n_shots: int = 1_500_000
    background_per_bin: float = 2.0
    calibration_error_ppm: tuple[float, float] = (20.0, 300.0)
    calibration_span: tuple[float, float] = (1.0, 150.0)
    deadtime_correction: bool = False


@dataclass(frozen=True)
class SpectrumParameters:
    """Per-spectrum draws: the truth about one acquisition."""

    resolution: float
    t0_ns: float
    k_ns: float
    stored_alpha: float  # stored sqrt(m) = (1 + alpha) * true sqrt(m) + beta
    stored_beta: float


@dataclass
class SimulatedSpectrum:
    """A simulated export: channels, m/z, counts and header lines."""

    channel: np.ndarray
    mz: np.ndarray
    intensity: np.ndarray
    header: list[str]
    params: SpectrumParameters
    expected: np.ndarray = field(repr=False)  # expected counts per bin before dead time


def draw_parameters(inst: Instrument, rng: np.random.Generator) -> SpectrumParameters:
    """Draw resolution, flight-time constants and a stored calibration error for one spectrum.

    The stored calibration error is fixed at both ends of ``calibration_span`` to values drawn
    from ``calibration_error_ppm`` with one sign; the relative error is linear in 1/sqrt(m), so it
    stays inside the range over the whole span.
    """
    resolution = inst.resolution * (1.0 + rng.uniform(-1, 1) * inst.resolution_spread)
    t0 = rng.uniform(-60.0, -20.0)
    k = inst.k_ns * (1.0 + rng.uniform(-1e-3, 1e-3))
    lo, hi = inst.calibration_error_ppm
    sign = rng.choice([-1.0, 1.0])
    ppm = sign * rng.uniform(lo, hi, size=2)
    m = np.asarray(inst.calibration_span, dtype=float)
    q = np.sqrt(1.0 + ppm * 1e-6) - 1.0  # (1 + q)^2 = m_stored / m_true
    # q = alpha + beta / sqrt(m_true) at both ends of the span
    beta = (q[0] - q[1]) / (1 / np.sqrt(m[0]) - 1 / np.sqrt(m[1]))
    alpha = q[0] - beta / np.sqrt(m[0])
    return SpectrumParameters(resolution, t0, k, float(alpha), float(beta))


def stored_mz_error_ppm(params: SpectrumParameters, mz: np.ndarray) -> np.ndarray:
    """Relative error (ppm) of the stored calibration at true m/z values."""
    s = np.sqrt(np.asarray(mz, dtype=float))
    stored = (1.0 + params.stored_alpha) * s + params.stored_beta
    return ((stored / s) ** 2 - 1.0) * 1e6


def bin_axis(inst: Instrument, params: SpectrumParameters) -> tuple[np.ndarray, np.ndarray]:
    """Bin edges (ns) and bin-centre channels covering 0 .. mass_max."""
    bin_ns = inst.channel_width_ns * inst.binning
    t_max = params.t0_ns + params.k_ns * np.sqrt(inst.mass_max)
    n_bins = int(np.ceil(t_max / bin_ns))
    edges = np.arange(n_bins + 1, dtype=float) * bin_ns
    channel = np.arange(n_bins, dtype=np.int64) * inst.binning + inst.binning // 2
    return edges, channel


def peak_fwhm_ns(inst: Instrument, params: SpectrumParameters, mz: np.ndarray) -> np.ndarray:
    """Peak FWHM in flight time: mass resolution and primary-pulse width in quadrature."""
    flight = params.k_ns * np.sqrt(np.asarray(mz, dtype=float))
    return np.hypot(flight / (2.0 * params.resolution), inst.pulse_width_ns)


def _shape_cdf(x: np.ndarray, sigma: float, j: float, lam: float) -> np.ndarray:
    """Normalized cumulative area of a Gaussian core with an exponential high-side tail.

    x is the distance from the peak centre; the shape is exp(-x^2/2 sigma^2) up to j*sigma and
    continues as exp(-j^2/2) * exp(-(x - j sigma)/lam) beyond (continuous, FWHM unchanged for
    j > 1.18).
    """
    root = sigma * np.sqrt(2.0 * np.pi)
    g_j = np.exp(-0.5 * j * j)
    core = root * ndtr(np.minimum(x / sigma, j))
    beyond = np.maximum(x - j * sigma, 0.0)
    tail = g_j * lam * -np.expm1(-beyond / lam)
    area = root * ndtr(j) + g_j * lam
    return (core + tail) / area


@cache
def _pattern(ion: str) -> tuple[np.ndarray, np.ndarray, bool]:
    masses, abundances = isotope_pattern(ion)
    return masses, abundances, parse_ion(ion).n_atoms == 1


def expected_counts(
    inst: Instrument,
    params: SpectrumParameters,
    edges_ns: np.ndarray,
    ion_counts: dict[str, float],
    background: float,
) -> np.ndarray:
    """Expected counts per bin (no dead time) for ions with given total expected counts."""
    n_bins = edges_ns.size - 1
    s_edges = (edges_ns - params.t0_ns) / params.k_ns  # true sqrt(m/z) at bin edges
    expected = np.full(n_bins, 0.0)
    # smooth background: flat plus a decaying low-mass part, per bin
    s_mid = np.clip(0.5 * (s_edges[:-1] + s_edges[1:]), 0.0, None)
    expected += background * (1.0 + 4.0 * np.exp(-s_mid / 2.0))
    for ion in sorted(ion_counts):
        total = ion_counts[ion]
        if total <= 0:
            continue
        masses, abundances, atomic = _pattern(ion)
        tail = inst.atomic_tail_length if atomic else inst.tail_length
        centres = params.t0_ns + params.k_ns * np.sqrt(masses)
        sigmas = peak_fwhm_ns(inst, params, masses) / FWHM_PER_SIGMA
        for centre, sigma, abundance in zip(centres, sigmas, abundances, strict=True):
            lam = tail * sigma
            lo = np.searchsorted(edges_ns, centre - 8.0 * sigma) - 1
            hi = np.searchsorted(edges_ns, centre + inst.tail_start * sigma + 20.0 * lam) + 1
            lo, hi = max(lo, 0), min(hi, n_bins)
            if hi <= lo:
                continue
            cdf = _shape_cdf(edges_ns[lo : hi + 1] - centre, sigma, inst.tail_start, lam)
            expected[lo:hi] += total * abundance * np.diff(cdf)
    return expected


def dead_window_bins(inst: Instrument) -> int:
    """Number of bins the detector's dead time covers after a count."""
    return deadtime.window_bins(inst.dead_time_ns, inst.channel_width_ns, inst.binning)


def detect(inst: Instrument, expected: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Single-ion counting with a dead time: counts observed over ``n_shots`` primary shots.

    In each shot a bin registers an ion only if no ion was registered in the dead window before
    it; per bin this gives a binomial count with p = exp(-L_prev/N) * (1 - exp(-l/N)).
    """
    n = float(inst.n_shots)
    prev = deadtime.preceding_sum(expected, dead_window_bins(inst))
    p = np.exp(-prev / n) * -np.expm1(-expected / n)
    return rng.binomial(inst.n_shots, np.clip(p, 0.0, 1.0)).astype(np.int64)


def simulate_spectrum(
    inst: Instrument,
    ion_counts: dict[str, float],
    rng: np.random.Generator,
    params: SpectrumParameters | None = None,
) -> SimulatedSpectrum:
    """One exported spectrum for ions with given expected counts (whole ion, all isotopes)."""
    if params is None:
        params = draw_parameters(inst, rng)
    edges, channel = bin_axis(inst, params)
    expected = expected_counts(inst, params, edges, ion_counts, inst.background_per_bin)
    counts = detect(inst, expected, rng)
    if inst.deadtime_correction:
        intensity = np.rint(deadtime.correct(counts, inst.n_shots, dead_window_bins(inst))).astype(
            np.int64
        )
    else:
        intensity = counts
    t_centre = channel * inst.channel_width_ns
    s_true = (t_centre - params.t0_ns) / params.k_ns
    s_stored = (1.0 + params.stored_alpha) * s_true + params.stored_beta
    # a real export starts where the stored calibration gives positive masses
    keep = s_stored > 0
    mz = np.round(s_stored[keep] ** 2, 6)
    channel, intensity, expected = channel[keep], intensity[keep], expected[keep]
    header = [
        f"# Binning: {inst.binning} channels",
        f"# Deadtime Correction: {'on' if inst.deadtime_correction else 'off'}",
    ]
    return SimulatedSpectrum(channel, mz, intensity, header, params, expected)
