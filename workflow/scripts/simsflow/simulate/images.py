"""Simulated ion images of composite cathode regions (imaging mode: counts per ion and pixel).

A region holds active-material particles (NCM, discs of random radius), a solid electrolyte
(Li6PS5Cl) filling the space between them, pores, and an interphase shell at particle surfaces
whose thickness grows with the sample's degradation. Each phase emits the ions of its source
(``ion_yields.tsv``); topography shades every count of a pixel by one factor (particles stand
out, pores sink in, the region is tilted), and counts are Poisson. The ground truth is the
phase map and the unshaded expected counts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .study import _yields

PHASES = ("pore", "electrolyte", "particle", "interphase")


def phase_map(size: int, degradation: float, rng: np.random.Generator) -> np.ndarray:
    """Integer phase per pixel (index into PHASES)."""
    y, x = np.mgrid[0:size, 0:size].astype(float)
    phases = np.full((size, size), 1, dtype=np.int8)  # electrolyte
    n_particles = max(3, int(size * size / 900))
    centres = rng.uniform(0, size, size=(n_particles, 2))
    radii = rng.uniform(0.05, 0.11, size=n_particles) * size
    shell = 1.0 + 3.0 * degradation  # interphase thickness (px) follows the degradation
    distance = np.full((size, size), np.inf)
    for (cx, cy), r in zip(centres, radii, strict=True):
        distance = np.minimum(distance, np.hypot(x - cx, y - cy) - r)
    phases[distance <= shell] = 3
    phases[distance <= 0] = 2
    pores = rng.uniform(0, size, size=(max(2, n_particles // 3), 2))
    for cx, cy in pores:
        hole = (np.hypot(x - cx, y - cy) < rng.uniform(0.02, 0.05) * size) & (phases == 1)
        phases[hole] = 0
    return phases


def shading(phases: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Topography factor per pixel: tilt across the region, particle tops bright, their steep
    rims and the pores dark."""
    size = phases.shape[0]
    y, x = np.mgrid[0:size, 0:size] / size
    angle = rng.uniform(0, 2 * np.pi)
    tilt = 1.0 + 0.6 * (np.cos(angle) * (x - 0.5) + np.sin(angle) * (y - 0.5)) * 2
    by_phase = np.array([0.25, 0.8, 1.6, 0.7])[phases]  # steep particle rims shade darker
    return np.clip(tilt, 0.2, None) * by_phase


def phase_rates(polarity: str = "negative") -> dict[str, dict[str, float]]:
    """Expected counts per pixel of every ion in each phase (before shading)."""
    electrolyte = _yields("Li6PS5Cl", polarity)
    ncm = _yields("NCM", polarity)
    interphase = {**_yields("polysulfide", polarity)}
    for ion, y in _yields("oxygenated", polarity).items():
        interphase[ion] = interphase.get(ion, 0.0) + y
    scale = 0.6  # counts per pixel per yield unit (imaging mode: few counts per pixel)
    return {
        "pore": {ion: 0.02 * y * scale for ion, y in electrolyte.items()},
        "electrolyte": {ion: y * scale for ion, y in electrolyte.items()},
        "particle": {ion: 4.0 * y * scale for ion, y in ncm.items()},
        "interphase": {
            ion: (interphase.get(ion, 0.0) * 1.5 + 0.4 * electrolyte.get(ion, 0.0)) * scale
            for ion in set(interphase) | set(electrolyte)
        },
    }


def simulate_region(
    ions: list[str],
    degradation: float,
    rng: np.random.Generator,
    size: int = 128,
    other_counts: float = 40.0,
) -> tuple[pd.DataFrame, dict]:
    """A region's stack (x, y, ions, total) and its truth (phase map, shading, expected)."""
    phases = phase_map(size, degradation, rng)
    shade = shading(phases, rng)
    rates = phase_rates()
    expected = {}
    for ion in ions:
        per_phase = np.array([rates[p].get(ion, 0.0) for p in PHASES])
        expected[ion] = per_phase[phases]
    # ions outside the mass list still count in the total image
    other = np.array([0.05, 1.0, 1.0, 1.0])[phases] * other_counts
    y, x = np.mgrid[0:size, 0:size]
    stack = {"x": x.ravel().astype(np.int32), "y": y.ravel().astype(np.int32)}
    total = rng.poisson(other * shade).ravel().astype(np.float32)
    for ion in ions:
        counts = rng.poisson(expected[ion] * shade).ravel().astype(np.float32)
        stack[ion] = counts
        total += counts
    stack["total"] = total
    truth = {
        "phases": phases,
        "shading": shade,
        "expected": {ion: e.ravel() for ion, e in expected.items()},
        "expected_total": (sum(expected.values()) + other).ravel(),
    }
    return pd.DataFrame(stack), truth
