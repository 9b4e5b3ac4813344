"""Overlapping peaks: fitted with shaped components, not summed over an interval.

Where two ions share a nominal mass within the instrument's resolution (Al+ and C2H3+ at m/z 27,
K+ and C3H3+ at 39, 7Li+ and 6LiH+ at 7), the counts in one ion's interval include the other's
peak. Here each such cluster of mass-list ions is fitted as a sum of peaks of known shape at the
ions' exact (calibrated) positions, with non-negative amplitudes and a local linear baseline
(non-negative least squares, Lawson & Hanson 1974), weighted by Poisson variances from a first
pass. An ion may bring its isotopologues (``simsflow.chemistry``) with their natural abundances
tied, so that an element's isolated isotopes support the one hidden under another ion.

The peak shape is the instrument's: a Gaussian core whose width follows
sigma(m)^2 = a m^2 + b m (constant mass resolution plus a fixed primary-pulse width, both seen
through the time-of-flight law), continued above ``tail_start`` sigma by an exponential tail,
longer for atomic ions than for molecular ones. Its parameters are estimated per spectrum from
isolated, strong peaks (the calibration's reference ions).

An ion's fitted area is reported like its interval area: the counts of its main peak (the one at
its mass-list m/z) that fall in its interval, so isolated ions agree with interval integration
and the peak table keeps its meaning; ``total`` is the whole fitted peak with all modelled
isotopologues. Standard errors come from the Poisson-weighted design at the solution
(inverse Fisher information), i.e. counting noise only.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

import numpy as np
import pandas as pd

# scipy (nnls, ndtr) is imported where a fit needs it: integration by intervals, the default,
# imports this module for its columns, and scipy.optimize took 0.5 s of every such job's start
from .chemistry import ion_mz, isotope_pattern, parse_ion
from .errors import SimsflowError

FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))
TAIL_START = 1.5  # sigma above the centre where the exponential tail takes over
MIN_ABUNDANCE = 1e-3  # tied isotopologues below this fraction of the strongest are not modelled
CORE_REACH = 6.0  # a peak's reach below its centre, in sigma
TAIL_REACH = 6.0  # and above: tail_start sigma plus this many tail decay lengths


def tailed_cdf(x, sigma, tail, tail_start: float = TAIL_START):
    """Cumulative area (0..1) of a Gaussian core continued by an exponential tail to high m/z.

    ``x`` is the distance from the centre, ``sigma`` the core width and ``tail`` the tail's
    decay length in units of sigma (all broadcast). The tail starts at ``tail_start`` sigma,
    continuous with the core.
    """
    from scipy.special import ndtr

    lam = tail * sigma
    root = sigma * np.sqrt(2.0 * np.pi)
    g_j = np.exp(-0.5 * tail_start * tail_start)
    z = np.asarray(x / sigma)
    # the special functions only where they vary (the core below tail_start, the tail
    # above): the same numbers as evaluating both everywhere, at about half the cost
    low = ~(z >= tail_start)  # NaN stays with the core and comes out NaN
    phi = np.full(z.shape, ndtr(tail_start))
    phi[low] = ndtr(z[low])
    beyond = np.asarray(x - tail_start * sigma)
    high = ~(beyond <= 0.0)
    tail_part = np.zeros(z.shape)
    lam_high = np.broadcast_to(lam, z.shape)[high]
    tail_part[high] = g_j * lam_high * -np.expm1(-beyond[high] / lam_high)
    return (root * phi + tail_part) / (root * ndtr(tail_start) + g_j * lam)


@dataclass(frozen=True)
class PeakShape:
    """Peak shape of one spectrum: core width sigma(m)^2 = a m^2 + b m (u^2) and tail lengths
    (in sigma) of atomic and molecular ions; ``source`` says where it came from."""

    sigma_a: float
    sigma_b: float
    tail_atomic: float
    tail_molecular: float
    n_peaks: int = 0
    source: str = "spectrum"  # or "median" (too few isolated peaks: the sample's median)

    def sigma(self, mz):
        """Gaussian core width (u) at ``mz``."""
        mz = np.asarray(mz, dtype=float)
        return np.sqrt(self.sigma_a * mz * mz + self.sigma_b * mz)

    def tail(self, atomic):
        """Tail length of an atomic (True) or molecular (False) ion."""
        return np.where(atomic, self.tail_atomic, self.tail_molecular)

    def resolution(self, mz):
        """Mass resolution m / FWHM of the core at ``mz``."""
        return np.asarray(mz, dtype=float) / (FWHM_PER_SIGMA * self.sigma(mz))


def bin_edges(mz: np.ndarray) -> np.ndarray:
    """Edges of the bins whose centres are ``mz`` (midpoints; the end bins mirrored)."""
    mid = 0.5 * (mz[1:] + mz[:-1])
    return np.concatenate([[2 * mz[0] - mid[0]], mid, [2 * mz[-1] - mid[-1]]])


def _local_edges(mz: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """``bin_edges(mz)[lo : hi + 1]`` (the same numbers) without the edges of all of ``mz``."""
    if lo > 0 and hi < mz.size:  # inside: midpoints only
        return 0.5 * (mz[lo : hi + 1] + mz[lo - 1 : hi])
    a, b = max(lo - 1, 0), min(hi + 1, mz.size)
    return bin_edges(mz[a:b])[lo - a : hi - a + 1]


def _tailed_cdf_terms(x, sigma, tail, tail_start: float = TAIL_START, derivatives=True):
    """``tailed_cdf`` and its derivatives by the centre, log sigma and log tail (analytic;
    without ``derivatives`` only the cdf and the derivative by the centre).

    The peak is a function of z = x / sigma and the tail alone, F(z; tail); so the derivative
    by the centre is -F'(z) / sigma, by log sigma -z F'(z), and by log tail tail * dF/dtail
    (the normalisation moves with the tail too)."""
    from scipy.special import ndtr

    root = np.sqrt(2.0 * np.pi)
    g_j = np.exp(-0.5 * tail_start * tail_start)
    z = np.asarray(x / sigma)
    low = z < tail_start
    beyond = np.maximum(z - tail_start, 0.0)
    # one exponential for both sides: the Gaussian below tail_start, the tail above
    height = np.exp(np.where(low, -0.5 * z * z, -0.5 * tail_start * tail_start - beyond / tail))
    tail_height = np.where(low, g_j, height)  # g_j exp(-beyond / tail)
    phi = np.full(z.shape, ndtr(tail_start))
    phi[low] = ndtr(z[low])  # the core's integral only where it varies
    norm = root * ndtr(tail_start) + g_j * tail
    cdf = (root * phi + tail * (g_j - tail_height)) / norm
    density = height / norm  # dF/dz
    if not derivatives:
        return cdf, -density / sigma
    d_tail = (tail * (g_j - tail_height) - beyond * tail_height - g_j * cdf * tail) / norm
    return cdf, -density / sigma, -z * density, d_tail


def _first_shapes(centre, width, excess, m0, sigma0):
    """Closed-form first widths and tails of peaks near ``m0`` (one per row; the bins'
    centres, widths and counts above the background, padded with empty bins): sigma from the
    second moment of a peak's low side (the core's half, which the tail does not reach; bin
    widths taken as uniform), the tail from the counts beyond TAIL_START sigma against the
    low half's (a tail of length t holds exp(-TAIL_START^2 / 2) t / sqrt(2 pi) / ndtr(0) of
    the half). Kept within a factor 4 of ``sigma0``, which stands where a low side is empty."""
    low = np.where(centre < m0[:, None], excess, 0.0)
    half = low.sum(axis=1)
    moment = (low * ((centre - m0[:, None]) ** 2 - width**2 / 12)).sum(axis=1)
    variance = moment / np.maximum(half, 1e-300)
    sigma = np.where(half > 0, np.sqrt(np.maximum(variance, 0.0)), sigma0)
    sigma = np.clip(sigma, sigma0 / 4, sigma0 * 4)
    beyond = np.where(centre > (m0 + TAIL_START * sigma)[:, None], excess, 0.0).sum(axis=1)
    per_tail = np.exp(-0.5 * TAIL_START**2) / np.sqrt(2 * np.pi) / 0.5
    tail = np.clip(beyond / np.maximum(half, 1e-300) / per_tail, 0.3, 15.0)
    return sigma, np.where(half > 0, tail, 3.0)


PAD = 16  # padded problems are this many bins long, rounded up: see ``_by_padded_length``


def _padded(length: int) -> int:
    """The length a problem of ``length`` bins is padded to (a multiple of ``PAD``)."""
    return -(-int(length) // PAD) * PAD


def _by_padded_length(lengths) -> dict[int, np.ndarray]:
    """Indices of problems grouped by their padded length, in order of the lengths.

    Problems solved together share padded arrays; padding every problem to a length set by
    its own size alone (not by the longest of the others) makes its numbers, to the last
    bit, the same whichever others it is solved with: sums over a row, matrix products and
    the rest depend on a row's length, not on how many rows there are. So a sample fitted
    alone or in a batch of others gives identical results."""
    padded = np.array([_padded(n) for n in lengths], dtype=np.int64)
    return {int(p): np.flatnonzero(padded == p) for p in np.unique(padded)}


def _fit_peaks(
    windows: list[tuple[np.ndarray, np.ndarray, float, float]],
    iterations: int = 100,
    tolerance: float = 1e-5,
):
    """``_fit_padded_peaks`` of the windows, those of one padded length together."""
    sigma, tail = np.full(len(windows), np.nan), np.full(len(windows), np.nan)
    for length, rows in _by_padded_length([w[1].size for w in windows]).items():
        some = [windows[k] for k in rows]
        sigma[rows], tail[rows] = _fit_padded_peaks(some, length, iterations, tolerance)
    return sigma, tail


def _fit_padded_peaks(
    windows: list[tuple[np.ndarray, np.ndarray, float, float]],
    length: int,
    iterations: int,
    tolerance: float,
):
    """Least-squares fits of isolated peaks (Levenberg-Marquardt with analytic derivatives):
    each window is (bin edges, counts, expected m/z, first sigma); the model is the tailed peak
    (centre, sigma, tail, area) on a flat background, weighted by Poisson variances. Returns
    sigma and tail per window, NaN where a fit ends at a bound of its width or tail or has not
    converged within ``iterations``.

    All windows are fitted at once on arrays padded to ``length`` bins, but each on its own:
    a window stops (its parameters stay) when its step is below ``tolerance`` (centre in
    sigma, log sigma, log tail, area relative), and nothing it does depends on the other
    windows. Its widths are
    then within about ``tolerance`` of the optimum, far below their statistical error."""
    n = len(windows)
    sizes = np.array([w[1].size for w in windows])
    edges = np.empty((n, length + 1))
    counts = np.zeros((n, length))
    for k, (e, y, _, _) in enumerate(windows):
        edges[k, : e.size] = e
        edges[k, e.size :] = e[-1]  # padding bins are empty (and weigh nothing)
        counts[k, : y.size] = y
    inside = np.arange(length)[None, :] < sizes[:, None]
    weight = np.where(inside, 1.0 / np.sqrt(np.maximum(counts, 1.0)), 0.0)
    m0 = np.array([w[2] for w in windows], dtype=float)
    sigma0 = np.array([w[3] for w in windows], dtype=float)
    floor = np.maximum(np.minimum(counts[:, 0], counts[np.arange(n), sizes - 1]), 0.0)
    area = np.maximum(counts.sum(axis=1) - sizes * floor, 1.0)
    excess = np.where(inside, np.maximum(counts - floor[:, None], 0.0), 0.0)
    sigma_first, tail_first = _first_shapes(
        0.5 * (edges[:, 1:] + edges[:, :-1]), np.diff(edges, axis=1), excess, m0, sigma0
    )
    # centre, log sigma, log tail, area, background
    p = np.column_stack([m0, np.log(sigma_first), np.log(tail_first), area, floor])
    lower = np.column_stack([m0 - 3 * sigma0, np.log(sigma0 / 5), np.full(n, np.log(0.2)),
                             np.zeros(n), np.zeros(n)])  # fmt: skip
    upper = np.column_stack([m0 + 3 * sigma0, np.log(sigma0 * 5), np.full(n, np.log(20.0)),
                             10 * area + 10, area + 10])  # fmt: skip

    def evaluate(q, rows):
        """Weighted residuals, their Jacobian and the costs of the windows ``rows`` at ``q``."""
        w = weight[rows]
        x = edges[rows] - q[:, :1]
        terms = _tailed_cdf_terms(x, np.exp(q[:, 1:2]), np.exp(q[:, 2:3]))
        binned = [np.diff(t, axis=1) for t in terms]
        amplitude = q[:, 3:4] * w
        r = (q[:, 3:4] * binned[0] + q[:, 4:5] - counts[rows]) * w
        jac = np.stack([amplitude * binned[1], amplitude * binned[2], amplitude * binned[3],
                        binned[0] * w, w], axis=-1)  # fmt: skip
        transposed = jac.swapaxes(1, 2)  # (batched matrix products: einsum is slower here)
        gradient, hessian = (transposed @ r[:, :, None])[:, :, 0], transposed @ jac
        return np.einsum("pl,pl->p", r, r), gradient, hessian

    cost, gradient, hessian = evaluate(p, slice(None))
    damping = np.full(n, 1e-3)
    active = np.arange(n)  # the windows still moving
    eye = np.eye(5)
    for _ in range(iterations):
        q, h = p[active], hessian[active]
        diagonal = np.einsum("pkk->pk", h)
        damped = h + (damping[active, None] * diagonal + 1e-12)[:, :, None] * eye
        step = -np.linalg.solve(damped, gradient[active][:, :, None])[:, :, 0]
        trial = np.clip(q + step, lower[active], upper[active])
        moved = np.abs(trial - q)
        size = np.maximum.reduce([moved[:, 0] / np.exp(q[:, 1]), moved[:, 1], moved[:, 2],
                                  moved[:, 3] / np.maximum(q[:, 3], 1.0)])  # fmt: skip
        cost_t, gradient_t, hessian_t = evaluate(trial, active)
        better = cost_t < cost[active]
        took = active[better]
        p[took], cost[took] = trial[better], cost_t[better]
        gradient[took], hessian[took] = gradient_t[better], hessian_t[better]
        damping[active] = np.where(better, damping[active] / 3.0, damping[active] * 4.0)
        active = active[~((size < tolerance) | (damping[active] > 1e10))]
        if not active.size:
            break
    inner = (p[:, 1:3] > lower[:, 1:3] + 1e-3) & (p[:, 1:3] < upper[:, 1:3] - 1e-3)
    ok = inner.all(axis=1) & np.isfinite(p).all(axis=1)
    ok[active] = False  # not converged
    return np.where(ok, np.exp(p[:, 1]), np.nan), np.where(ok, np.exp(p[:, 2]), np.nan)


def _peak_windows(mz, counts, candidates, known, min_counts, max_peaks):
    """The fit windows of a spectrum's candidate peaks that are isolated and strong enough, at
    most ``max_peaks`` of them (``_strongest``): (m/z, atomic, bin width, (edges, counts, m/z,
    first sigma)); the candidates' tests done for all of them at once."""
    if not candidates:
        return []
    m0 = np.array([m for m, _ in candidates], dtype=float)
    keep = np.flatnonzero((mz[0] < m0) & (m0 < mz[-1]))
    m0, size = m0[keep], mz.size
    i = np.searchsorted(mz, m0)  # 1 <= i <= size - 1
    left = 0.5 * (mz[i] + mz[i - 1])  # bin_edges(mz)[i] and [i + 1]
    inner = np.minimum(i + 1, size - 1)
    right = np.where(i + 1 < size, 0.5 * (mz[inner] + mz[inner - 1]),
                     2 * mz[-1] - 0.5 * (mz[-1] + mz[-2]))  # fmt: skip
    width = right - left
    # a first width from the bins above half maximum near the expected position
    near = i[:, None] + np.arange(-8, 9)[None, :]
    valid = (near >= 0) & (near < size)
    values = np.where(valid, counts[np.clip(near, 0, size - 1)], -np.inf)
    top = values.max(axis=1)
    above = np.count_nonzero(values > (top / 2)[:, None], axis=1)
    fwhm = np.maximum(above, 1) * width
    sigma0 = np.maximum(fwhm / FWHM_PER_SIGMA, 0.5 * width)
    lo_m, hi_m = m0 - 10 * sigma0, m0 + (TAIL_START + 18.0) * sigma0
    crowded = (
        (known[None, :] > lo_m[:, None])
        & (known[None, :] < hi_m[:, None])
        & (np.abs(known[None, :] - m0[:, None]) > 1e-6)
    ).any(axis=1)
    lo, hi = np.searchsorted(mz, lo_m), np.searchsorted(mz, hi_m)
    usable = []  # (k, atomic, counts)
    for k in np.flatnonzero((top > 0) & ~crowded & (hi - lo >= 6)):
        total = counts[lo[k] : hi[k]].sum()
        if total >= min_counts:
            usable.append((k, candidates[keep[k]][1], total))
    out = []
    for k in _strongest(usable, max_peaks):
        a, b = int(lo[k]), int(hi[k])
        m, atomic = candidates[keep[k]]
        window = (_local_edges(mz, a, b), counts[a:b], m, sigma0[k])
        out.append((m, atomic, width[k], window))
    return out


