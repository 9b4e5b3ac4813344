"""Mass calibration of each spectrum against reference ions.

The time-of-flight law t = t0 + k*sqrt(m) makes sqrt(m/z) linear in the flight time, hence in the
channel number: sqrt(m) = a*channel + b. Where an export has no channel column, the stored m/z
stands in for time: sqrt(m) = a*sqrt(m_stored) + b, which corrects the same two errors (offset and
scale). Reference peaks are located by their apex (a parabola through the log counts of the top
three bins, exact for a Gaussian core and blind to the high-mass tail), first in a wide window
around the expected m/z, then, after a first robust fit, in a narrow window around the predicted
position. The fit is robust (Huber loss, residuals in flight time); the worst ion beyond the
residual limit is dropped and the fit repeated while more than ``min_ions`` remain. The study's
own strong, unambiguous ions (of its mass list) then extend the fit up to its heaviest ion. A
spectrum whose reference ions are not where its stored calibration puts them is searched again
over ``wide_ppm`` as a pattern (status ``recovered``). Fewer ions, or a residual still above the
limit, is a failure: the spectrum excluded and listed (never silently kept), or an error.

Reference ions follow common practice (unsaturated, interference-free, spanning the mass range;
Green, Gilmore & Seah, Appl. Surf. Sci. 2006 on ToF-SIMS mass calibration).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from .chemistry import ion_mz
from .errors import SimsflowError
from .spots import Spot, iter_spots

FIT_UNIT_MZ = 30.0  # the fit's residual unit: one ppm of m/z at this m/z (see fit_tof)
WIDE_CANDIDATES = 6  # peaks per reference ion the wide search tries
CALIBRATED = ("ok", "recovered")  # statuses of spectra with a calibrated mass axis

DEFAULT_REFERENCE_IONS = {
    "negative": ("H-", "C-", "CH-", "O-", "OH-", "C2-", "C2H-"),
    "positive": ("H+", "7Li+", "Na+", "K+", "CH3+", "C2H3+", "C2H5+"),
}

CALIBRATION_COLUMNS = [
    "study",
    "sample",
    "spot",
    "model",
    "binning",
    "a",
    "b",
    "n_reference_ions",
    "reference_ions",
    "ppm_before",
    "ppm_after",
    "bin_limit_ppm",
    "max_abs_ppm_after",
    "residual_limit_ppm",
    "status",
    "reason",
]


# The precision of an apex found from three bins, as a fraction of the bin width: on coarsely
# binned exports (tens of channels per bin) a peak two or three bins wide is located no better
# than this (simulated Gaussian peaks 0.6-1.8 bins wide at full width half maximum, with Poisson
# noise: 95th percentile of the apex error 0.03-0.07 bin; the tail adds to it). A fixed residual
# limit in ppm below it would drop good ions, and exclude spectra, for the bins' sake alone.
APEX_BIN_FRACTION = 0.1


@dataclass(frozen=True)
class CalibrationSettings:
    """A study's calibration settings (reference ions, search windows, limits, failure policy)."""

    reference_ions: tuple[str, ...]
    search_ppm: float = 500.0
    refine_ppm: float = 60.0
    max_residual_ppm: float = 20.0
    min_ions: int = 3
    min_counts: float = 20.0
    wide_ppm: float = 1e5  # the wide search for far-off stored calibrations (0: none)
    extend: bool = True  # extend the reference ions with the mass list's own
    extend_min_counts: float = 200.0
    mass_list: tuple[tuple[str, float], ...] = ()  # (ion, m/z) of the study's mass list
    on_failure: str = "exclude"  # or "stop"


def calibration_settings(params: dict) -> CalibrationSettings:
    """Settings from a rule's params (lists, as YAML and Snakemake give them)."""
    return CalibrationSettings(
        **{
            **params,
            "reference_ions": tuple(params["reference_ions"]),
            "mass_list": tuple((str(i), float(m)) for i, m in params.get("mass_list", ())),
        }
    )


def reference_ions_for(
    polarity: str, extra: list[str] | tuple[str, ...] = (), replace_defaults: bool = False
) -> tuple[str, ...]:
    """Default reference ions of a polarity plus the study's own, in m/z order."""
    defaults = () if replace_defaults else DEFAULT_REFERENCE_IONS[polarity]
    names = dict.fromkeys([*defaults, *extra])
    return tuple(sorted(names, key=ion_mz))


