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

import functools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from .chemistry import ion_mz
from .errors import SimsflowError
from .spots import Spot, iter_spots

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


def calibration_settings(params: dict) -> CalibrationSettings:
    """Settings from a rule's params (lists, as YAML and Snakemake give them)."""
    return CalibrationSettings(**{**params, "reference_ions": tuple(params["reference_ions"])})


def reference_ions_for(
    polarity: str, extra: list[str] | tuple[str, ...] = (), replace_defaults: bool = False
) -> tuple[str, ...]:
    """Default reference ions of a polarity plus the study's own, in m/z order."""
    defaults = () if replace_defaults else DEFAULT_REFERENCE_IONS[polarity]
    names = dict.fromkeys([*defaults, *extra])
    return tuple(sorted(names, key=ion_mz))


def _apex3(x: list[float], y: list[float]) -> float:
    """Apex position of a peak from its highest bin and the two beside it.

    A Gaussian is a parabola in log space, so three bins give its centre exactly; with an empty
    neighbour the intensity-weighted centre of the three bins is used instead. Plain floats:
    calibration locates a handful of peaks per spectrum.
    """
    if y[0] > 0 and y[1] > 0 and y[2] > 0:
        l0, l1, l2 = math.log(y[0]), math.log(y[1]), math.log(y[2])
        denom = l0 - 2.0 * l1 + l2
        if denom < 0:
            offset = 0.5 * (l0 - l2) / denom
            step = x[2] - x[1] if offset > 0 else x[1] - x[0]
            return x[1] + min(max(offset, -0.5), 0.5) * step
    return (x[0] * y[0] + x[1] * y[1] + x[2] * y[2]) / (y[0] + y[1] + y[2])


def peak_apex(x: np.ndarray, counts: np.ndarray, i: int) -> float:
    """Sub-bin apex position of the peak whose highest bin is ``i`` (see ``_apex3``); a peak in
    the first or last bin keeps that bin's position."""
    if i <= 0 or i >= counts.size - 1:
        return float(x[i])
    return _apex3(x[i - 1 : i + 2].tolist(), counts[i - 1 : i + 2].astype(float).tolist())


def _locate_all(x, mz_stored, counts, targets, ppm, min_counts):
    """Apex (on the x axis) of the strongest peak within +-ppm of each target m/z, and its limit.

    Returns (apex, half_bin_ppm) arrays: half_bin_ppm is half the local bin width in ppm when
    the peak is under-sampled (a single bin above half maximum), where no apex estimate can be
    better than that; 0 otherwise. apex is NaN where there is no peak (too few counts, or only
    the flank of one at the window's edge). Windows span at least three bins either side.
    """
    n, k = mz_stored.size, targets.size
    edges = np.searchsorted(
        mz_stored, np.concatenate([targets, targets * (1 - ppm * 1e-6), targets * (1 + ppm * 1e-6)])
    ).tolist()
    apex, half_bin = [math.nan] * k, [0.0] * k
    for t in range(k):
        centre = edges[t]
        lo = max(min(edges[k + t], centre - 3), 1)
        hi = min(max(edges[2 * k + t], centre + 3), n - 1)
        if hi - lo < 3:
            continue
        i = lo + int(counts[lo:hi].argmax())
        y = counts[i - 1 : i + 2].tolist()
        if y[1] < min_counts or i in (lo, hi - 1):  # no peak, or only a flank of one
            continue
        m = mz_stored[i - 1 : i + 2].tolist()
        apex[t] = _apex3(x[i - 1 : i + 2].tolist(), y)
        if y[0] < 0.5 * y[1] and y[2] < 0.5 * y[1]:  # a single bin above half maximum
            half_bin[t] = 0.5 * (m[2] - m[0]) / 2 / m[1] * 1e6
    return np.array(apex), np.array(half_bin)


def _clip(value: float, f: float) -> float:
    return f if value > f else (-f if value < -f else value)


def _line_minimum(residual: list[float], direction: list[float], f: float) -> float:
    """Exact minimiser t >= 0 of the Huber loss along ``residual + t * direction``.

    Its derivative, sum(direction * clip(residual + t * direction, -f, f)), is non-decreasing
    and piecewise linear with breaks where a residual crosses +-f: walk the breaks until it
    changes sign and solve that linear piece.
    """
    pairs = list(zip(residual, direction, strict=True))
    breaks = sorted({(edge - r) / d for r, d in pairs if d for edge in (f, -f)} - {0.0})
    t0, s0 = 0.0, sum(d * _clip(r, f) for r, d in pairs)
    if s0 >= 0:
        return 0.0
    for t1 in breaks:
        if t1 <= 0:
            continue
        s1 = sum(d * _clip(r + t1 * d, f) for r, d in pairs)
        if s1 >= 0:
            return t0 - s0 * (t1 - t0) / (s1 - s0)
        t0, s0 = t1, s1
    return t0  # the slope stays negative only for a loss without minimum; stay at the last break


