"""Figures from finished tables. Every function takes tables, returns a matplotlib Figure.

Matplotlib is imported lazily, with the non-interactive Agg backend, so importing the library
stays cheap and works without a display.

One module per stage; the shared styling is in ``plots.style``."""

from .boxplots import box_statistics, group_boxplots, ion_boxplot, save_boxplots
from .classify import (
    characteristic_ions_figure,
    confusion,
    decision_boundary,
    explained_variance,
    pca_scores,
    prediction_heatmap,
    save_pca_views,
    scaling_comparison,
    top_loadings,
)
from .degradation import degradation_bars, radar, save_degradation_figures
from .images import ion_maps, overlay_map, product_map, save_image_figures
from .spectra import calibration_errors, fitted_clusters, summed_spectrum
from .style import MARKERS, MAX_LABELS, MAX_WIDTH, PALETTE, save

__all__ = [
    "MARKERS",
    "MAX_LABELS",
    "MAX_WIDTH",
    "PALETTE",
    "box_statistics",
    "calibration_errors",
    "characteristic_ions_figure",
    "confusion",
    "decision_boundary",
    "degradation_bars",
    "explained_variance",
    "fitted_clusters",
    "group_boxplots",
    "ion_boxplot",
    "ion_maps",
    "overlay_map",
    "pca_scores",
    "prediction_heatmap",
    "product_map",
    "radar",
    "save",
    "save_boxplots",
    "save_degradation_figures",
    "save_image_figures",
    "save_pca_views",
    "scaling_comparison",
    "summed_spectrum",
    "top_loadings",
]