def _strongest(usable: list[tuple[int, bool, float]], count: int) -> list[int]:
    """Of peaks (key, atomic, counts), the keys of the ``count`` with most counts, atomic and
    molecular ions taking turns (the strongest of each kind first), in their original order."""
    rank = {}
    for kind in (True, False):
        mine = sorted((-total, k) for k, atomic, total in usable if atomic == kind)
        rank.update({k: (r, strength) for r, (strength, k) in enumerate(mine)})
    return sorted(sorted(rank, key=rank.get)[:count])


def _two_term_nnls(design: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """Non-negative least squares with two columns, in closed form: the unconstrained
    solution if both are non-negative, else the better of the two one-column fits."""
    gram = design.T @ design
    rhs = design.T @ target
    det = gram[0, 0] * gram[1, 1] - gram[0, 1] ** 2
    if det > 1e-12 * gram[0, 0] * gram[1, 1]:
        a = (gram[1, 1] * rhs[0] - gram[0, 1] * rhs[1]) / det
        b = (gram[0, 0] * rhs[1] - gram[0, 1] * rhs[0]) / det
        if a >= 0 and b >= 0:
            return float(a), float(b)
    # on a face: one coefficient zero, the other its own (non-negative) least squares;
    # the better one lowers the cost -2 x rhs + x^2 gram more
    single = np.maximum(rhs, 0.0) / np.maximum(np.diag(gram), 1e-300)
    gain = single * rhs - 0.5 * single * single * np.diag(gram)
    return (float(single[0]), 0.0) if gain[0] >= gain[1] else (0.0, float(single[1]))


def _combine(rows) -> PeakShape:
    m, s, t, atomic = (np.array(c) for c in zip(*rows, strict=True))
    # sigma^2 = a m^2 + b m, relative errors, a and b non-negative
    a, b = _two_term_nnls(np.column_stack([m * m, m]) / (s * s)[:, None], np.ones(m.size))
    tails = {flag: t[atomic == flag] for flag in (True, False)}
    t_all = median(t.tolist())
    tail_atomic = median(tails[True].tolist()) if tails[True].size else t_all
    tail_molecular = median(tails[False].tolist()) if tails[False].size else t_all
    return PeakShape(float(a), float(b), tail_atomic, tail_molecular, n_peaks=len(rows))


def estimate_shapes(
    spectra: list[tuple[np.ndarray, np.ndarray]],
    candidates: list[list[tuple[float, bool]]],
    known_masses: np.ndarray,
    *,
    min_counts: float = 500.0,
    min_peaks: int = 2,
    max_peaks: int = 6,
) -> list[PeakShape | None]:
    """Peak shape of each calibrated spectrum ((mz, counts)) from its isolated strong peaks.

    ``candidates``: per spectrum, (exact m/z, atomic) of the peaks to try (its reference ions);
    one is used when no other of ``known_masses`` lies within its reach and it has
    ``min_counts`` counts. A peak narrower than a bin gives no width (coarse binning at low
    mass) and is skipped. A spectrum with fewer than ``min_peaks`` usable peaks gets None.
    Of the usable peaks, the ``max_peaks`` strongest are fitted (the strongest atomic and
    molecular ones in turn, as both tails are wanted): a shape has three parameters per kind
    of ion, and more, weaker peaks cost more than they add. The peaks of all spectra are fitted
    together (one vectorized least-squares problem), each on its own.
    """
    known = np.sort(np.asarray(known_masses, dtype=float))
    return _estimate_shapes(
        spectra, candidates, [known] * len(spectra), min_counts, min_peaks, max_peaks
    )


def _estimate_shapes(
    spectra, candidates, knowns, min_counts=500.0, min_peaks=2, max_peaks=6
) -> list[PeakShape | None]:
    """``estimate_shapes`` with the known masses (sorted) given per spectrum."""
    found = [
        _peak_windows(mz, counts, c, known, min_counts, max_peaks) if mz.size >= 8 else []
        for (mz, counts), c, known in zip(spectra, candidates, knowns, strict=True)
    ]
    windows = [w[3] for spectrum in found for w in spectrum]
    if not windows:
        return [None] * len(spectra)
    sigma, tail = _fit_peaks(windows)
    shapes, k = [], 0
    for spectrum in found:
        rows = []
        for m0, atomic, width, _ in spectrum:
            if np.isfinite(sigma[k]) and sigma[k] >= 0.3 * width:
                rows.append((m0, sigma[k], tail[k], atomic))
            k += 1
        shapes.append(_combine(rows) if len(rows) >= min_peaks else None)
    return shapes


def estimate_shape(
    mz: np.ndarray,
    counts: np.ndarray,
    candidates: list[tuple[float, bool]],
    known_masses: np.ndarray,
    **options,
) -> PeakShape | None:
    """``estimate_shapes`` of one spectrum."""
    return estimate_shapes([(mz, counts)], [candidates], known_masses, **options)[0]


def median_shape(shapes: list[PeakShape]) -> PeakShape:
    """The component-wise median of shapes, marked as a fallback."""
    fields = ("sigma_a", "sigma_b", "tail_atomic", "tail_molecular")
    values = {f: median([getattr(s, f) for s in shapes]) for f in fields}
    return PeakShape(**values, n_peaks=0, source="median")


@dataclass(frozen=True)
class FitIon:
    """A mass-list ion as the fit sees it: its interval, its modelled peaks (exact m/z and
    abundance fractions; one peak unless its isotopologues are tied) and which is its main one."""

    name: str
    lower: float
    upper: float
    masses: np.ndarray
    abundances: np.ndarray
    main: int
    atomic: bool
    fitted: bool  # False: opted out, its area stays the interval's (it is still modelled)


def fit_ions(mass_list: pd.DataFrame) -> list[FitIon]:
    """FitIon of every mass-list row (columns ion, mz, lower, upper, optional ``fit``:
    '' | 'interval' (keep interval integration) | 'isotopes' (tie its isotopologues))."""
    modes = mass_list["fit"] if "fit" in mass_list.columns else [""] * len(mass_list)
    out = []
    for ion, mz, lower, upper, mode in zip(
        mass_list["ion"],
        mass_list["mz"],
        mass_list["lower"],
        mass_list["upper"],
        modes,
        strict=True,
    ):
        mode = mode if isinstance(mode, str) else ""
        try:
            parsed = parse_ion(ion)
            atomic = parsed.n_atoms == 1
        except SimsflowError:
            parsed, atomic = None, False
        masses, abundances, main = np.array([float(mz)]), np.array([1.0]), 0
        if mode == "isotopes":
            if parsed is None:
                raise SimsflowError(
                    f"ion '{ion}' is not a formula: its isotopologues cannot be tied",
                    column="fit",
                    hint="name the ion by its formula, or leave its fit column empty",
                )
            masses, abundances = isotope_pattern(ion)
            keep = abundances >= MIN_ABUNDANCE * abundances.max()
            masses, abundances = masses[keep], abundances[keep] / abundances[keep].sum()
            main = int(np.argmin(np.abs(masses - mz)))
            masses = masses + (float(mz) - masses[main])  # the list's m/z places the pattern
        out.append(
            FitIon(
                ion,
                float(lower),
                float(upper),
                masses,
                abundances,
                main,
                atomic,
                mode != "interval",
            )
        )
    return out


def _segments(ions: list[FitIon], shape: PeakShape) -> list[tuple[float, float, int]]:
    """Where the ions are seen, as (lower, upper, ion index): each ion's interval, and each of
    its peaks from CORE_REACH sigma below to the tail's TAIL_REACH decay lengths above."""
    masses = np.concatenate([ion.masses for ion in ions])
    owner = np.repeat(np.arange(len(ions)), [ion.masses.size for ion in ions])
    atomic = np.array([ion.atomic for ion in ions], dtype=bool)[owner]
    sigma = shape.sigma(masses)
    up = (TAIL_START + TAIL_REACH * shape.tail(atomic)) * sigma
    intervals = [(ion.lower, ion.upper, i) for i, ion in enumerate(ions)]
    lows, highs = (masses - CORE_REACH * sigma).tolist(), (masses + up).tolist()
    return intervals + list(zip(lows, highs, owner.tolist(), strict=True))


def find_clusters(ions: list[FitIon], shape: PeakShape) -> list[list[int]]:
    """Groups of ions whose peaks or intervals overlap (``_segments``), in m/z order of their
    first segment; an isolated ion is a group of one. Tied isotopologues join their ion's group
    only where they overlap something, so a group never spans empty masses between them."""
    parent = list(range(len(ions)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    segments = sorted(_segments(ions, shape)) if ions else []
    end, last = -np.inf, -1
    for lo, hi, i in segments:
        if lo < end:
            parent[root(i)] = root(last)
        if hi > end:
            end, last = hi, i
    groups: dict[int, list[int]] = {}
    for i in range(len(ions)):
        groups.setdefault(root(i), []).append(i)
    first: dict[int, float] = {}
    for lo, _, i in segments:  # sorted: the first seen is the lowest
        first.setdefault(root(i), lo)
    return [groups[r] for r in sorted(groups, key=lambda r: (first[r], r))]


@dataclass(frozen=True)
class _Windows:
    """The windows of a group of fitted problems, padded (one row per problem): which bins are
    the window's, their m/z and counts, each ion's fitted peak and the fitted baseline."""

    seen: np.ndarray
    mz: np.ndarray
    counts: np.ndarray
    components: np.ndarray  # (problems, bins, ions)
    baseline: np.ndarray


@dataclass
class ClusterFit:
    """One cluster fitted in one spectrum: per ion its in-interval area, whole-peak total and
    their standard errors; the window's data, components and baseline for figures (taken from
    the group's arrays when first asked for: most fits are never drawn)."""

    ions: list[str]
    fitted: np.ndarray  # bool per ion: reported (not opted out)
    area: np.ndarray
    area_se: np.ndarray
    total: np.ndarray
    total_se: np.ndarray
    shift_ppm: float  # the peaks' common shift from their calibrated positions
    residual_pct: float  # 100 * sum|data - model| / sum(data) over the window
    chi2_per_bin: float
    windows: _Windows
    row: int  # this fit's row of ``windows``

    @property
    def name(self) -> str:
        """The cluster's ions joined by '|' (how QC rows and figures name it)."""
        return "|".join(self.ions)

    @property
    def mz(self) -> np.ndarray:
        """m/z of the window's bins."""
        return self.windows.mz[self.row, self.windows.seen[self.row]]

    @property
    def counts(self) -> np.ndarray:
        """Counts of the window's bins."""
        return self.windows.counts[self.row, self.windows.seen[self.row]]

    @property
    def components(self) -> np.ndarray:
        """Fitted counts of each ion's peaks in the window's bins (ions, bins)."""
        return self.windows.components[self.row, self.windows.seen[self.row]].T

    @property
    def baseline(self) -> np.ndarray:
        """The fitted baseline in the window's bins."""
        return self.windows.baseline[self.row, self.windows.seen[self.row]]


def _batched_nnls(design: np.ndarray, counts: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Weighted non-negative least squares of many small problems at once: design (V, L, k),
    counts and weights (V, L). Where the unconstrained least-squares solution is positive it is
    the optimum (the problem is convex); the others (typically a few in ten, an absent ion or a
    flat baseline) go to ``_nnls_supports``. Wide designs loop over SciPy's."""
    a = design * weight[..., None]
    yw = counts * weight
    k = a.shape[-1]
    if k > 7:
        from scipy.optimize import nnls

        return np.array([nnls(a[v], yw[v])[0] for v in range(a.shape[0])]).reshape(-1, k)
    at = a.swapaxes(1, 2)
    gram = at @ a
    b = (at @ yw[..., None])[..., 0]
    scale = np.einsum("vkk->vk", gram).max(axis=1)[:, None, None] + 1e-300
    x = np.linalg.solve(gram + np.eye(k) * 1e-13 * scale, b[..., None])[..., 0]
    cost = np.einsum("vk,vkm,vm->v", x, gram, x) - 2.0 * np.einsum("vk,vk->v", b, x)
    done = np.all(x > 0, axis=1) & (cost < 0.0)
    out = np.where(done[:, None], x, 0.0)
    rest = np.flatnonzero(~done)
    if rest.size:
        out[rest] = _nnls_supports(gram[rest], b[rest], scale[rest])
    return out


def _nnls_supports(gram: np.ndarray, b: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Non-negative least squares from normal equations (gram (V, k, k), b (V, k), ``scale``
    the largest diagonal entry (V, 1, 1)): with k columns the optimum is the least-squares
    solution on one of the 2^k - 1 supports that is positive there and costs least (or zero),
    so every support is solved (batched) and the best feasible one kept; exact, like
    Lawson-Hanson, and without a Python loop over problems."""
    k = gram.shape[-1]
    supports = ((np.arange(1, 2**k)[:, None] >> np.arange(k)) & 1).astype(bool)  # (Q, k)
    both = supports[:, :, None] & supports[:, None, :]
    scale = scale[:, None]  # (V, 1, 1, 1)
    sub = np.where(both[None], gram[:, None], 0.0)
    sub = sub + np.eye(k) * (~supports)[None, :, None, :] * scale  # inactive: x = 0
    sub = sub + np.eye(k) * 1e-13 * scale
    rhs = np.where(supports[None], b[:, None, :], 0.0)
    x = np.linalg.solve(sub, rhs[..., None])[..., 0]  # (V, Q, k)
    feasible = np.all((x > 0) | ~supports[None], axis=-1)
    cost = np.einsum("vqk,vkm,vqm->vq", x, gram, x) - 2.0 * np.einsum("vk,vqk->vq", b, x)
    cost = np.where(feasible, cost, np.inf)
    best = np.argmin(cost, axis=1)
    rows = np.arange(x.shape[0])
    return np.where((cost[rows, best] < 0.0)[:, None], x[rows, best], 0.0)


def _cluster_peaks(ions: list[FitIon]) -> dict:
    """The modelled peaks of a cluster's ions, flat: m/z, abundance, atomic, owning ion, each
    ion's main peak; the ions' intervals; the centre whose ppm the shift is given in."""
    return {
        "masses": np.concatenate([ion.masses for ion in ions]),
        "abundance": np.concatenate([ion.abundances for ion in ions]),
        "atomic": np.concatenate([np.full(ion.masses.size, ion.atomic) for ion in ions]),
        "owner": np.concatenate([np.full(ion.masses.size, i) for i, ion in enumerate(ions)]),
        "main": np.cumsum([0] + [ion.masses.size for ion in ions[:-1]]) + [i.main for i in ions],
        "lower": np.array([ion.lower for ion in ions]),
        "upper": np.array([ion.upper for ion in ions]),
        "centre": float(np.mean([ion.masses[ion.main] for ion in ions])),
    }


def _segment_bounds(peaks: dict, sigma_a, sigma_b, tail_atomic, tail_molecular):
    """``_segments`` of a cluster's ions in many spectra at once (one row of shape parameters
    each): lower and upper bounds (V, segments), the ions' intervals first."""
    m = peaks["masses"][None, :]
    sigma = np.sqrt(sigma_a[:, None] * m * m + sigma_b[:, None] * m)
    tail = np.where(peaks["atomic"][None, :], tail_atomic[:, None], tail_molecular[:, None])
    up = (TAIL_START + TAIL_REACH * tail) * sigma
    count = sigma_a.size
    lower = np.concatenate([np.broadcast_to(peaks["lower"], (count, peaks["lower"].size)),
                            m - CORE_REACH * sigma], axis=1)  # fmt: skip
    upper = np.concatenate([np.broadcast_to(peaks["upper"], (count, peaks["upper"].size)),
                            m + up], axis=1)  # fmt: skip
    return lower, upper


def fit_clusters(
    spectra: list[tuple[np.ndarray, np.ndarray]],
    clusters: list[list[FitIon]],
    shapes: list[PeakShape],
    *,
    max_shift_ppm: float = 60.0,
    iterations: int = 3,
) -> list[list[ClusterFit | None]]:
    """Fit clusters of ions in many calibrated spectra ((mz, counts) each, with its shape):
    per cluster, per spectrum its ``ClusterFit``, or None where the spectrum does not cover
    the cluster's window.

    Amplitudes are non-negative; the baseline is linear (two non-negative ramps); all peaks may
    move together by a small shift (at most ``max_shift_ppm``) that absorbs what the calibration
    leaves at this mass: a few ppm are a good fraction of a sigma at high counts. The shift is
    refined by Gauss-Newton steps between NNLS solutions, each weighted by the Poisson variance
    of the previous model; the standard errors come from the Fisher information of all
    parameters (amplitudes, baseline, shift) at the solution. Only the bins where the
    cluster's peaks or intervals are take part: no unlisted peak between them.

    Every (cluster, spectrum) pair is one small problem, solved independently of the others;
    the problems of all clusters with the same numbers of ions and modelled peaks and the same
    padded length are solved together, so the cost is a few array operations per group, not
    per cluster or spectrum, and a problem's numbers are the same whichever others share its
    group (``_by_padded_length``).
    """
    out: list[list[ClusterFit | None]] = [[None] * len(spectra) for _ in clusters]
    if not clusters or not spectra:
        return out
    peaks = [_cluster_peaks(ions) for ions in clusters]
    params = {
        f: np.array([getattr(sh, f) for sh in shapes], dtype=float)
        for f in ("sigma_a", "sigma_b", "tail_atomic", "tail_molecular")
    }
    bounds = [_segment_bounds(p, **params) for p in peaks]
    # one searchsorted per spectrum for every segment bound of every cluster
    flat = np.concatenate([np.concatenate([lo, hi], axis=1) for lo, hi in bounds], axis=1)
    index = np.array([np.searchsorted(mz, row) for (mz, _), row in zip(spectra, flat, strict=True)])
    sizes = np.array([mz.size for mz, _ in spectra])
    start, where = 0, []  # per cluster: (segment starts, segment ends) as indices, (V, S)
    for lo, _ in bounds:
        s = lo.shape[1]
        where.append((index[:, start : start + s], index[:, start + s : start + 2 * s]))
        start += 2 * s
    # problems (cluster, spectrum) grouped by their ions, modelled peaks and padded length
    groups: dict[tuple[int, int, int], list[tuple[int, int]]] = {}
    for c, ions in enumerate(clusters):
        a, b = where[c]
        lo, hi = a.min(axis=1), b.max(axis=1)
        ok = (lo > 0) & (hi < sizes) & (hi - lo >= 2)
        for v in np.flatnonzero(ok):
            key = (len(ions), peaks[c]["masses"].size, _padded(hi[v] - lo[v]))
            groups.setdefault(key, []).append((c, int(v)))
    for (n, _, size), problems in sorted(groups.items()):
        _fit_group(problems, n, size, clusters, peaks, where, params, out, spectra,
                   max_shift_ppm, iterations)  # fmt: skip
    return out


def _fit_group(problems, n, size, clusters, peaks, where, params, out, spectra, max_shift_ppm,
               iterations) -> None:  # fmt: skip
    """``fit_clusters`` of the (cluster, spectrum) problems of clusters of ``n`` ions with the
    same number of modelled peaks, all on one set of arrays padded to ``size`` bins (see
    ``_by_padded_length``); results into ``out``."""
    cl = np.array([c for c, _ in problems])
    sp = np.array([v for _, v in problems])
    count = len(problems)
    # per cluster of the group, then gathered for each problem (cluster ``at``, spectrum sp)
    used = np.unique(cl)
    at = np.searchsorted(used, cl)
    # the window of each problem: its segments as indices into its spectrum
    n_seg = max(where[c][0].shape[1] for c in used)
    seg_a = np.empty((used.size, len(spectra), n_seg), dtype=np.int64)
    seg_b = np.empty_like(seg_a)
    for g, c in enumerate(used):
        a, b = where[c]
        seg_a[g, :, : a.shape[1]], seg_b[g, :, : b.shape[1]] = a, b
        seg_a[g, :, a.shape[1] :] = seg_b[g, :, b.shape[1] :] = a.max(axis=1, keepdims=True)
    seg_a, seg_b = seg_a[at, sp], seg_b[at, sp]  # (problems, segments); the empty ones last
    lo, hi = seg_a.min(axis=1), seg_b.max(axis=1)
    length = hi - lo
    j = np.arange(size)
    inside_window = j[None, :] < length[:, None]
    seen = inside_window & np.any(
        (j[None, None, :] >= (seg_a - lo[:, None])[:, :, None])
        & (j[None, None, :] < (seg_b - lo[:, None])[:, :, None]),
        axis=1,
    )
    point = lo[:, None] + np.minimum(j[None, :], (length - 1)[:, None])
    edge = lo[:, None] + np.minimum(np.arange(size + 1)[None, :], length[:, None])
    window_mz, edges, y = (
        np.empty((count, size)),
        np.empty((count, size + 1)),
        np.empty((count, size)),
    )
    for v in np.unique(sp):
        rows = sp == v
        mz, counts = spectra[v]
        window_mz[rows] = mz[point[rows]]
        edges[rows] = 0.5 * (mz[edge[rows]] + mz[edge[rows] - 1])  # bin_edges(mz), inside it
        y[rows] = counts[point[rows]]
    y = np.where(seen, y, 0.0)
    first = window_mz[:, :1]
    last = np.take_along_axis(window_mz, (length - 1)[:, None], axis=1)
    u = np.where(inside_window, (window_mz - first) / np.maximum(last - first, 1e-12), 0.0)
    # the modelled peaks of each problem, padded with absent ones (abundance 0)
    k_max = max(peaks[c]["masses"].size for c in used)
    masses = np.empty((used.size, k_max))
    abundance = np.zeros((used.size, k_max))
    atomic = np.zeros((used.size, k_max), dtype=bool)
    member = np.zeros((used.size, n, k_max))
    main = np.empty((used.size, n), dtype=int)
    lower, upper = np.empty((used.size, n)), np.empty((used.size, n))
    centre = np.empty(used.size)
    for g, c in enumerate(used):
        p = peaks[c]
        k = p["masses"].size
        masses[g] = p["masses"][0]
        masses[g, :k] = p["masses"]
        abundance[g, :k] = p["abundance"]
        atomic[g, :k] = p["atomic"]
        member[g, :, :k] = p["owner"][None, :] == np.arange(n)[:, None]
        main[g] = p["main"]
        lower[g], upper[g], centre[g] = p["lower"], p["upper"], p["centre"]
    masses, abundance, atomic, member = masses[at], abundance[at], atomic[at], member[at]
    main, lower, upper, centre = main[at], lower[at], upper[at], centre[at]
    sigma_a = params["sigma_a"][sp][:, None]
    sigma_b = params["sigma_b"][sp][:, None]
    tail = np.where(atomic, params["tail_atomic"][sp][:, None],
                    params["tail_molecular"][sp][:, None])[:, :, None]  # fmt: skip
    on = seen.astype(float)
    ramps = np.stack([(1.0 - u) * on, u * on], axis=-1)
    weight = abundance[:, :, None] * on[:, None, :]

    def columns(shift):
        m = masses + shift[:, None]
        sigma = np.sqrt(sigma_a * m * m + sigma_b * m)[:, :, None]
        x = edges[:, None, :] - m[:, :, None]
        cdf, d_centre = _tailed_cdf_terms(x, sigma, tail, derivatives=False)
        parts = np.diff(cdf, axis=-1) * weight
        d_parts = np.diff(d_centre, axis=-1) * weight  # by the shift: minus the density
        peaks_ = (member @ parts).swapaxes(1, 2)  # (matrix products: einsum is slower)
        d_peaks = (member @ d_parts).swapaxes(1, 2)
        at = main[:, :, None]
        return (peaks_, np.take_along_axis(parts, at, axis=1), d_peaks,
                np.take_along_axis(d_parts, at, axis=1))  # fmt: skip

    bound = max_shift_ppm * 1e-6 * centre
    shifting = max_shift_ppm > 0
    shift = np.zeros(count)
    variance = np.maximum(y, 1.0)
    for _ in range(iterations):
        peak_columns, _, d_peaks, _ = columns(shift)
        design = np.concatenate([peak_columns, ramps], axis=-1)
        x = _batched_nnls(design, y, on / np.sqrt(variance))
        model = np.einsum("vlk,vk->vl", design, x)
        variance = np.maximum(model, 1.0)
        if not shifting:
            break
        gradient = np.einsum("vln,vn->vl", d_peaks, x[:, :n])  # d model / d shift
        g = gradient * on / variance
        step = (g * (y - model)).sum(axis=1) / np.maximum((g * gradient).sum(axis=1), 1e-300)
        moving = x[:, :n].any(axis=1)
        shift = np.where(moving, np.clip(shift + step, -bound, bound), shift)
    peak_columns, main_parts, d_peaks, d_main = columns(shift)
    design = np.concatenate([peak_columns, ramps], axis=-1)
    x = _batched_nnls(design, y, on / np.sqrt(variance))
    model = np.einsum("vlk,vk->vl", design, x)
    variance = np.maximum(model, 1.0)
    gradient = np.einsum("vln,vn->vl", d_peaks, x[:, :n])
    jacobian = design
    if shifting:
        jacobian = np.concatenate([design, gradient[..., None]], axis=-1)
    fisher = np.einsum("vlp,vlq->vpq", jacobian * (on / variance)[..., None], jacobian)
    cov = _covariances(fisher)
    se = np.sqrt(np.clip(np.einsum("vpp->vp", cov), 0.0, None))
    # An ion's area: the counts in its interval less what the fit gives the other peaks (and
    # its own other isotopologues) and the baseline there; its error propagates the counting
    # noise of the interval and of the fitted spill-over, which share bins (linearized).
    inside = (
        seen[:, None, :]
        & (window_mz[:, None, :] >= lower[:, :, None])
        & (window_mz[:, None, :] < upper[:, :, None])
    ).astype(float)  # (V, ions, L)
    own_inside = x[:, :n] * np.einsum("vil,vil->vi", inside, main_parts)
    spill = inside @ model[..., None] - own_inside[..., None]
    area = np.maximum((inside @ y[..., None])[..., 0] - spill[..., 0], 0.0)
    c_ = np.zeros((count, n, jacobian.shape[-1]))
    c_[:, :, : n + 2] = np.einsum("vil,vlk->vik", inside, design)
    c_[:, np.arange(n), np.arange(n)] -= np.einsum("vil,vil->vi", inside, main_parts)
    if shifting:
        own_shift = x[:, :n] * np.einsum("vil,vil->vi", inside, d_main)
        c_[:, :, -1] = (inside @ gradient[..., None])[..., 0] - own_shift
    h = np.einsum("vil,vlp->vip", inside, jacobian)
    var = (
        (inside @ variance[..., None])[..., 0]
        + np.einsum("vip,vpq,viq->vi", c_, cov, c_)
        - 2.0 * np.einsum("vip,vpq,viq->vi", c_, cov, h)
    )
    area_se = np.sqrt(np.maximum(var, 0.0))
    residual = (y - model) * on
    residual_pct = 100.0 * np.abs(residual).sum(axis=1) / np.maximum(y.sum(axis=1), 1.0)
    dof = np.maximum(seen.sum(axis=1) - n - 3, 1)
    chi2 = (residual**2 / variance).sum(axis=1) / dof
    shift_ppm = (shift / centre * 1e6).tolist()
    residual_pct, chi2 = residual_pct.tolist(), chi2.tolist()
    components = peak_columns * x[:, None, :n]
    baseline = ramps[..., 0] * x[:, None, n] + ramps[..., 1] * x[:, None, n + 1]
    names = {c: [ion.name for ion in clusters[c]] for c in set(cl.tolist())}
    fitted = {c: np.array([ion.fitted for ion in clusters[c]]) for c in names}
    windows = _Windows(seen, window_mz, y, components, baseline)
    for r, (c, v) in enumerate(problems):
        out[c][v] = ClusterFit(
            ions=names[c],
            fitted=fitted[c],
            area=area[r],
            area_se=area_se[r],
            total=x[r, :n],
            total_se=se[r, :n],
            shift_ppm=shift_ppm[r],
            residual_pct=residual_pct[r],
            chi2_per_bin=chi2[r],
            windows=windows,
            row=r,
        )


def _covariances(fisher: np.ndarray) -> np.ndarray:
    """Inverses of a stack of Fisher matrices; a singular one (a spectrum where none of the
    cluster's ions is present: no amplitude, so no shift information) gets its
    pseudo-inverse, the others their inverse, so that one absent cluster does not change the
    standard errors of the other spectra (a pseudo-inverse drops the small singular values of
    these badly scaled matrices: amplitude, baseline and shift columns differ by many orders).
    The inverses are taken of the matrices scaled to a unit diagonal (and scaled back): the
    same in exact arithmetic, and their rounding no longer depends on the other matrices of
    the stack."""
    diagonal = np.sqrt(np.einsum("vpp->vp", fisher))
    scale = 1.0 / np.where(diagonal > 0, diagonal, 1.0)
    outer = scale[:, :, None] * scale[:, None, :]
    try:
        return np.linalg.inv(fisher * outer) * outer
    except np.linalg.LinAlgError:
        pass
    out = np.empty_like(fisher)
    empty = ~np.any(fisher != 0.0, axis=2).all(axis=1)  # a parameter without information
    rest = np.flatnonzero(~empty)
    try:
        out[rest] = np.linalg.inv(fisher[rest] * outer[rest]) * outer[rest]
    except np.linalg.LinAlgError:
        for r in rest:
            try:
                out[r] = np.linalg.inv(fisher[r] * outer[r]) * outer[r]
            except np.linalg.LinAlgError:
                out[r] = np.linalg.pinv(fisher[r])
    if empty.any():
        out[empty] = np.linalg.pinv(fisher[empty])
    return out


def fit_cluster(
    mz: np.ndarray, counts: np.ndarray, ions: list[FitIon], shape: PeakShape, **options
) -> ClusterFit | None:
    """``fit_clusters`` of one cluster in one spectrum."""
    return fit_clusters([(mz, counts)], [ions], [shape], **options)[0][0]


FIT_COLUMNS = [
    "cluster",
    "area",
    "se",
    "total",
    "total_se",
    "shift_ppm",
    "residual_pct",
    "shape",
]
RESIDUAL_WARNING_PCT = 10.0  # a fit leaving more unexplained is noted: a missing ion?


def _atomic(name: str) -> bool:
    try:
        return parse_ion(name).n_atoms == 1
    except SimsflowError:
        return False


def mz_or_none(name: str) -> float | None:
    """The m/z of the ion ``name``, or None where it is not a formula."""
    try:
        return ion_mz(name)
    except SimsflowError:
        return None


@dataclass
class SampleFit:
    """The fitted areas of a sample's spectra (NaN where an ion was not fitted), one QC row per
    spectrum and fitted ion (``FIT_COLUMNS`` plus spot index, ion and issue), the shapes used,
    and every cluster fit (for figures)."""

    areas: np.ndarray
    rows: list[dict]
    shapes: list[PeakShape | None]
    fits: list[list[ClusterFit]]


def fit_sample(
    spectra: list[tuple[np.ndarray, np.ndarray]],
    shape_ions: list[list[str]],
    mass_list: pd.DataFrame,
    method: str,
    *,
    max_shift_ppm: float = 60.0,
) -> SampleFit:
    """Fit a sample's calibrated spectra ((mz, counts) each) over the mass list's clusters.

    ``shape_ions``: per spectrum, the ions whose isolated peaks give its shape (its
    calibration's reference ions). ``method``: 'fit' fits every ion (an isolated one as a
    cluster of one), 'auto' only clusters of several ions. A spectrum without enough isolated
    peaks takes the median shape of the sample's others (recorded as 'median' in the QC); the
    clusters are found once for the sample, from the median shape, so every spectrum reports
    the same ions as fitted.
    """
    return fit_samples([spectra], [shape_ions], mass_list, method, max_shift_ppm=max_shift_ppm)[0]


def fit_samples(
    samples: list[list[tuple[np.ndarray, np.ndarray]]],
    shape_ions: list[list[list[str]]],
    mass_list: pd.DataFrame,
    method: str,
    *,
    max_shift_ppm: float = 60.0,
) -> list[SampleFit]:
    """``fit_sample`` of several samples (their spectra and shape ions each), solved together:
    the shapes of all their spectra in one fit, the clusters of all samples that share the
    same clusters in another, so a batch of samples costs a few array operations instead of a
    few per sample. Each sample's result is, to the last bit, what ``fit_sample`` gives for it
    alone: every problem is solved on arrays whose size depends on itself only
    (``_by_padded_length``), and everything a sample decides (its median shape, its clusters,
    the masses that make a reference peak crowded) comes from its own spectra."""
    if method not in ("fit", "auto"):
        raise SimsflowError(f"unknown fit method '{method}'", hint="use interval, fit or auto")
    ions = fit_ions(mass_list)
    listed = [float(m) for m in mass_list["mz"]]
    peaks: dict[str, tuple[float, bool] | None] = {}  # each name parsed once: (m/z, atomic)
    spectra, candidates, knowns = [], [], []
    for sample, names_per_spectrum in zip(samples, shape_ions, strict=True):
        mine = []
        for names in names_per_spectrum:
            for n in dict.fromkeys(names):
                if n not in peaks:
                    mz = mz_or_none(n)
                    peaks[n] = None if mz is None else (mz, _atomic(n))
            mine.append([peaks[n] for n in dict.fromkeys(names) if peaks[n] is not None])
        known = np.sort(np.array(listed + [m for c in mine for m, _ in c], dtype=float))
        spectra.extend(sample)
        candidates.extend(mine)
        knowns.extend([known] * len(sample))
    all_shapes = _estimate_shapes(spectra, candidates, knowns)
    results: list[SampleFit | None] = []
    plans: dict[tuple, list[int]] = {}  # the samples fitting the same clusters
    start, slices, used = 0, [], []
    for k, sample in enumerate(samples):
        shapes = all_shapes[start : start + len(sample)]
        slices.append((start, start + len(sample)))
        start += len(sample)
        found = [s for s in shapes if s is not None]
        if not found:
            results.append(SampleFit(np.full((len(sample), len(ions)), np.nan), [], shapes,
                                     [[] for _ in sample]))  # fmt: skip
            used.append(None)
            continue
        fallback = median_shape(found)
        groups = find_clusters(ions, fallback)
        if method == "auto":
            groups = [g for g in groups if len(g) > 1]
        groups = [g for g in groups if any(ions[i].fitted for i in g)]
        plans.setdefault(tuple(tuple(g) for g in groups), []).append(k)
        used.append([shape or fallback for shape in shapes])
        results.append(None)
    for plan, members in sorted(plans.items()):
        groups = [list(g) for g in plan]
        pooled = [spectrum for k in members for spectrum in samples[k]]
        pooled_shapes = [shape for k in members for shape in used[k]]
        by_group = fit_clusters(pooled, [[ions[i] for i in g] for g in groups], pooled_shapes,
                                max_shift_ppm=max_shift_ppm)  # fmt: skip
        offset = 0
        for k in members:
            a, b = slices[k]
            mine = [fits[offset : offset + b - a] for fits in by_group]
            offset += b - a
            results[k] = _sample_fit(ions, groups, mine, all_shapes[a:b])
    return results


def _sample_fit(ions, groups, by_group, shapes) -> SampleFit:
    """A sample's ``SampleFit`` from its clusters' fits (per group, per spectrum)."""
    areas = np.full((len(shapes), len(ions)), np.nan)
    rows, fits = [], []
    for s in range(len(shapes)):
        spot_fits = []
        for group, group_fits in zip(groups, by_group, strict=True):
            fit = group_fits[s]
            if fit is None:
                continue
            spot_fits.append(fit)
            issue = "fitted"
            if fit.residual_pct > RESIDUAL_WARNING_PCT:
                issue = (
                    f"fit leaves {fit.residual_pct:.0f} % of the counts unexplained: an ion "
                    "missing from the mass list?"
                )
            for k, i in enumerate(group):
                if not ions[i].fitted:
                    continue
                areas[s, i] = fit.area[k]
                rows.append(
                    {
                        "spot_index": s,
                        "ion": ions[i].name,
                        "issue": issue,
                        "cluster": fit.name,
                        "area": fit.area[k],
                        "se": fit.area_se[k],
                        "total": fit.total[k],
                        "total_se": fit.total_se[k],
                        "shift_ppm": fit.shift_ppm,
                        "residual_pct": fit.residual_pct,
                        "shape": "spectrum" if shapes[s] else "median",
                    }
                )
        fits.append(spot_fits)
    return SampleFit(areas, rows, shapes, fits)
