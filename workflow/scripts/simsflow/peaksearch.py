"""Peak search for users without a mass list: propose intervals and candidate assignments.

Peaks are found on a study's summed, calibrated spectrum where their prominence exceeds a
multiple of the Poisson counting noise; each gets an interval from its half-maximum width
(1.2 FWHM below, 2 FWHM above: peaks tail to high mass), cut where it would meet a neighbour.
Candidate formulas are enumerated from an element set with per-element maxima, and every
candidate within the tolerance (ppm) is listed, the closest first. The result is a proposal
for a person to check, written as a mass list.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.signal import find_peaks, peak_widths

from .calibrate import peak_apex
from .chemistry import ELECTRON_MASS, check_elements, isotope_pattern, isotope_table, parse_ion
from .errors import SimsflowError

# Metals that form clusters (Pd2+, RuPd+) and oxides or hydroxides (NiO2-, ZrO3H-) in SIMS of
# electrodes and alloys. A candidate holds at most MAX_METALS different ones, with only O and H
# besides; the light elements (Li, Na and K among them) combine freely within their maxima.
# Without the limit, two dozen metals times the light elements would make billions of formulas.
CLUSTER_METALS = (
    "Mg",
    "Al",
    "Ca",
    "Ti",
    "V",
    "Cr",
    "Mn",
    "Fe",
    "Co",
    "Ni",
    "Cu",
    "Zn",
    "Ga",
    "Zr",
    "Nb",
    "Mo",
    "Ru",
    "Rh",
    "Pd",
    "Ag",
    "In",
    "Sn",
    "La",
    "W",
    "Ir",
    "Pt",
    "Au",
    "Bi",
)
# what a metal formula may hold besides metals, at most (and within the element maxima):
# oxides and hydroxides (MO+, MO2H-); metal hydrides beyond MH are rare, and allowing H4 made
# thousands of false MnNiH3+-like candidates
METAL_COMPANIONS = {"O": 6, "H": 1}
MAX_METALS = 2

# Conventional order for writing SIMS fragment formulas (LiCO3-, LiPS6-, NH2-, SO4-, C2H-,
# RuPdO+): alkali metals, the other metals, then the light elements.
WRITE_ORDER = (
    "Li",
    "Na",
    "K",
    *CLUSTER_METALS,
    "B",
    "C",
    "N",
    "Si",
    "P",
    "S",
    "O",
    "H",
    "F",
    "Cl",
)

# The peak search's elements when the config names none (the schema's default, kept equal by
# a test): the light elements of electrolytes, binders and contamination, and the common
# electrode and alloy metals with up to three atoms (trimers such as Pd3+).
DEFAULT_ELEMENTS = {
    "H": 4,
    "Li": 4,
    "C": 4,
    "N": 2,
    "O": 6,
    "F": 3,
    "Na": 1,
    "K": 1,
    "P": 2,
    "S": 6,
    "Cl": 2,
    **{m: 3 for m in CLUSTER_METALS if m not in ("Ca", "V", "Cr", "Ga", "In", "W", "Bi")},
}


def _formulas(elements: dict[str, int], max_mass: float, least: int = 0):
    """Masses and atom counts (one column per element, in the order given) of every formula
    with ``least`` to the most atoms of each of ``elements`` (main isotopes), up to
    ``max_mass``."""
    table = isotope_table()
    masses = np.zeros(1)
    counts = np.zeros((1, len(elements)), dtype=np.int16)
    for j, (element, most) in enumerate(elements.items()):
        mass = table[element][0].mass
        n = np.arange(least, most + 1)
        masses = (masses[:, None] + n[None, :] * mass).ravel()
        counts = np.repeat(counts, n.size, axis=0)
        counts[:, j] = np.tile(n, counts.shape[0] // n.size)
        keep = masses <= max_mass
        masses, counts = masses[keep], counts[keep]
    return masses, counts


@dataclass(frozen=True)
class Candidates:
    """Every candidate formula within the element maxima (main isotopes) up to a mass, sorted
    by m/z: light-element formulas, and clusters of up to MAX_METALS metals with O and H.

    Up to a few hundred u there are millions, so their atoms stay in the parts they were
    enumerated in, and only the names asked for are written."""

    mz: np.ndarray
    part: np.ndarray  # the part of each candidate (index into parts)
    row: np.ndarray  # its row in that part
    parts: list[tuple[np.ndarray, tuple[str, ...]]]  # atom counts and their elements
    sign: str

    def n_atoms(self, start: int, stop: int) -> np.ndarray:
        """The number of atoms of candidates ``start`` to ``stop``."""
        return np.array(
            [
                self.parts[p][0][r].sum()
                for p, r in zip(self.part[start:stop], self.row[start:stop], strict=True)
            ]
        )

    def name(self, i: int) -> str:
        """The ion name of candidate ``i`` (``LiCO3-``, ``RuPdO+``), elements in write order."""
        atoms, elements = self.parts[self.part[i]]
        counts = dict(zip(elements, atoms[self.row[i]].tolist(), strict=True))
        return "".join(f"{e}{n if n > 1 else ''}" for e, n in counts.items() if n) + self.sign


def _write_order(elements) -> list[str]:
    return sorted(elements, key=lambda e: (WRITE_ORDER.index(e) if e in WRITE_ORDER else 99, e))


def candidates(elements: dict[str, int], max_mz: float, polarity: str) -> Candidates:
    """The candidate formulas up to ``max_mz`` (:class:`Candidates`)."""
    check_elements(elements)
    order = _write_order(elements)
    top = max_mz + 1.0
    metals = [e for e in order if e in CLUSTER_METALS and elements[e] > 0]
    light = {e: elements[e] for e in order if e not in CLUSTER_METALS}
    companions = {e: min(light[e], most) for e, most in METAL_COMPANIONS.items() if e in light}
    with_m, with_c = _formulas(companions, top)
    masses, atoms = _formulas(light, top)
    empty = atoms.sum(axis=1) == 0
    parts = [(masses[~empty], atoms[~empty], tuple(light))]
    for k in range(1, MAX_METALS + 1):
        for group in itertools.combinations(metals, k):
            metal_m, metal_c = _formulas({e: elements[e] for e in group}, top, least=1)
            mass = (metal_m[:, None] + with_m[None, :]).ravel()
            atoms = np.concatenate(
                [np.repeat(metal_c, with_m.size, axis=0), np.tile(with_c, (metal_m.size, 1))],
                axis=1,
            )
            keep = mass <= top
            names = tuple(_write_order([*group, *companions]))
            columns = [[*group, *companions].index(e) for e in names]
            parts.append((mass[keep], atoms[keep][:, columns], names))
    masses = np.concatenate([m for m, _, _ in parts])
    part = np.concatenate([np.full(m.size, j, dtype=np.int32) for j, (m, _, _) in enumerate(parts)])
    row = np.concatenate([np.arange(m.size, dtype=np.int32) for m, _, _ in parts])
    mz = masses + (ELECTRON_MASS if polarity == "negative" else -ELECTRON_MASS)
    sort = np.argsort(mz, kind="stable")
    return Candidates(
        mz[sort],
        part[sort],
        row[sort],
        [(atoms, names) for _, atoms, names in parts],
        "-" if polarity == "negative" else "+",
    )


def candidate_formulas(
    elements: dict[str, int], max_mz: float, polarity: str
) -> tuple[np.ndarray, list[str]]:
    """m/z and names of every candidate formula up to max_mz, sorted by m/z."""
    found = candidates(elements, max_mz, polarity)
    return found.mz, [found.name(i) for i in range(found.mz.size)]


def candidate_group(name: str) -> str:
    """A proposed ion's group: metal_cluster (metals only), metal_oxide (metals with O or
    H), else empty."""
    atoms = {el for (el, _), _ in parse_ion(name).atoms}
    if not atoms & set(CLUSTER_METALS):
        return ""
    return "metal_cluster" if atoms <= set(CLUSTER_METALS) else "metal_oxide"


def mz_name(mz: float, sign: str, taken: set[str]) -> str:
    """The name of an unassigned peak: its m/z with three decimals and the charge
    (``m27.023+``), more decimals where that name is taken."""
    for decimals in range(3, 7):
        name = f"m{mz:.{decimals}f}{sign}"
        if name not in taken:
            return name
    raise SimsflowError(f"two proposed peaks at m/z {mz:.6f}")


# how many of the closest candidates of a peak have their isotope pattern compared, and how
# much worse than the best fit (cosine) a candidate's may be and still count as fitting
MAX_PATTERNS = 12
PATTERN_SLACK = 0.05
# candidates this close (ppm) to the closest one are told apart by their number of atoms
PPM_TIE = 5.0
# a bin wider than twice this (ppm) is wider than a spectrometry-mode peak (80-200 ppm FWHM):
# the peak's position within its bin is unknown, so its m/z is uncertain by half a bin (a
# SurfaceLab export binned by 200 channels: 1,000 ppm at 35 u, where a 30 ppm tolerance
# named the Cl- peak OF-)
COARSE_HALF_BIN_PPM = 100.0


def pattern_fits(
    names: list[str], mz: np.ndarray, counts: np.ndarray, apex: float, width: float
) -> list[float]:
    """How well each candidate's isotope pattern fits the spectrum around its peak at
    ``apex``: the cosine between its isotopologue abundances and the counts seen, over the
    positions where any of the candidates has an isotopologue (so where a metal's isotopes
    show, a light formula at the same mass that predicts nothing there fits badly, and
    where a Cl formula predicts its 37Cl, a formula without one fits better if nothing is
    seen). Positions closer than 0.3 u are one; counts are the highest within the position's
    spread and half a peak width, above the local background (the median within 1 u)."""
    patterns = []
    for name in names:
        masses, abundances = isotope_pattern(name, min_relative=1e-3)
        patterns.append((masses - masses[np.argmin(np.abs(masses - apex))] + apex, abundances))
    every = np.sort(np.concatenate([m for m, _ in patterns]))
    position = np.concatenate([[0], np.cumsum(np.diff(every) > 0.3)])
    lo = np.array([every[position == k].min() for k in range(position[-1] + 1)])
    hi = np.array([every[position == k].max() for k in range(position[-1] + 1)])
    a, b = np.searchsorted(mz, [apex - 1.0, apex + 1.0])
    background = float(np.median(counts[a:b])) if b > a else 0.0
    a = np.searchsorted(mz, lo - width / 2.0)
    b = np.maximum(np.searchsorted(mz, hi + width / 2.0), a + 1)
    seen = np.array(
        [counts[i:j].max() if i < counts.size else 0.0 for i, j in zip(a, b, strict=True)]
    )
    seen = np.maximum(seen - background, 0.0)
    fits = []
    for masses, abundances in patterns:
        k = np.searchsorted(lo, masses, side="right") - 1
        predicted = np.bincount(k, weights=abundances, minlength=lo.size)
        norm = np.linalg.norm(predicted) * np.linalg.norm(seen)
        fits.append(float(predicted @ seen / norm) if norm > 0 else 0.0)
    return fits


COLUMNS = ["ion", "formula", "mz", "lower", "upper", "group", "candidates", "height"]


def propose_mass_list(
    mz: np.ndarray,
    counts: np.ndarray,
    *,
    polarity: str,
    elements: dict[str, int] | None = None,
    tolerance_ppm: float = 30.0,
    min_prominence: float = 8.0,
    max_peaks: int = 200,
    min_mz: float = 0.5,
) -> pd.DataFrame:
    """Proposed mass list (ion, formula, mz, lower, upper, group, candidates, height), sorted
    by m/z, and a valid mass list as it stands: intervals that do not overlap, every name once,
    a formula where a candidate's exact m/z lies in the peak's interval (the closest; it names
    one peak only, the closest to it), the other peaks named by their m/z (``m27.023+``)."""
    elements = DEFAULT_ELEMENTS if elements is None else elements
    sign = "-" if polarity == "negative" else "+"
    noise = np.sqrt(counts + 1.0)
    peaks, _ = find_peaks(counts, prominence=min_prominence * noise)
    peaks = peaks[mz[peaks] >= min_mz]
    if peaks.size == 0:
        return pd.DataFrame(columns=COLUMNS)
    heights = counts[peaks]
    if peaks.size > max_peaks:
        # the most intense, ties broken by position, so the choice never depends on sort order
        peaks = np.sort(peaks[np.lexsort((peaks, -heights))[:max_peaks]])
    x = np.arange(counts.size, dtype=float)
    apex_idx = peak_apex(x, counts, peaks)
    apex = np.interp(apex_idx, x, mz)
    _, _, left, right = peak_widths(counts, peaks, rel_height=0.5)
    fwhm = np.interp(right, x, mz) - np.interp(left, x, mz)
    fwhm = np.maximum(fwhm, np.gradient(mz)[peaks])
    lower, upper = apex - 1.2 * fwhm, apex + 2.0 * fwhm
    for i in range(peaks.size - 1):
        if upper[i] > lower[i + 1]:
            split = apex[i] + (apex[i + 1] - apex[i]) * fwhm[i] / (fwhm[i] + fwhm[i + 1])
            upper[i] = lower[i + 1] = split
    # the bounds as they are written, so a candidate is in the interval a reader sees
    lower, upper = np.round(lower, 6), np.round(upper, 6)
    # names only for the candidates near a peak: there are millions up to a few hundred u
    found = candidates(elements, float(apex.max()), polarity)
    cand_mz = found.mz
    # on coarse bins a peak's m/z is known to half a bin: candidates within that, and within
    # it the calibration cannot tell them apart (the isotope pattern, then the simplest first)
    half_bin = 0.5 * np.gradient(mz)[peaks] / apex * 1e6
    coarse = half_bin > COARSE_HALF_BIN_PPM
    tolerance = np.where(coarse, np.maximum(half_bin, tolerance_ppm), tolerance_ppm)
    tie_ppm = np.where(coarse, tolerance, PPM_TIE)
    rows = []
    for m, lo, hi, h, w, u, tie, c in zip(
        apex, lower, upper, counts[peaks], fwhm, tolerance, tie_ppm, coarse, strict=True
    ):
        tol = m * u * 1e-6
        a, b = np.searchsorted(cand_mz, [max(m - tol, lo), min(m + tol, hi)])
        ppm = (m / cand_mz[a:b] - 1.0) * 1e6
        # the closest candidates and the simplest (fewest atoms: SIMS fragments are small)
        closest = np.argsort(np.abs(ppm), kind="stable")[:MAX_PATTERNS]
        simplest = np.lexsort((np.abs(ppm), found.n_atoms(a, b)))[:MAX_PATTERNS]
        nearest = np.unique(np.concatenate([closest, simplest]))
        names = [found.name(a + i) for i in nearest]
        match = pattern_fits(names, mz, counts, m, w) if names else []
        # the closest of the candidates whose isotope pattern fits about as well as the best
        fits = max(match, default=0.0) - PATTERN_SLACK
        ranked = sorted(
            (abs(ppm[i]), ppm[i], n)
            for i, n, f in zip(nearest, names, match, strict=True)
            if f >= fits
        )
        if ranked:
            # within PPM_TIE of the closest, the calibration cannot tell: the simplest wins
            ties = [r for r in ranked if r[0] <= ranked[0][0] + tie]
            first = min(ties, key=lambda r: (parse_ion(r[2]).n_atoms, r[0]))
            ranked.remove(first)
            ranked.insert(0, first)
        # a peak in a coarse bin is named by a formula only when it lies within tolerance_ppm
        # and no other within half a bin, else by its m/z with its candidates listed: of
        # several, neither the closest (OF- for Cl-) nor the simplest (MgH- for C2H-) is
        # reliably right, and one alone far off is a sparse corner of the formulas
        # (Li4C2N2OH4F3-), or farther than a mass list lets a formula lie from its mz
        named = bool(ranked) and (not c or (b - a == 1 and ranked[0][0] <= tolerance_ppm))
        rows.append(
            {
                "ion": ranked[0][2] if named else "",
                "formula": ranked[0][2][:-1] if named else "",
                "mz": round(float(m), 6),
                "lower": float(lo),
                "upper": float(hi),
                "group": "",
                "candidates": "; ".join(f"{n} ({p:+.1f} ppm)" for _, p, n in ranked[:5]),
                "height": float(h),
                "ppm": ranked[0][1] if ranked else 0.0,
            }
        )
    # two peaks may share a best candidate: it names the closer one; the other keeps its mass
    closest: dict[str, int] = {}
    for i, row in enumerate(rows):
        if row["formula"]:
            j = closest.setdefault(row["ion"], i)
            if abs(row["ppm"]) < abs(rows[j]["ppm"]):
                closest[row["ion"]] = i
    taken = set(closest)
    for i, row in enumerate(rows):
        if row["formula"] and closest[row["ion"]] == i:
            row["group"] = candidate_group(row["ion"])
        else:
            row["ion"], row["formula"] = mz_name(row["mz"], sign, taken), ""
            taken.add(row["ion"])
    return pd.DataFrame(rows, columns=[*COLUMNS, "ppm"]).drop(columns="ppm")


def propose_for_study(summed: pd.DataFrame, *, source: str, **settings) -> pd.DataFrame:
    """The mass list proposed from a study's summed spectrum (columns mz, counts), to be
    integrated as it stands; a SimsflowError names ``source`` when no peak stands out."""
    proposed = propose_mass_list(summed["mz"].to_numpy(), summed["counts"].to_numpy(), **settings)
    if proposed.empty:
        raise SimsflowError(
            "the peak search found no peak in the summed spectrum, so there is no mass list to "
            "integrate",
            file=source,
            hint="lower peak_search.min_prominence, or give a mass list as mass_list",
        )
    return proposed
