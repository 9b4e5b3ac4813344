"""Overlap pairs at realistic resolution: ground truth for fitting overlapping peaks.

Ions that share a nominal mass on battery and alloy surfaces (Al+/C2H3+ at m/z 27, K+/C3H3+ at
39, 7Li+/6LiH+ at 7) are simulated together at a chosen mass resolution (3,000-8,000), export
binning (16 channels as usual, 100-200 as in coarsely binned exports) and amplitude ratio
(1:20-20:1), tails and counting noise on, beside strong isolated calibrant peaks from which the
calibration and the peak shape are learnt. The truth is each ion's expected counts, whole and
inside any interval of the true mass axis.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..calibrate import CalibrationSettings, calibrate_spots, calibrated_spots, calibration_table
from ..chemistry import ion_mz
from ..integrate import IntegrationSettings, integrate_sample
from ..spots import Spot
from .instrument import (
    Instrument,
    SimulatedSpectrum,
    bin_axis,
    draw_parameters,
    expected_counts,
    simulate_spectrum,
)

OVERLAP_PAIRS = {
    "Al+/C2H3+": ("Al+", "C2H3+"),
    "K+/C3H3+": ("K+", "C3H3+"),
    "7Li+/6LiH+": ("7Li+", "6LiH+"),
}
# strong, isolated positive ions: calibration and peak shape (atomic and molecular)
CALIBRANTS = {"H+": 3e4, "CH3+": 1e5, "Na+": 8e4, "C2H5+": 8e4, "C3H7+": 5e4}


@dataclass
class OverlapSpectrum:
    """A simulated spectrum with its truth: expected counts of every ion (all isotopologues)."""

    spectrum: SimulatedSpectrum
    ion_counts: dict[str, float]
    instrument: Instrument

    def expected_per_bin(self, ion: str) -> np.ndarray:
        """Expected counts of ``ion`` alone (no background, no dead time) in every exported bin."""
        return self._exported({ion: self.ion_counts[ion]}, 0.0)

    def background_per_bin(self) -> np.ndarray:
        """Expected background counts (no ion, no dead time) in every exported bin."""
        return self._exported({}, self.instrument.background_per_bin)

    def _exported(self, ion_counts: dict[str, float], background: float) -> np.ndarray:
        inst, spectrum = self.instrument, self.spectrum
        edges, _ = bin_axis(inst, spectrum.params)
        per_bin = expected_counts(inst, spectrum.params, edges, ion_counts, background)
        return per_bin[(spectrum.channel - inst.binning // 2) // inst.binning]

    def expected_in(self, ion: str, lower: float, upper: float, mz: np.ndarray) -> float:
        """Expected counts of ``ion`` in the bins whose m/z (``mz``: the spectrum's calibrated
        axis, as an interval sees it) lies in [lower, upper)."""
        inside = (mz >= lower) & (mz < upper)
        return float(self.expected_per_bin(ion)[inside].sum())


def overlap_spectrum(
    ions: dict[str, float],
    resolution: float,
    rng: np.random.Generator,
    *,
    binning: int = 16,
    instrument: Instrument | None = None,
) -> OverlapSpectrum:
    """One spectrum of ``ions`` (name -> expected counts) beside the calibrants, at mass
    resolution ``resolution`` (exactly: no per-spectrum spread) and export ``binning``; the
    export is dead-time corrected, as most are."""
    inst = instrument or Instrument(mass_max=60.0, deadtime_correction=True)
    inst = replace(inst, resolution=float(resolution), resolution_spread=0.0, binning=binning)
    counts = {**CALIBRANTS, **ions}
    params = draw_parameters(inst, rng)
    return OverlapSpectrum(simulate_spectrum(inst, counts, rng, params), counts, inst)


def pair_counts(pair: str, ratio: float, major: float = 1e5) -> dict[str, float]:
    """Expected counts of a pair's two ions at amplitude ratio first:second = ``ratio``; the
    stronger one gets ``major`` counts."""
    first, second = OVERLAP_PAIRS[pair]
    if ratio >= 1:
        return {first: major, second: major / ratio}
    return {first: major * ratio, second: major}


def _mass_list(ions: list[str], window_ppm: float, fit: dict[str, str]) -> pd.DataFrame:
    mz = np.array([ion_mz(n) for n in ions])
    half = mz * window_ppm * 1e-6
    return pd.DataFrame(
        {
            "ion": ions,
            "mz": mz,
            "lower": mz - half,
            "upper": mz + half,
            "group": "",
            "fit": [fit.get(n, "") for n in ions],
        }
    )


def overlap_errors(
    ion_counts: dict[str, float],
    resolution: float,
    n_spectra: int,
    seed: int,
    *,
    binning: int = 16,
    window_ppm: float = 300.0,
    fit: dict[str, str] | None = None,
    method: str = "auto",
) -> pd.DataFrame:
    """Interval integration and fitting of ``ion_counts`` against the truth, one row per
    spectrum and ion: truth (expected counts in the ion's interval on the calibrated axis),
    interval and fitted areas, the fit's standard error, its whole-peak total and the true one.

    The spectra go through the library as a real sample does (calibration on the calibrants,
    then ``integrate_sample``); the mass list gives each ion ``window_ppm`` either side and the
    fit modes in ``fit`` (ion -> 'isotopes' | 'interval').
    """
    rng = np.random.default_rng(seed)
    simulated = [
        overlap_spectrum(ion_counts, resolution, rng, binning=binning) for _ in range(n_spectra)
    ]
    spots = [
        Spot(
            "overlap",
            "s",
            str(i),
            s.spectrum.channel.astype(float),
            s.spectrum.mz,
            s.spectrum.intensity.astype(float),
        )
        for i, s in enumerate(simulated)
    ]
    provenance = {"spots": [{"spot": s.spot, "deadtime_corrected": True} for s in spots]}
    references = tuple(sorted(CALIBRANTS, key=ion_mz))
    settings = CalibrationSettings(references)
    calibration = calibration_table(spots, calibrate_spots(spots, settings), settings)
    ions = sorted(ion_counts, key=ion_mz)
    mass_list = _mass_list(ions, window_ppm, fit or {})
    interval, _ = integrate_sample(spots, calibration, mass_list, provenance, IntegrationSettings())
    fitted, notes = integrate_sample(
        spots, calibration, mass_list, provenance, IntegrationSettings(method=method)
    )
    fits = notes[notes["cluster"].notna()].set_index(["spot", "ion"])
    axes = {key[2]: mz for key, mz, _ in calibrated_spots(spots, calibration)}
    rows = []
    for sim, spot in zip(simulated, spots, strict=True):
        if spot.spot not in axes:
            continue
        for ion, lower, upper in zip(ions, mass_list["lower"], mass_list["upper"], strict=True):
            fit_row = fits.loc[(spot.spot, ion)] if (spot.spot, ion) in fits.index else None
            rows.append(
                {
                    "spot": spot.spot,
                    "ion": ion,
                    "truth": sim.expected_in(ion, lower, upper, axes[spot.spot]),
                    "interval": float(interval.loc[interval["spot"] == spot.spot, ion].iloc[0]),
                    "fit": float(fitted.loc[fitted["spot"] == spot.spot, ion].iloc[0]),
                    "se": np.nan if fit_row is None else float(fit_row["se"]),
                    "total": np.nan if fit_row is None else float(fit_row["total"]),
                    "true_total": ion_counts[ion],
                }
            )
    return pd.DataFrame(rows)
