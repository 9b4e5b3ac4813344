"""Mass calibration of each spectrum against reference ions.

The time-of-flight law t = t0 + k*sqrt(m) makes sqrt(m/z) linear in the flight time, hence in the
channel number: sqrt(m) = a*channel + b. Where an export has no channel column, the stored m/z
stands in for time: sqrt(m) = a*sqrt(m_stored) + b, which corrects the same two errors (offset and
scale). Reference peaks are located by their apex (a parabola through the log counts of the top
three bins, exact for a Gaussian core and blind to the high-mass tail), first in a wide window
around the expected m/z, then, after a first robust fit, in a narrow window around the predicted
position. The fit is robust (Huber loss); the worst ion beyond the residual limit is dropped and
the fit repeated while more than ``min_ions`` remain. Fewer ions, or a residual still above the
limit, is a failure: an error, or the spectrum excluded and listed (never silently kept).

Reference ions follow common practice (unsaturated, interference-free, spanning the mass range;
Green, Gilmore & Seah, Appl. Surf. Sci. 2006 on ToF-SIMS mass calibration).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from .chemistry import ion_mz
from .errors import SimsflowError

DEFAULT_REFERENCE_IONS = {
    "negative": ("H-", "C-", "CH-", "O-", "OH-", "C2-", "C2H-"),
    "positive": ("H+", "7Li+", "Na+", "K+", "CH3+", "C2H3+", "C2H5+"),
}

CALIBRATION_COLUMNS = [
    "study",
    "sample",
    "spot",
    "model",
    "a",
    "b",
    "n_reference_ions",
    "reference_ions",
    "ppm_before",
    "ppm_after",
    "max_abs_ppm_after",
    "residual_limit_ppm",
    "status",
    "reason",
]


@dataclass(frozen=True)
class CalibrationSettings:
    reference_ions: tuple[str, ...]
    search_ppm: float = 500.0
    refine_ppm: float = 60.0
    max_residual_ppm: float = 20.0
    min_ions: int = 3
    min_counts: float = 20.0
    on_failure: str = "stop"  # or "exclude"


def reference_ions_for(
    polarity: str, extra: list[str] | tuple[str, ...] = (), replace_defaults: bool = False
) -> tuple[str, ...]:
    """Default reference ions of a polarity plus the study's own, in m/z order."""
    defaults = () if replace_defaults else DEFAULT_REFERENCE_IONS[polarity]
    names = dict.fromkeys([*defaults, *extra])
    return tuple(sorted(names, key=ion_mz))


def peak_apex(x: np.ndarray, counts: np.ndarray, i: int) -> float:
    """Sub-bin apex position of the peak whose highest bin is ``i``.

    A Gaussian is a parabola in log space, so three bins give its centre exactly; with an empty
    neighbour the intensity-weighted centre of the three bins is used instead.
    """
    if i <= 0 or i >= counts.size - 1:
        return float(x[i])
    y = counts[i - 1 : i + 2].astype(float)
    if np.all(y > 0):
        ly = np.log(y)
        denom = ly[0] - 2.0 * ly[1] + ly[2]
        if denom < 0:
            offset = 0.5 * (ly[0] - ly[2]) / denom
            step = x[i + 1] - x[i] if offset > 0 else x[i] - x[i - 1]
            return float(x[i] + np.clip(offset, -0.5, 0.5) * step)
    return float(np.dot(x[i - 1 : i + 2], y) / y.sum())


def _locate(x, mz_stored, counts, centre_mz, ppm, min_counts):
    """Apex (on the x axis) of the strongest peak within +-ppm of centre_mz, and its limit.

    Returns (apex, half_bin_ppm): half_bin_ppm is half the local bin width in ppm when the peak
    is under-sampled (a single bin above half maximum), where no apex estimate can be better
    than that; 0 otherwise. (nan, 0) when there is no peak.
    """
    centre = int(np.searchsorted(mz_stored, centre_mz))
    # at least three bins either side, however narrow the window in ppm
    lo = min(int(np.searchsorted(mz_stored, centre_mz * (1 - ppm * 1e-6))), centre - 3)
    hi = max(int(np.searchsorted(mz_stored, centre_mz * (1 + ppm * 1e-6))), centre + 3)
    lo, hi = max(lo, 1), min(hi, mz_stored.size - 1)
    if hi - lo < 3:
        return np.nan, 0.0
    i = lo + int(np.argmax(counts[lo:hi]))
    if counts[i] < min_counts or i in (lo, hi - 1):  # no peak, or only a flank of one
        return np.nan, 0.0
    single = counts[i - 1] < 0.5 * counts[i] and counts[i + 1] < 0.5 * counts[i]
    half_bin = 0.5 * (mz_stored[i + 1] - mz_stored[i - 1]) / 2 / mz_stored[i] * 1e6
    return peak_apex(x, counts, i), (half_bin if single else 0.0)


def fit_tof(x: np.ndarray, mz: np.ndarray) -> tuple[float, float]:
    """Robust fit of sqrt(mz) = a*x + b (Huber loss; residuals scaled to about 1 ppm)."""
    s = np.sqrt(mz)
    a0, b0 = np.polyfit(x, s, 1)
    scale = 5e-7 * s  # half a ppm of sqrt(m/z) is one ppm of m/z

    def residual(p):
        return (p[0] * x + p[1] - s) / scale

    result = least_squares(residual, [a0, b0], loss="huber", f_scale=10.0, x_scale="jac")
    return float(result.x[0]), float(result.x[1])


def ppm_error(x, a, b, mz):
    return ((a * x + b) ** 2 / mz - 1.0) * 1e6


def _locate_all(x, mz_stored, counts, targets, ppm, min_counts):
    found = [_locate(x, mz_stored, counts, m, ppm, min_counts) for m in targets]
    return np.array([f[0] for f in found]), np.array([f[1] for f in found])