def fit_tof(
    x: np.ndarray, mz: np.ndarray, f_scale: float = 10.0, start: tuple[float, float] | None = None
) -> tuple[float, float]:
    """Robust fit of sqrt(mz) = a*x + b with the Huber loss.

    Residuals are measured in units of about one ppm of m/z (half a ppm of sqrt(m/z)); an ion
    further than ``f_scale`` from the line weighs in linearly, not quadratically. The loss is
    convex, smooth and piecewise quadratic: Newton directions from the inliers' curvature (a
    tiny ridge keeps it invertible when fewer than two ions are inliers) with an exact line
    search reach its minimum in a few steps; the minimum is the one scipy's
    ``least_squares(loss="huber")`` approaches iteratively. ``start`` (a, b), e.g. the fit
    before one ion was dropped, replaces the least-squares start. A handful of ions: plain
    floats.
    """
    s = np.sqrt(np.asarray(mz, dtype=float))
    inv = 1.0 / (5e-7 * s)
    x = np.asarray(x, dtype=float)
    centre = float(np.mean(x))
    spread = float(np.ptp(x)) or 1.0
    u = ((x - centre) / spread * inv).tolist()  # design: residual = c0*u + c1*v - t
    v = inv.tolist()
    t = (s * inv).tolist()
    rows = list(zip(u, v, t, strict=True))
    f = f_scale

    def solve(suu, suv, svv, bu, bv):
        det = suu * svv - suv * suv
        return (svv * bu - suv * bv) / det, (suu * bv - suv * bu) / det

    full = (
        sum(a * a for a in u),
        sum(a * b for a, b in zip(u, v, strict=True)),
        sum(b * b for b in v),
    )
    c0, c1 = solve(
        *full,
        sum(a * c for a, c in zip(u, t, strict=True)),
        sum(b * c for b, c in zip(v, t, strict=True)),
    )
    if start is not None:
        c0, c1 = start[0] * spread, start[1] + start[0] * centre
    ridge = [1e-9 * q for q in full]
    for _ in range(50):
        residual = [c0 * a + c1 * b - c for a, b, c in rows]
        psi = [_clip(r, f) for r in residual]
        g0 = sum(a * p for a, p in zip(u, psi, strict=True))
        g1 = sum(b * p for b, p in zip(v, psi, strict=True))
        inner = [(a, b) for (a, b, _), r in zip(rows, residual, strict=True) if -f <= r <= f]
        s0, s1 = solve(
            sum(a * a for a, _ in inner) + ridge[0],
            sum(a * b for a, b in inner) + ridge[1],
            sum(b * b for _, b in inner) + ridge[2],
            -g0,
            -g1,
        )
        step = _line_minimum(residual, [s0 * a + s1 * b for a, b, _ in rows], f)
        if step == 0.0 or (
            abs(step * s0) <= 1e-13 * max(abs(c0), 1.0)
            and abs(step * s1) <= 1e-13 * max(abs(c1), 1.0)
        ):
            break
        c0, c1 = c0 + step * s0, c1 + step * s1
    a = c0 / spread
    return float(a), float(c1 - a * centre)


def ppm_error(x, a, b, mz):
    return ((a * x + b) ** 2 / mz - 1.0) * 1e6


@functools.lru_cache(maxsize=64)
def _exact_masses(names: tuple[str, ...]) -> np.ndarray:
    masses = np.array([ion_mz(n) for n in names])
    masses.flags.writeable = False
    return masses


def calibrate_spectrum(
    x: np.ndarray, mz_stored: np.ndarray, counts: np.ndarray, settings: CalibrationSettings
) -> dict:
    """Calibrate one spectrum; returns parameters, ions used, ppm errors, status and reason.

    The residual limit of an ion is ``max_residual_ppm``, or half a bin where the export is so
    coarsely binned that its peak fills a single bin (then no calibration can do better; the
    limit used is reported).
    """
    names = np.array(settings.reference_ions)
    exact = _exact_masses(settings.reference_ions)
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
        a, b = fit_tof(apex[use], exact[use], start=(a, b))
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


def calibrate_sample(
    spectra: pa.Table | pd.DataFrame | list[Spot], settings: CalibrationSettings
) -> pd.DataFrame:
    """Calibrate every spot of one sample's spectra table (columns as the import writes them).

    The fit is made on channels when the export has them, else on sqrt(stored m/z). A failed
    spectrum raises SimsflowError naming it, unless ``on_failure`` is ``exclude``: then it is
    kept in the table with status ``excluded`` and its reason.
    """
    rows = []
    for one in iter_spots(spectra):
        model, x = ("channel", one.channel) if one.channel is not None else ("mz", np.sqrt(one.mz))
        result = calibrate_spectrum(x, one.mz, one.intensity, settings)
        if result["status"] == "failed":
            if settings.on_failure != "exclude":
                raise SimsflowError(
                    f"calibration of sample '{one.sample}' spot '{one.spot}' failed: "
                    f"{result['reason']}",
                    hint="check the reference ions in the config, or set "
                    "calibration.on_failure: exclude to list such spectra in QC instead",
                )
            result["status"] = "excluded"
        rows.append(
            {"study": one.study, "sample": one.sample, "spot": one.spot, "model": model, **result}
        )
    # built column by column: much faster than from a list of row dicts
    return pd.DataFrame({c: [row[c] for row in rows] for c in CALIBRATION_COLUMNS})


def calibrated_mz(x: np.ndarray, a: float, b: float) -> np.ndarray:
    return (a * x + b) ** 2


def calibrated_spots(spectra: pa.Table | pd.DataFrame | list[Spot], calibration: pd.DataFrame):
    """Yield (spot key, calibrated m/z, intensity) for every spot whose calibration is ok."""
    columns = (calibration[c].tolist() for c in ("spot", "status", "model", "a", "b"))
    cal = {spot: rest for spot, *rest in zip(*columns, strict=True)}
    for one in iter_spots(spectra):
        status, model, a, b = cal[one.spot]
        if status != "ok":
            continue
        x = one.channel if model == "channel" else np.sqrt(one.mz)
        yield one.key, calibrated_mz(x, a, b), one.intensity