def _apex3(x0, x1, x2, y0, y1, y2):
    """Apex position of peaks from their highest bins (x1, y1) and the bins beside them.

    A Gaussian is a parabola in log space, so three bins give its centre exactly; with an empty
    neighbour the intensity-weighted centre of the three bins is used instead. Arrays of equal
    shape (one element per peak).
    """
    positive = (y0 > 0) & (y1 > 0) & (y2 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        l0, l1, l2 = (np.log(np.where(positive, y, 1.0)) for y in (y0, y1, y2))
        denom = l0 - 2.0 * l1 + l2
        parabola = positive & (denom < 0)
        offset = 0.5 * (l0 - l2) / np.where(parabola, denom, -1.0)
        step = np.where(offset > 0, x2 - x1, x1 - x0)
        centroid = (x0 * y0 + x1 * y1 + x2 * y2) / (y0 + y1 + y2)
    return np.where(parabola, x1 + np.clip(offset, -0.5, 0.5) * step, centroid)


def peak_apex(x: np.ndarray, counts: np.ndarray, index) -> np.ndarray:
    """Sub-bin apex positions of the peaks whose highest bins are ``index`` (see ``_apex3``);
    a peak in the first or last bin keeps that bin's position."""
    i = np.asarray(index)
    inner = np.clip(i, 1, counts.size - 2)
    y = counts.astype(float, copy=False)
    apex = _apex3(x[inner - 1], x[inner], x[inner + 1], y[inner - 1], y[inner], y[inner + 1])
    return np.where(inner == i, apex, x[i])


@dataclass(frozen=True)
class _Spectra:
    """The spectra calibrated together (of one sample or of several), each as its own arrays
    (no copy): x (channel or sqrt of the stored m/z), stored m/z and counts."""

    x: list[np.ndarray]
    mz: list[np.ndarray]
    counts: list[np.ndarray]

    @property
    def sizes(self) -> np.ndarray:
        return np.array([m.size for m in self.mz], dtype=np.int64)


def _gathered(arrays: list[np.ndarray], rows: list[int], lo: list[int], hi: list[int]):
    """``arrays[row][lo:hi]`` of every window, end to end."""
    return np.concatenate([arrays[r][a:b] for r, a, b in zip(rows, lo, hi, strict=True)])


def _locate(spectra: _Spectra, targets: np.ndarray, ppm: float, min_counts: float):
    """Apex (on the x axis) of the strongest peak within +-ppm of each target m/z (spectra x
    ions; NaN: none), and its limit.

    Returns (apex, half_bin_ppm, floor_ppm) arrays of the targets' shape: half_bin_ppm is half
    the local bin width in ppm when the peak is under-sampled (a single bin above half maximum),
    where no apex estimate can be better than that; 0 otherwise. floor_ppm is the precision
    the bins allow any apex: half a bin for such a peak, ``APEX_BIN_FRACTION`` of a bin for the
    others (the residual limit never goes below it). apex is NaN where there is no peak
    (too few counts, or only the flank of one at the window's edge). Windows span at least
    three bins either side. The windows' bins of all spectra are gathered end to end and
    searched at once.
    """
    n_spectra, k = targets.shape
    edges = np.empty((n_spectra, 3 * k), dtype=np.int64)
    for s in range(n_spectra):
        t = targets[s]
        edges[s] = np.searchsorted(
            spectra.mz[s], np.concatenate([t, t * (1 - ppm * 1e-6), t * (1 + ppm * 1e-6)])
        )
    centre, below, above = edges[:, :k], edges[:, k : 2 * k], edges[:, 2 * k :]
    n = spectra.sizes[:, None]
    lo = np.maximum(np.minimum(below, centre - 3), 1)
    hi = np.minimum(np.maximum(above, centre + 3), n - 1)
    apex = np.full(targets.shape, np.nan)
    half_bin = np.zeros(targets.shape)
    floor = np.zeros(targets.shape)
    window = hi - lo >= 3
    if not window.any():
        return apex, half_bin, floor
    where = (np.nonzero(window)[0].tolist(), lo[window].tolist(), hi[window].tolist())
    length = (hi - lo)[window]
    c = _gathered(spectra.counts, *where)
    m = _gathered(spectra.mz, *where)
    x = _gathered(spectra.x, *where)
    ends = np.cumsum(length)
    begins = ends - length
    top = np.maximum.reduceat(c, begins)
    at_top = np.flatnonzero(c == np.repeat(top, length))
    i = at_top[np.searchsorted(at_top, begins)]  # first highest bin of each window
    # no peak, or only a flank of one (then the bins beside it are not all in the window)
    peak = (c[i] >= min_counts) & (i != begins) & (i != ends - 1)
    before, after = np.maximum(i - 1, 0), np.minimum(i + 1, c.size - 1)
    y0, y1, y2 = c[before], c[i], c[after]
    found = _apex3(x[before], x[i], x[after], y0, y1, y2)
    single = (y0 < 0.5 * y1) & (y2 < 0.5 * y1)  # a single bin above half maximum
    bin_ppm = (m[after] - m[before]) / 2 / m[i] * 1e6
    width = np.where(single, 0.5 * bin_ppm, 0.0)
    apex[window] = np.where(peak, found, np.nan)
    half_bin[window] = np.where(peak, width, 0.0)
    floor[window] = np.where(peak, np.maximum(width, APEX_BIN_FRACTION * bin_ppm), 0.0)
    return apex, half_bin, floor


def _solve(suu, suv, svv, bu, bv):
    det = suu * svv - suv * suv
    return (svv * bu - suv * bv) / det, (suu * bv - suv * bu) / det


def _line_minimum(residual: np.ndarray, direction: np.ndarray, f: float) -> np.ndarray:
    """Exact minimiser t >= 0 of the Huber loss along ``residual + t * direction``, per row.

    Its derivative, sum(direction * clip(residual + t * direction, -f, f)), is non-decreasing
    and piecewise linear with breaks where a residual crosses +-f: find the first break where
    it is no longer negative and solve the linear piece before it. Entries with a zero
    direction (ions not used) have no break and add nothing.
    """
    moving = direction != 0
    safe = np.where(moving, direction, 1.0)
    breaks = np.concatenate([(f - residual) / safe, (-f - residual) / safe], axis=-1)
    breaks = np.where(np.concatenate([moving, moving], axis=-1) & (breaks > 0), breaks, np.inf)
    breaks.sort(axis=-1)
    valid = np.isfinite(breaks)
    at = np.where(valid, breaks, 0.0)
    slope0 = (direction * np.clip(residual, -f, f)).sum(axis=-1)
    slopes = (
        direction[:, None, :]
        * np.clip(residual[:, None, :] + at[:, :, None] * direction[:, None, :], -f, f)
    ).sum(axis=-1)
    rise = valid & (slopes >= 0)
    has_rise = rise.any(axis=-1)
    j = rise.argmax(axis=-1)
    rows = np.arange(residual.shape[0])
    t1, s1 = at[rows, j], slopes[rows, j]
    before = j > 0
    t0 = np.where(before, at[rows, np.maximum(j - 1, 0)], 0.0)
    s0 = np.where(before, slopes[rows, np.maximum(j - 1, 0)], slope0)
    with np.errstate(divide="ignore", invalid="ignore"):
        solved = t0 - s0 * (t1 - t0) / (s1 - s0)
    # no break where the slope turns: the loss has no minimum ahead; stay at the last break
    last = np.where(valid.any(axis=-1), at[rows, np.maximum(valid.sum(axis=-1) - 1, 0)], 0.0)
    step = np.where(has_rise, solved, last)
    return np.where(slope0 >= 0, 0.0, step)


def fit_tof(
    x: np.ndarray,
    mz: np.ndarray,
    use: np.ndarray | None = None,
    f_scale: float = 10.0,
    start: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Robust fits of sqrt(mz) = a*x + b with the Huber loss, one per row of ``x``.

    ``x`` holds one row of apex positions per spectrum (ions in columns), ``mz`` the ions'
    exact m/z (one row for all, or one per spectrum), ``use`` which ions each fit rests on
    (default: all). Residuals are measured in sqrt(m/z), that is in flight time, in units of
    one ppm of m/z at ``FIT_UNIT_MZ``: an apex is found to a fraction of a bin in time whatever
    the mass, and the same time error is more ppm of m/z the lighter the ion (ppm = 2 dt/t), so
    weighting in ppm would let the light ions (H-: a peak about one bin wide) tilt the line for
    all others. An ion further than ``f_scale`` from the line weighs in linearly, not
    quadratically. The loss is convex, smooth and piecewise quadratic: Newton directions from
    the inliers' curvature (a tiny ridge keeps it invertible when fewer than two ions are
    inliers) with an exact line search reach its minimum in a few steps; the minimum is the
    one scipy's ``least_squares(loss="huber")`` approaches iteratively. ``start`` (a, b per
    row), e.g. the fit before one ion was dropped, replaces the least-squares start. All rows
    are fitted together: each Newton step is a few array operations for the whole sample.
    """
    x = np.atleast_2d(np.asarray(x, dtype=float))
    use = np.ones(x.shape, bool) if use is None else np.atleast_2d(np.asarray(use, bool))
    s = np.sqrt(np.broadcast_to(np.asarray(mz, dtype=float), x.shape))
    count = use.sum(axis=-1)
    centre = np.where(use, x, 0.0).sum(axis=-1) / count
    spread = np.where(use, x, -np.inf).max(axis=-1) - np.where(use, x, np.inf).min(axis=-1)
    spread = np.where(spread > 0, spread, 1.0)
    inv = np.where(use, 1.0 / (5e-7 * np.sqrt(FIT_UNIT_MZ)), 0.0)
    # design: residual = c0*u + c1*v - t; unused ions are rows of zeros
    u = np.where(use, (x - centre[:, None]) / spread[:, None] * inv, 0.0)
    v = inv
    t = np.where(use, s * inv, 0.0)
    full = ((u * u).sum(axis=-1), (u * v).sum(axis=-1), (v * v).sum(axis=-1))
    if start is None:
        c0, c1 = _solve(*full, (u * t).sum(axis=-1), (v * t).sum(axis=-1))
    else:
        a, b = (np.asarray(p, dtype=float) for p in start)
        c0, c1 = a * spread, b + a * centre
    ridge = [1e-9 * q for q in full]
    f = f_scale
    active = np.ones(x.shape[0], bool)
    for _ in range(50):
        residual = c0[:, None] * u + c1[:, None] * v - t
        psi = np.clip(residual, -f, f)
        inner = np.where(np.abs(residual) <= f, 1.0, 0.0)
        s0, s1 = _solve(
            (inner * u * u).sum(axis=-1) + ridge[0],
            (inner * u * v).sum(axis=-1) + ridge[1],
            (inner * v * v).sum(axis=-1) + ridge[2],
            -(u * psi).sum(axis=-1),
            -(v * psi).sum(axis=-1),
        )
        step = _line_minimum(residual, s0[:, None] * u + s1[:, None] * v, f)
        done = (step == 0.0) | (
            (np.abs(step * s0) <= 1e-13 * np.maximum(np.abs(c0), 1.0))
            & (np.abs(step * s1) <= 1e-13 * np.maximum(np.abs(c1), 1.0))
        )
        active &= ~done
        if not active.any():
            break
        c0 = np.where(active, c0 + step * s0, c0)
        c1 = np.where(active, c1 + step * s1, c1)
    a = c0 / spread
    return a, c1 - a * centre


def ppm_error(x, a, b, mz):
    """Error (ppm) of the m/z that sqrt(m/z) = a·x + b gives at ``x``, against the true ``mz``."""
    return ((a * x + b) ** 2 / mz - 1.0) * 1e6


@functools.lru_cache(maxsize=64)
def _exact_masses(names: tuple[str, ...]) -> np.ndarray:
    masses = np.array([ion_mz(n) for n in names])
    masses.flags.writeable = False
    return masses


def _interp_rows(values: np.ndarray, spectra: _Spectra, rows) -> np.ndarray:
    """``np.interp`` of each row of ``values`` from a spectrum's x axis to its stored m/z,
    for the given rows (others NaN)."""
    out = np.full(values.shape, np.nan)
    for s in rows:
        out[s] = np.interp(values[s], spectra.x[s], spectra.mz[s])
    return out


def _calibrate(
    spectra: _Spectra, settings: CalibrationSettings, expected: np.ndarray | None = None
) -> dict:
    """Calibrate every spectrum (of one sample or of several); columns, one value per spectrum:
    parameters, ions used, ppm errors, status and reason.

    ``expected`` (spectra x reference ions) is where each reference ion is looked for on the
    stored m/z axis; default: at its exact m/z (the stored calibration is trusted to within
    ``search_ppm``). After the fit on the reference ions, the study's own ions up to the top of
    its mass list extend it (``_extend``). The residual limit of an ion is
    ``max_residual_ppm``, or half a bin where the export is so coarsely binned that its peak
    fills a single bin (then no calibration can do better; the limit used is reported), and
    never less than ``APEX_BIN_FRACTION`` of a bin. The
    spectra are calibrated together: each step (peak search, fit, dropping the worst ion) is
    one set of array operations for all of them.
    """
    extra = _extension_ions(settings)
    names = np.array([*settings.reference_ions, *(settings.mass_list[i][0] for i in extra)])
    exact = _exact_masses(settings.reference_ions)
    n_ref = exact.size
    exact = np.concatenate([exact, [settings.mass_list[i][1] for i in extra]])
    n = len(spectra.mz)
    if expected is None:
        expected = np.broadcast_to(exact[:n_ref], (n, n_ref))
    expected = np.concatenate([expected, np.full((n, exact.size - n_ref), np.nan)], axis=1)
    first_mz = np.array([m[0] for m in spectra.mz])
    last_mz = np.array([m[-1] for m in spectra.mz])
    inside = (expected > first_mz[:, None]) & (expected < last_mz[:, None])
    targets = np.where(inside, expected, np.nan)
    apex = _locate(spectra, targets, settings.search_ppm, settings.min_counts)[0]
    found = np.isfinite(apex)
    enough = found.sum(axis=-1) >= settings.min_ions
    rows = np.flatnonzero(enough)
    a = np.full(n, np.nan)
    b = np.full(n, np.nan)
    if rows.size:
        a[rows], b[rows] = fit_tof(apex[rows], exact, found[rows])
    stored_at_apex = _interp_rows(apex, spectra, rows)
    ppm_before = np.abs(stored_at_apex / exact - 1.0) * 1e6
    # second pass: look again where the first fit predicts each ion (a stronger neighbour
    # inside the first, wide window no longer stands in for it)
    predicted = np.where(
        enough[:, None] & inside, (np.sqrt(exact) - b[:, None]) / a[:, None], np.nan
    )
    predicted_mz = _interp_rows(predicted, spectra, rows)
    apex, half_bin, floor = _locate(spectra, predicted_mz, settings.refine_ppm, settings.min_counts)
    use = np.isfinite(apex)
    state = [apex, floor, use, a, b]
    _fit_dropping_worst(settings, exact, *state)
    if extra:
        _extend(spectra, settings, exact, n_ref, half_bin, *state)
    apex, floor, use, a, b = state
    limit = np.maximum(settings.max_residual_ppm, floor)
    fit = _Fit(found, enough, use, apex, a, b, limit, ppm_before, half_bin)
    return _results(settings, names, exact, fit)


def _fit_dropping_worst(settings, exact, apex, floor, use, a, b) -> None:
    """Fit every spectrum with enough ions in ``use``, dropping its worst ion while one is
    above the residual limit (``max_residual_ppm``, or the bins' ``floor`` where higher) and
    more than ``min_ions`` remain (``use``, ``a``, ``b`` are updated in place)."""
    limit = np.maximum(settings.max_residual_ppm, floor)
    pending = use.sum(axis=-1) >= settings.min_ions
    while pending.any():
        p = np.flatnonzero(pending)
        a[p], b[p] = fit_tof(apex[p], exact, use[p], start=(a[p], b[p]))
        error = np.abs(ppm_error(apex[p], a[p, None], b[p, None], exact))
        excess = np.where(use[p], error - limit[p], -np.inf)
        worst = excess.argmax(axis=-1)
        done = (excess[np.arange(p.size), worst] <= 0) | (use[p].sum(axis=-1) == settings.min_ions)
        use[p[~done], worst[~done]] = False
        pending[p[done]] = False


def _extension_ions(settings: CalibrationSettings) -> list[int]:
    """Indices into ``settings.mass_list`` of the ions that may extend the calibration: not
    reference ions already, above the lightest reference ion, and with no other ion of the
    mass list (or reference ion) within ``search_ppm``, so a peak there has one formula."""
    if not settings.extend or not settings.mass_list:
        return []
    references = set(settings.reference_ions)
    mz = np.array([m for _, m in settings.mass_list], dtype=float)
    every = np.sort(np.concatenate([mz, _exact_masses(settings.reference_ions)]))
    lo = np.searchsorted(every, mz * (1 - settings.search_ppm * 1e-6), side="left")
    hi = np.searchsorted(every, mz * (1 + settings.search_ppm * 1e-6), side="right")
    lightest = _exact_masses(settings.reference_ions).min()
    alone = (hi - lo == 1) & (mz > lightest) & np.isfinite(mz)
    return [
        i
        for i in np.argsort(mz, kind="stable")
        if alone[i] and settings.mass_list[i][0] not in references
    ]


def _extend(spectra, settings, exact, n_ref, half_bin, apex, floor, use, a, b) -> None:
    """Add the study's own ions to each spectrum's calibration, refitting after each step.

    Where the fit so far puts an ion, its peak must be strong (``extend_min_counts`` in its
    top bin), within ``refine_ppm`` of that place, and the highest peak within ``search_ppm``
    (nothing stronger beside it that could be it). Each step reaches to twice the heaviest
    ion used so far, so the fit is never extrapolated far.
    """
    ok = use.sum(axis=-1) >= settings.min_ions
    rows = np.flatnonzero(ok)
    tried = np.zeros(use.shape, bool)
    tried[:, :n_ref] = True
    for _ in range(8):
        heaviest = np.where(use, exact, 0.0).max(axis=-1)
        reach = ~tried & ok[:, None] & (exact <= 2 * heaviest[:, None])
        if not reach.any():
            break
        tried |= reach
        predicted = np.where(reach, (np.sqrt(exact) - b[:, None]) / a[:, None], np.nan)
        predicted_mz = _interp_rows(predicted, spectra, rows)
        near, bins, floors = _locate(
            spectra, predicted_mz, settings.refine_ppm, settings.extend_min_counts
        )
        wide = _locate(spectra, predicted_mz, settings.search_ppm, settings.min_counts)[0]
        new = reach & np.isfinite(near) & (near == wide)
        apex[new], half_bin[new], floor[new] = near[new], bins[new], floors[new]
        use |= new
        _fit_dropping_worst(settings, exact, apex, floor, use, a, b)


def _candidate_peaks(mz: np.ndarray, counts: np.ndarray, target: float, ppm: float, settings):
    """sqrt(stored m/z) at the apex, and the height, of the highest local maxima (at most
    ``WIDE_CANDIDATES``, at least ``min_counts``) within +-ppm of a target m/z."""
    lo, hi = np.searchsorted(mz, [target * (1 - ppm * 1e-6), target * (1 + ppm * 1e-6)])
    lo, hi = max(lo, 1), min(hi, mz.size - 1)
    if hi <= lo:
        return np.empty(0), np.empty(0)
    c = counts[lo - 1 : hi + 1]
    top = (c[1:-1] >= c[:-2]) & (c[1:-1] > c[2:]) & (c[1:-1] >= settings.min_counts)
    index = np.flatnonzero(top) + lo
    index = index[np.argsort(-counts[index], kind="stable")[:WIDE_CANDIDATES]]
    return peak_apex(np.sqrt(mz), counts, index), counts[index]


def _wide_search(mz: np.ndarray, counts: np.ndarray, exact: np.ndarray, settings):
    """Where the reference ions are on the stored m/z axis of a spectrum whose stored
    calibration is far off (up to ``wide_ppm``); None when no consistent set is found.

    A stored calibration is off by a scale and an offset of sqrt(m/z): stored sqrt(m) =
    p*sqrt(m) + q. Every pair of reference ions, put on every pair of the strongest peaks near
    them, fixes one (p, q); each such line is scored by how many reference ions then have one
    of their candidate peaks within ``search_ppm`` of where it predicts them (ties: the
    stronger peaks). This is a cross-correlation of the spectrum's peaks with the expected
    reference pattern over every stretch and shift, evaluated only where it can peak.
    """
    s_exact = np.sqrt(exact)
    found = [_candidate_peaks(mz, counts, m, settings.wide_ppm, settings) for m in exact]
    ion = np.concatenate([np.full(f[0].size, k) for k, f in enumerate(found)])
    where = np.concatenate([f[0] for f in found])
    weight = np.log1p(np.concatenate([f[1] for f in found]))
    if np.unique(ion).size < settings.min_ions:
        return None
    i, j = np.triu_indices(ion.size, 1)
    keep = ion[i] < ion[j]
    i, j = i[keep], j[keep]
    p = (where[i] - where[j]) / (s_exact[ion[i]] - s_exact[ion[j]])
    q = where[i] - p * s_exact[ion[i]]
    ratio = (p * s_exact[:, None] + q) / s_exact[:, None]  # of sqrt(m/z), stored / exact
    w = settings.wide_ppm * 1e-6
    keep = (p > 0) & (ratio >= np.sqrt(max(1 - w, 0))).all(0) & (ratio <= np.sqrt(1 + w)).all(0)
    p, q = p[keep], q[keep]
    if not p.size:
        return None
    # every line against every candidate: is the candidate where the line puts its ion?
    predicted = p[:, None] * s_exact[ion] + q[:, None]
    close = np.abs(where / predicted - 1) * 2e6 <= settings.search_ppm
    best = np.zeros((p.size, exact.size))
    np.maximum.at(best.T, ion, np.where(close, weight, 0.0).T)
    matched = (best > 0).sum(axis=-1)
    score = matched * 1e3 + best.sum(axis=-1)  # most ions first, then the stronger peaks
    k = int(np.argmax(score))
    if matched[k] < settings.min_ions:
        return None
    # the line through all peaks it matched (a pair's line is only as good as its two peaks)
    line = p[k], q[k]
    for _ in range(2):
        predicted = line[0] * s_exact[ion] + line[1]
        close = np.abs(where / predicted - 1) * 2e6 <= settings.search_ppm
        strongest = np.full(exact.size, -1)
        for c in np.flatnonzero(close)[np.argsort(weight[close], kind="stable")]:
            strongest[ion[c]] = c  # the strongest close candidate of each ion comes last
        chosen = strongest[strongest >= 0]
        if chosen.size < 2:
            break
        line = np.polyfit(s_exact[ion[chosen]], where[chosen], 1)
    return (line[0] * s_exact + line[1]) ** 2


def _subset(spectra: _Spectra, rows) -> _Spectra:
    return _Spectra(*([getattr(spectra, f)[r] for r in rows] for f in ("x", "mz", "counts")))


def _calibrate_or_recover(spectra: _Spectra, settings: CalibrationSettings) -> dict:
    """``_calibrate``, then, for every spectrum that failed, the wide search for its reference
    ions and the same calibration from where it found them: status ``recovered`` and the
    offset of the stored calibration in the reason, or still ``failed``."""
    results = _calibrate(spectra, settings)
    failed = [k for k, status in enumerate(results["status"]) if status == "failed"]
    if not failed or settings.wide_ppm <= 0:
        return results
    exact = _exact_masses(settings.reference_ions)
    expected = [_wide_search(spectra.mz[k], spectra.counts[k], exact, settings) for k in failed]
    rows = [k for k, e in zip(failed, expected, strict=True) if e is not None]
    if not rows:
        return results
    again = _calibrate(
        _subset(spectra, rows), settings, np.array([e for e in expected if e is not None])
    )
    for r, k in enumerate(rows):
        if again["status"][r] != "ok":
            continue
        for column, values in again.items():
            results[column][k] = values[r]
        results["status"][k] = "recovered"
        results["reason"][k] = (
            f"stored calibration {again['ppm_before'][r]:.0f} ppm off (median of the reference "
            f"ions); found by the wide search (+-{settings.wide_ppm:.0f} ppm)"
        )
    return results


def _row_median(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``np.median`` of each row's values where ``mask`` (NaN for rows without any)."""
    ordered = np.sort(np.where(mask, values, np.inf), axis=-1)
    n = mask.sum(axis=-1)
    rows = np.arange(values.shape[0])
    low = ordered[rows, np.maximum((n - 1) // 2, 0)]
    high = ordered[rows, n // 2 - (n == 0)]
    return np.where(n > 0, (low + high) / 2, np.nan)


@dataclass(frozen=True)
class _Fit:
    """Where the calibration of every spectrum ended (rows: spectra, columns: reference ions)."""

    found: np.ndarray  # ion found in the first pass
    enough: np.ndarray  # per spectrum: enough ions found for a first fit
    use: np.ndarray  # ion kept in the final fit
    apex: np.ndarray  # apex position on the fit's axis (channel or sqrt(m/z)), second pass
    a: np.ndarray  # per spectrum: sqrt(m/z) = a * x + b
    b: np.ndarray
    limit: np.ndarray  # residual limit of each ion (ppm)
    ppm_before: np.ndarray  # |error| of each ion with the stored calibration (ppm)
    half_bin: np.ndarray  # half a bin (ppm) where a peak fills a single bin, else 0


def _results(settings, names, exact, fit: _Fit) -> dict:
    """The calibration columns (``CALIBRATION_COLUMNS`` after the labels) of every spectrum."""
    found, enough, use, apex = fit.found, fit.enough, fit.use, fit.apex
    a, b, limit, ppm_before = fit.a, fit.b, fit.limit, fit.ppm_before
    ok = enough & (use.sum(axis=-1) >= settings.min_ions)
    used = use & ok[:, None]
    residual = np.where(used, ppm_error(apex, a[:, None], b[:, None], exact), np.nan)
    size = np.abs(residual)
    over = np.where(used, size - limit, -np.inf)
    worst = over.argmax(axis=-1)
    rows = np.arange(a.size)
    above = ok & (over[rows, worst] > 0)
    count = np.where(enough, use.sum(axis=-1), found.sum(axis=-1)).tolist()
    labels = names.tolist()
    reasons = []
    for s in range(a.size):
        if not ok[s]:
            reasons.append(f"{count[s]} reference ions found, need {settings.min_ions}")
        elif above[s]:
            w = worst[s]
            reasons.append(
                f"residual {residual[s, w]:+.1f} ppm ({labels[w]}) above the limit of "
                f"{limit[s, w]:.0f} ppm"
            )
        else:
            reasons.append("")
    return {
        "binning": np.full(a.size, np.nan),  # filled in by calibrate_spots
        "a": np.where(ok, a, np.nan),
        "b": np.where(ok, b, np.nan),
        "n_reference_ions": np.where(ok, used.sum(axis=-1), found.sum(axis=-1)),
        "reference_ions": [
            ",".join(n for n, u in zip(labels, row, strict=True) if u) for row in used.tolist()
        ],
        "ppm_before": np.where(ok, _row_median(ppm_before, found), np.nan),
        "ppm_after": _row_median(size, used),
        "bin_limit_ppm": np.where(ok, _row_median(fit.half_bin, used), np.nan),
        "max_abs_ppm_after": np.where(ok, np.where(used, size, -np.inf).max(axis=-1), np.nan),
        "residual_limit_ppm": np.where(
            ok, np.where(used, limit, -np.inf).max(axis=-1), settings.max_residual_ppm
        ),
        "status": np.where(ok & ~above, "ok", "failed").tolist(),
        "reason": reasons,
    }


def calibrate_spots(spots: list[Spot], settings: CalibrationSettings) -> dict:
    """Calibrate the spots (of one sample or of several, calibrated together: each result is
    the same as alone); the fit is made on channels when the export has them, else on
    sqrt(stored m/z). Columns (``CALIBRATION_COLUMNS`` after the labels) of one value per
    spot."""
    if not spots:
        return {c: [] for c in CALIBRATION_COLUMNS[4:]}
    spectra = _Spectra(
        x=[one.channel if one.channel is not None else np.sqrt(one.mz) for one in spots],
        mz=[one.mz for one in spots],
        counts=[one.intensity.astype(float, copy=False) for one in spots],
    )
    results = _calibrate_or_recover(spectra, settings)
    results["binning"] = np.array([_binning(one.channel) for one in spots])
    return results


def _binning(channel: np.ndarray | None) -> float:
    """Channels per data point of an export (its most common channel step; NaN without a
    channel column): SurfaceLab exports binned by n channels step by n."""
    if channel is None or channel.size < 2:
        return np.nan
    steps, counts = np.unique(np.diff(channel), return_counts=True)
    return float(steps[np.argmax(counts)])


def calibration_table(spots: list[Spot], results: dict, settings: CalibrationSettings):
    """The calibration table of one sample's spots from their results (``calibrate_spots``
    columns, these spots' rows). A failed spectrum raises SimsflowError naming it, unless
    ``on_failure`` is ``exclude``: then it is kept in the table with status ``excluded`` and
    its reason."""
    status = list(results["status"])
    for k, one in enumerate(spots):
        if status[k] == "failed":
            if settings.on_failure != "exclude":
                raise SimsflowError(
                    f"calibration of sample '{one.sample}' spot '{one.spot}' failed: "
                    f"{results['reason'][k]}",
                    hint="check the reference ions in the config, or set "
                    "calibration.on_failure: exclude to list such spectra in QC instead",
                )
            status[k] = "excluded"
    labels = {
        "study": [one.study for one in spots],
        "sample": [one.sample for one in spots],
        "spot": [one.spot for one in spots],
        "model": ["channel" if one.channel is not None else "mz" for one in spots],
    }
    return pd.DataFrame({**labels, **results, "status": status})[CALIBRATION_COLUMNS]


def calibrate_sample(
    spectra: pa.Table | pd.DataFrame | list[Spot], settings: CalibrationSettings
) -> pd.DataFrame:
    """Calibrate every spot of one sample's spectra table (columns as the import writes them);
    see ``calibrate_spots`` and ``calibration_table``."""
    spots = list(iter_spots(spectra))
    return calibration_table(spots, calibrate_spots(spots, settings), settings)


def calibrated_mz(x: np.ndarray, a: float, b: float) -> np.ndarray:
    """The m/z axis of the fit sqrt(m/z) = a·x + b at ``x`` (channels, or sqrt of stored m/z).

    Computed in one array ((a x + b) squared, the same numbers): a spectrum's axis is large,
    and fresh memory for temporaries costs more than the arithmetic."""
    out = a * x
    out += b
    out *= out
    return out


def calibrated_spots(spectra: pa.Table | pd.DataFrame | list[Spot], calibration: pd.DataFrame):
    """Yield (spot key, calibrated m/z, intensity) for every spot whose calibration is ok."""
    columns = (calibration[c].tolist() for c in ("spot", "status", "model", "a", "b"))
    cal = {spot: rest for spot, *rest in zip(*columns, strict=True)}
    for one in iter_spots(spectra):
        status, model, a, b = cal[one.spot]
        if status not in CALIBRATED:
            continue
        x = one.channel if model == "channel" else np.sqrt(one.mz)
        yield one.key, calibrated_mz(x, a, b), one.intensity


def calibration_warning(table: pd.DataFrame, path: str) -> str | None:
    """The end-of-run warning for a study's calibration table (``path``, as the user finds
    it): the spectra excluded, each with its reason, and how many the wide search recovered;
    None when every spectrum was calibrated where its stored calibration put it (or the
    table has no spectra)."""
    if "status" not in table.columns:
        return None
    excluded = table[table["status"] == "excluded"]
    recovered = int((table["status"] == "recovered").sum())
    if excluded.empty and not recovered:
        return None
    parts = []
    if len(excluded):
        listed = "; ".join(
            f"sample '{s}' spot '{p}' ({r})"
            for s, p, r in zip(
                excluded["sample"], excluded["spot"], excluded["reason"], strict=True
            )
        )
        parts.append(f"{len(excluded)} spectra could not be calibrated and were left out: {listed}")
    if recovered:
        parts.append(
            f"{recovered} spectra had a stored calibration beyond search_ppm and were recovered "
            "by the wide search (status recovered)"
        )
    return f"simsflow: warning: {path}: " + "; ".join(parts) + "."


def calibration_file_warning(path: str) -> str | None:
    """``calibration_warning`` of a study's calibration table file; None when there is none
    yet, or it has no rows (no spectrum reached calibration)."""
    from .io.tables import read_text_tsv

    if not os.path.exists(path):
        return None
    try:
        table = read_text_tsv(path)
    except pd.errors.EmptyDataError:
        return None
    return calibration_warning(table, path)