def calibrate_spectrum(
    x: np.ndarray, mz_stored: np.ndarray, counts: np.ndarray, settings: CalibrationSettings
) -> dict:
    """Calibrate one spectrum; returns parameters, ions used, ppm errors, status and reason.

    The residual limit of an ion is ``max_residual_ppm``, or half a bin where the export is so
    coarsely binned that its peak fills a single bin (then no calibration can do better; the
    limit used is reported).
    """
    names = np.array(settings.reference_ions)
    exact = np.array([ion_mz(n) for n in names])
    inside = (exact > mz_stored[0]) & (exact < mz_stored[-1])
    names, exact = names[inside], exact[inside]
    apex, _ = _locate_all(x, mz_stored, counts, exact, settings.search_ppm, settings.min_counts)
    found = np.isfinite(apex)
    result = {"a": np.nan, "b": np.nan, "n_reference_ions": int(found.sum())}
    result.update(
        reference_ions="",
        ppm_before=np.nan,
        ppm_after=np.nan,
        max_abs_ppm_after=np.nan,
        residual_limit_ppm=settings.max_residual_ppm,
    )
    if found.sum() < settings.min_ions:
        return {
            **result,
            "status": "failed",
            "reason": f"{int(found.sum())} reference ions found, need {settings.min_ions}",
        }
    stored_at_apex = np.interp(apex[found], x, mz_stored)
    ppm_before = (stored_at_apex / exact[found] - 1.0) * 1e6
    a, b = fit_tof(apex[found], exact[found])
    # second pass: look again where the first fit predicts each ion
    predicted_mz = np.interp((np.sqrt(exact) - b) / a, x, mz_stored)
    apex, half_bin = _locate_all(
        x, mz_stored, counts, predicted_mz, settings.refine_ppm, settings.min_counts
    )
    limit = np.maximum(settings.max_residual_ppm, half_bin)
    use = np.isfinite(apex)
    while use.sum() >= settings.min_ions:
        a, b = fit_tof(apex[use], exact[use])
        excess = np.abs(ppm_error(apex, a, b, exact)) - limit
        worst = int(np.nanargmax(np.where(use, excess, -np.inf)))
        if excess[worst] <= 0 or use.sum() == settings.min_ions:
            break
        use[worst] = False
    if use.sum() < settings.min_ions:
        return {
            **result,
            "status": "failed",
            "reason": f"{int(use.sum())} reference ions found, need {settings.min_ions}",
        }
    residual = ppm_error(apex[use], a, b, exact[use])
    result.update(
        a=a,
        b=b,
        n_reference_ions=int(use.sum()),
        reference_ions=",".join(names[use]),
        ppm_before=float(np.median(np.abs(ppm_before))),
        ppm_after=float(np.median(np.abs(residual))),
        max_abs_ppm_after=float(np.max(np.abs(residual))),
        residual_limit_ppm=float(np.max(limit[use])),
    )
    over = np.abs(residual) > limit[use]
    if over.any():
        worst = int(np.argmax(np.abs(residual) - limit[use]))
        return {
            **result,
            "status": "failed",
            "reason": f"residual {residual[worst]:+.1f} ppm ({names[use][worst]}) above the "
            f"limit of {limit[use][worst]:.0f} ppm",
        }
    return {**result, "status": "ok", "reason": ""}


def calibration_axis(spectra: pd.DataFrame) -> tuple[str, np.ndarray]:
    """The axis the fit is made on: channels when the export has them, else sqrt(stored m/z)."""
    channel = spectra["channel"]
    if channel.notna().all():
        return "channel", channel.to_numpy(dtype=float)
    return "mz", np.sqrt(spectra["mz"].to_numpy(dtype=float))


def calibrate_sample(spectra: pd.DataFrame, settings: CalibrationSettings) -> pd.DataFrame:
    """Calibrate every spot of one sample's spectra table (columns as the import writes them).

    A failed spectrum raises SimsflowError naming it, unless ``on_failure`` is ``exclude``:
    then it is kept in the table with status ``excluded`` and its reason.
    """
    rows = []
    for (study, sample, spot), one in spectra.groupby(["study", "sample", "spot"], sort=False):
        model, x = calibration_axis(one)
        result = calibrate_spectrum(x, one["mz"].to_numpy(), one["intensity"].to_numpy(), settings)
        if result["status"] == "failed":
            if settings.on_failure != "exclude":
                raise SimsflowError(
                    f"calibration of sample '{sample}' spot '{spot}' failed: {result['reason']}",
                    hint="check the reference ions in the config, or set "
                    "calibration.on_failure: exclude to list such spectra in QC instead",
                )
            result["status"] = "excluded"
        rows.append({"study": study, "sample": sample, "spot": spot, "model": model, **result})
    return pd.DataFrame(rows, columns=CALIBRATION_COLUMNS)


def calibrated_mz(x: np.ndarray, a: float, b: float) -> np.ndarray:
    return (a * x + b) ** 2


def calibrated_spots(spectra: pd.DataFrame, calibration: pd.DataFrame):
    """Yield (spot key, calibrated m/z, intensity) for every spot whose calibration is ok."""
    cal = calibration.set_index("spot")
    for (study, sample, spot), one in spectra.groupby(["study", "sample", "spot"], sort=False):
        c = cal.loc[spot]
        if c["status"] != "ok":
            continue
        if c["model"] == "channel":
            x = one["channel"].to_numpy(dtype=float)
        else:
            x = np.sqrt(one["mz"].to_numpy(dtype=float))
        yield (study, sample, spot), calibrated_mz(x, c["a"], c["b"]), one["intensity"].to_numpy()
