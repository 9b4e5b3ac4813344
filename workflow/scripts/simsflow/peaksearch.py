"""Peak search for users without a mass list: propose intervals and candidate assignments.

Peaks are found on a study's summed, calibrated spectrum where their prominence exceeds a
multiple of the Poisson counting noise; each gets an interval from its half-maximum width
(1.2 FWHM below, 2 FWHM above: peaks tail to high mass), cut where it would meet a neighbour.
Candidate formulas are enumerated from an element set with per-element maxima, and every
candidate within the tolerance (ppm) is listed, the closest first. The result is a proposal
for a person to check, written as a mass list.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.signal import find_peaks, peak_widths

from .calibrate import peak_apex
from .chemistry import ELECTRON_MASS, isotope_table

# Conventional order for writing SIMS fragment formulas (LiCO3-, LiPS6-, NH2-, SO4-, C2H-).
WRITE_ORDER = (
    "Li",
    "Na",
    "K",
    "Ni",
    "Co",
    "Mn",
    "Zr",
    "Nb",
    "B",
    "C",
    "N",
    "P",
    "S",
    "O",
    "H",
    "F",
    "Cl",
)


def candidate_formulas(
    elements: dict[str, int], max_mz: float, polarity: str
) -> tuple[np.ndarray, list[str]]:
    """m/z and names of every formula within the element maxima (main isotopes) up to max_mz."""
    table = isotope_table()
    order = sorted(elements, key=lambda e: WRITE_ORDER.index(e) if e in WRITE_ORDER else 99)
    masses = np.zeros(1)
    counts = np.zeros((1, 0), dtype=np.int16)
    for element in order:
        mass = table[element][0].mass
        n = np.arange(elements[element] + 1)
        masses = (masses[:, None] + n[None, :] * mass).ravel()
        counts = np.concatenate(
            [np.repeat(counts, n.size, axis=0), np.tile(n, counts.shape[0])[:, None]], axis=1
        )
        keep = masses <= max_mz + 1.0
        masses, counts = masses[keep], counts[keep]
    nonempty = counts.sum(axis=1) > 0
    masses, counts = masses[nonempty], counts[nonempty]
    sign = "-" if polarity == "negative" else "+"
    mz = masses + (ELECTRON_MASS if sign == "-" else -ELECTRON_MASS)
    names = [
        "".join(f"{el}{c if c > 1 else ''}" for el, c in zip(order, row, strict=True) if c) + sign
        for row in counts.tolist()
    ]
    return mz, names


def propose_mass_list(
    mz: np.ndarray,
    counts: np.ndarray,
    *,
    polarity: str,
    elements: dict[str, int],
    tolerance_ppm: float = 30.0,
    min_prominence: float = 8.0,
    max_peaks: int = 200,
    min_mz: float = 0.5,
) -> pd.DataFrame:
    """Proposed mass list (ion, formula, mz, lower, upper, group, candidates, height)."""
    noise = np.sqrt(counts + 1.0)
    peaks, _ = find_peaks(counts, prominence=min_prominence * noise)
    peaks = peaks[mz[peaks] >= min_mz]
    if peaks.size == 0:
        return pd.DataFrame(
            columns=["ion", "formula", "mz", "lower", "upper", "group", "candidates", "height"]
        )
    heights = counts[peaks]
    if peaks.size > max_peaks:
        peaks = np.sort(peaks[np.argsort(heights)[::-1][:max_peaks]])
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
    cand_mz, cand_names = candidate_formulas(elements, float(apex.max()), polarity)
    order = np.argsort(cand_mz)
    cand_mz = cand_mz[order]
    cand_names = [cand_names[i] for i in order]
    rows = []
    for m, lo, hi, h in zip(apex, lower, upper, counts[peaks], strict=True):
        tol = m * tolerance_ppm * 1e-6
        a, b = np.searchsorted(cand_mz, [m - tol, m + tol])
        ppm = (m / cand_mz[a:b] - 1.0) * 1e6
        ranked = sorted(zip(np.abs(ppm), ppm, cand_names[a:b], strict=True))
        best = ranked[0][2] if ranked else f"m{m:.4f}"
        rows.append(
            {
                "ion": best,
                "formula": best.rstrip("+-") if ranked else "",
                "mz": round(float(m), 6),
                "lower": round(float(lo), 6),
                "upper": round(float(hi), 6),
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
    for i, row in enumerate(rows):
        if row["formula"] and closest[row["ion"]] != i:
            row["ion"], row["formula"] = f"m{row['mz']:.4f}", ""
    return pd.DataFrame(rows).drop(columns="ppm")
