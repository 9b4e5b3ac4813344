"""Degradation and electrochemical scores of coated cathodes (after Hertle et al., ACS AMI 2024).

Intensities are total-ion normalized, then scaled per ion relative to its maximum (over the
spectra of all samples compared). A PCA of the uncycled and the uncoated cycled sample gives PC1
loadings l_f, oriented so that the cycled sample scores higher. For every spot, the raw score is
sum_f l_f * v_f (v_f the scaled intensity of fragment f); a sample's raw score is the mean over
its spots, and the degradation score rescales it so that the uncycled sample is 0 and the
uncoated cycled sample is 1:

    DS = (DS_raw - DS_raw(uncycled)) / (DS_raw(uncoated cycled) - DS_raw(uncycled)).

Pathway-specific scores use only the fragments of one mass-list group (e.g. polysulfide, SO_y,
PO_y; groups are data in the mass list). Per-spot scores, rescaled the same way, give the spread.
Electrochemical scores from the rate test, relative to the uncoated sample (= 1):
QS_0 = Q(0.1 C) / Q_uncoated(0.1 C) and QS_ret = [Q(2 C)/Q(0.1 C)] / [same of the uncoated].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import SimsflowError
from .pca import fit_pca, loadings_table, orient_pc1, scores_table, variance_table
from .scaling import fit_transform, ion_frame


@dataclass(frozen=True)
class DegradationSettings:
    """A study's degradation settings (anchor samples, pathways, scaling, components)."""

    uncycled: str
    uncoated: str
    pathways: tuple[str, ...] = ()
    scaling: tuple = ({"method": "total_ion"}, {"method": "max_relative"})
    exclude_groups: tuple[str, ...] = ()
    components: int = 5


def fragments(ions: list[str], groups: dict[str, str], exclude_groups) -> list[str]:
    """The ions that enter the degradation score: all but those of ``exclude_groups``."""
    return [i for i in ions if groups.get(i, "") not in set(exclude_groups)]


def scaled_intensities(peaks: pd.DataFrame, ions: list[str], scaling) -> pd.DataFrame:
    """Scaled intensities of every spectrum (fitted on all spectra compared)."""
    return fit_transform(ion_frame(peaks, ions, list(scaling)), list(scaling))


def degradation_pca(peaks, scaled, settings: DegradationSettings):
    """(a) PCA of the two anchors, oriented cycled > uncycled; (b) PCA of every sample."""
    samples = peaks["sample"].to_numpy()
    for name in (settings.uncycled, settings.uncoated):
        if name not in set(samples):
            raise SimsflowError(f"anchor sample '{name}' is not in the study")
    anchors = np.isin(samples, [settings.uncycled, settings.uncoated])
    meta = peaks[["sample", "spot"]].reset_index(drop=True)
    results = {}
    for name, rows in (("anchors", anchors), ("all", np.ones(len(samples), bool))):
        pca = fit_pca(scaled[rows], settings.components)
        low = samples[rows] == settings.uncycled
        high = samples[rows] == settings.uncoated
        orient_pc1(pca, scaled[rows], low, high)
        results[name] = {
            "pca": pca,
            "scores": scores_table(pca, scaled[rows], meta[rows]),
            "variance": variance_table(pca),
        }
    return results


def spot_scores(
    scaled: pd.DataFrame, loadings: pd.Series, groups: dict[str, str], pathways
) -> pd.DataFrame:
    """Raw per-spot scores: all fragments, and each pathway's fragments alone."""
    ions = list(scaled.columns)
    weights = loadings.reindex(ions).to_numpy(dtype=float)
    values = scaled.to_numpy(dtype=float)
    out = {"DS": values @ weights}
    for group in pathways:
        mask = np.array([groups.get(i) == group for i in ions])
        if not mask.any():
            raise SimsflowError(
                f"pathway group '{group}' has no ion in the mass list",
                hint="pathways name mass-list groups, e.g. polysulfide, SO_y, PO_y",
            )
        out[f"DS_{group}"] = values[:, mask] @ weights[mask]
    return pd.DataFrame(out, index=scaled.index)


def rescale(raw: pd.DataFrame, samples: np.ndarray, uncycled: str, uncoated: str) -> pd.DataFrame:
    """Map raw scores so that the uncycled sample's mean is 0 and the uncoated cycled one's 1."""
    low = raw[samples == uncycled].mean()
    high = raw[samples == uncoated].mean()
    span = high - low
    if (span.abs() < 1e-12).any():
        bad = ", ".join(span.index[span.abs() < 1e-12])
        raise SimsflowError(
            f"the anchors do not differ in score(s) {bad}: the scale from uncycled to uncoated "
            "is empty"
        )
    return (raw - low) / span


def electrochemical_scores(rate_test: pd.DataFrame, uncoated: str) -> pd.DataFrame:
    """QS_0 and QS_ret of each sample relative to the uncoated one, from the rate test."""
    rates = rate_test.set_index("sample")
    if uncoated not in rates.index:
        raise SimsflowError(f"the rate test has no row for the uncoated sample '{uncoated}'")
    q0 = rates["capacity_0.1C"]
    retention = rates["capacity_2C"] / q0
    return pd.DataFrame(
        {"QS_0": q0 / q0[uncoated], "QS_ret": retention / retention[uncoated]}
    ).reset_index()


def degradation_scores(
    peaks: pd.DataFrame,
    ions: list[str],
    groups: dict[str, str],
    settings: DegradationSettings,
    rate_test: pd.DataFrame | None,
) -> dict:
    """Everything the degradation job writes."""
    frags = fragments(ions, groups, settings.exclude_groups)
    scaled = scaled_intensities(peaks, frags, settings.scaling)
    pcas = degradation_pca(peaks, scaled, settings)
    loadings = loadings_table(pcas["anchors"]["pca"], frags, groups)
    pc1 = loadings.set_index("ion")["PC1"]
    samples = peaks["sample"].to_numpy()
    raw = spot_scores(scaled, pc1, groups, settings.pathways)
    per_spot = rescale(raw, samples, settings.uncycled, settings.uncoated)
    per_spot.insert(0, "spot", peaks["spot"].to_numpy())
    per_spot.insert(0, "sample", samples)
    score_columns = [c for c in per_spot.columns if c.startswith("DS")]
    grouped = per_spot.groupby("sample", sort=False)[score_columns]
    table = grouped.mean()
    spread = grouped.std(ddof=1).add_suffix("_sd")
    table = table.join(spread).reset_index()
    table.insert(1, "n_spots", grouped.size().to_numpy())
    if "group" in peaks:
        table.insert(1, "group", peaks.groupby("sample", sort=False)["group"].first().to_numpy())
    if rate_test is not None:
        table = table.merge(
            electrochemical_scores(rate_test, settings.uncoated), on="sample", how="left"
        )
    return {"scores": table, "spot_scores": per_spot, "pca": pcas, "loadings": loadings}


def radar_values(scores: pd.DataFrame, axes: list[str]) -> pd.DataFrame:
    """Radar radii, oriented so that further out is better: 1 - DS for degradation scores
    (uncycled 1, uncoated cycled 0), the electrochemical scores as they are (uncoated 1)."""
    out = scores[["sample"]].copy()
    for axis in axes:
        values = scores[axis].astype(float)
        out[axis] = 1.0 - values if axis.startswith("DS") else values
    return out
