"""Principal component analysis of scaled peak areas.

PCA is fitted on a chosen set of spectra (the training spectra, or the samples a comparison is
about) and applied to all. The sign of a component is arbitrary in the mathematics but not in a
figure or a score: by default each component is oriented so that its largest loading (in
absolute value) is positive; ``orient`` can instead require one group of spectra to score higher
than another on PC1 (e.g. cycled above uncycled), which makes outputs deterministic and readable.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from .errors import SimsflowError


def fit_pca(scaled: pd.DataFrame, n_components: int) -> PCA:
    """A PCA of the scaled table (at most as many components as spectra and ions allow)."""
    n = min(n_components, scaled.shape[0], scaled.shape[1])
    if n < 2:
        raise SimsflowError("PCA needs at least two spectra and two ions")
    pca = PCA(n_components=n, svd_solver="full").fit(scaled.to_numpy(dtype=float))
    flip = np.sign(pca.components_[np.arange(n), np.argmax(np.abs(pca.components_), axis=1)])
    pca.components_ *= flip[:, None]
    return pca


def orient_pc1(pca: PCA, scaled: pd.DataFrame, low: np.ndarray, high: np.ndarray) -> PCA:
    """Flip PC1 so that the mean score of rows ``high`` exceeds that of rows ``low``."""
    scores = pca.transform(scaled.to_numpy(dtype=float))[:, 0]
    if scores[high].mean() < scores[low].mean():
        pca.components_[0] *= -1
    return pca


def scores_table(pca: PCA, scaled: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
    """The sheet columns of each spectrum with its scores PC1, PC2..."""
    scores = pca.transform(scaled.to_numpy(dtype=float))
    frame = meta.reset_index(drop=True).copy()
    for k in range(scores.shape[1]):
        frame[f"PC{k + 1}"] = scores[:, k]
    return frame


def variance_table(pca: PCA) -> pd.DataFrame:
    """Explained variance (%) of each component and its cumulative sum."""
    ratio = pca.explained_variance_ratio_
    return pd.DataFrame(
        {
            "component": [f"PC{k + 1}" for k in range(ratio.size)],
            "explained_variance_pct": 100 * ratio,
            "cumulative_pct": 100 * np.cumsum(ratio),
        }
    )


def loadings_table(pca: PCA, ions: list[str], groups: dict[str, str] | None = None) -> pd.DataFrame:
    """Each ion's loadings on every component (with its group when given)."""
    frame = pd.DataFrame(
        pca.components_.T, columns=[f"PC{k + 1}" for k in range(pca.n_components_)]
    )
    frame.insert(0, "ion", ions)
    if groups is not None:
        frame.insert(1, "group", [groups.get(i, "") for i in ions])
    return frame
