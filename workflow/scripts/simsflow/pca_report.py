"""The PCA report of a study: its spectra scaled by a chosen chain, mean-centred, decomposed.

The most common ToF-SIMS multivariate analysis (Graham & Castner, Biointerphases 2012; the
SIMS-PCA practice of square-root or Poisson scaling, then mean-centring): every spectrum of the
study that is not excluded is scaled by the configured chain (any steps of ``simsflow.scaling``:
``sqrt`` or ``poisson`` for counting noise, ``log``, ``total_ion``, ``zscore`` for autoscaling
...), mean-centred (always: PCA of uncentred data describes the mean spectrum, not the spread)
and decomposed by a full SVD. Signs follow ``simsflow.pca.fit_pca``: each component is oriented
so that its largest loading in absolute value is positive, so reruns and other tools compare.

Scores are the centred, scaled spectra projected on the loadings (``U * S`` of the SVD);
explained variance is each component's share of the total variance of the centred matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .errors import SimsflowError
from .pca import fit_pca, loadings_table, scores_table, variance_table
from .scaling import fit_transform, ion_frame

# the names a chain's steps get in titles
STEP_NAMES = {
    "total_ion": "total ion",
    "reference_ion": "reference ion",
    "minmax": "Min-Max",
    "max_relative": "max-relative",
    "zscore": "autoscaled",
    "poisson": "Poisson",
    "sqrt": "sqrt",
    "log": "log",
    "none": "unscaled",
}


@dataclass(frozen=True)
class PCAReportSettings:
    """A study's PCA report settings (scaling chain, components, colours, pairs, top ions)."""

    scaling: tuple = ({"method": "sqrt"},)
    components: int = 5
    colour_by: str = "sample"
    pairs: tuple = (("PC1", "PC2"),)
    top_ions: int = 10


def chain_title(steps) -> str:
    """A chain in words, e.g. 'sqrt -> mean-centred' (the centring is always done)."""
    names = []
    for step in steps:
        name = STEP_NAMES.get(step["method"], step["method"])
        if step["method"] == "minmax":
            name += f" per {step.get('axis', '?')}"
        if step["method"] == "reference_ion":
            name += f" {step.get('ion', '')}"
        names.append(name)
    return " -> ".join([*names, "mean-centred"])


def analysed_rows(peaks: pd.DataFrame) -> pd.DataFrame:
    """The spectra a study's PCA takes: every row but those with role exclude."""
    if "role" in peaks:
        peaks = peaks[peaks["role"] != "exclude"]
    if len(peaks) < 2:
        raise SimsflowError("the PCA report needs at least two spectra not excluded", column="role")
    return peaks.reset_index(drop=True)


def pca_report(
    peaks: pd.DataFrame, mass_list: pd.DataFrame, settings: PCAReportSettings
) -> dict[str, pd.DataFrame]:
    """Scores (sheet columns + PC columns), loadings (ion, mz, group, PCs) and variance."""
    rows = analysed_rows(peaks)
    ions = mass_list["ion"].tolist()
    steps = list(settings.scaling)
    scaled = fit_transform(ion_frame(rows, ions, steps), steps)
    pca = fit_pca(scaled, settings.components)
    meta = rows.drop(columns=[*ions, "total_counts"], errors="ignore")
    scores = scores_table(pca, scaled, meta)
    loadings = loadings_table(
        pca, ions, dict(zip(mass_list["ion"], mass_list["group"], strict=True))
    )
    loadings.insert(1, "mz", mass_list["mz"].to_numpy(dtype=float))
    return {"scores": scores, "loadings": loadings, "variance": variance_table(pca)}
