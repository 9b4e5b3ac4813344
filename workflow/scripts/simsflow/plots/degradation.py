"""Figures of the degradation scores: PCA views, score bars and radar charts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .classify import (
    explained_variance,
    pca_scores,
    top_loadings,
)
from .style import (
    PALETTE,
    _pyplot,
    save,
)


def degradation_bars(scores: pd.DataFrame, columns: list[str]):
    """Degradation scores per sample (mean over spots, error bars: sd over spots)."""
    plt = _pyplot()
    samples = scores["sample"].tolist()
    x = np.arange(len(samples))
    width = 0.8 / len(columns)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(samples)), 3.8))
    for k, column in enumerate(columns):
        ax.bar(
            x + (k - (len(columns) - 1) / 2) * width,
            scores[column],
            width,
            yerr=scores[f"{column}_sd"],
            capsize=2,
            color=PALETTE[k % len(PALETTE)],
            label=column,
        )
    ax.axhline(0, color="k", lw=0.6)
    ax.axhline(1, color="k", lw=0.6, ls=":")
    ax.set_xticks(x, samples, rotation=30, ha="right")
    ax.set_ylabel("score (uncycled 0, uncoated cycled 1)")
    ax.legend(fontsize=7, ncol=len(columns))
    ax.set_title("PCA-weighted degradation scores (mean ± sd over spots)")
    return fig


def radar(values: pd.DataFrame, axes_names: list[str], sample: str | None = None):
    """Radar chart(s): one polygon per sample (or only ``sample``); further out is better."""
    plt = _pyplot()
    angles = np.linspace(0, 2 * np.pi, len(axes_names), endpoint=False)
    closed = np.concatenate([angles, angles[:1]])
    fig, ax = plt.subplots(figsize=(5.2, 5.2), subplot_kw={"polar": True})
    rows = values if sample is None else values[values["sample"] == sample]
    for k, (_, row) in enumerate(rows.iterrows()):
        radii = row[axes_names].to_numpy(dtype=float)
        radii = np.concatenate([radii, radii[:1]])
        colour = PALETTE[k % len(PALETTE)] if sample is None else "#4c72b0"
        ax.plot(closed, radii, color=colour, lw=1.3, label=row["sample"])
        ax.fill(closed, radii, color=colour, alpha=0.12 if sample is None else 0.3)
    labels = [f"1 - {a}" if a.startswith("DS") else a for a in axes_names]
    ax.set_xticks(angles, labels, fontsize=8)
    top = float(np.nanmax(values[axes_names].to_numpy(dtype=float)))
    ax.set_ylim(0, max(1.2, top * 1.05))
    ax.set_title(sample or "All samples (further out is better)", pad=18)
    if sample is None:
        ax.legend(fontsize=7, loc="upper right", bbox_to_anchor=(1.35, 1.1))
    return fig


def save_degradation_figures(out_dir, pcas: dict, loadings, scores, pairs, radar_axes) -> None:
    """Degradation figures: score plots with ellipses (``pcas``: name -> (scores, variance)),
    variance, top PC1 loadings, score bars and radar charts."""
    from pathlib import Path

    from ..degradation import radar_values
    from ..names import slug_map, write_index

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    titles = {"anchors": "uncycled vs uncoated cycled", "all": "all samples"}
    for name, (pc_scores, variance) in pcas.items():
        for x, y in pairs:
            if x in pc_scores and y in pc_scores:
                fig = pca_scores(
                    pc_scores,
                    variance,
                    x,
                    y,
                    "sample",
                    ellipses=True,
                    title=f"PCA, {titles.get(name, name)} (95 % ellipses)",
                )
                save(fig, out / f"pca_{name}_{x}_{y}.png")
        save(explained_variance(variance), out / f"pca_{name}_variance.png")
    save(top_loadings(loadings, "PC1"), out / "pca_anchors_loadings_PC1.png")
    ds = [c for c in scores.columns if c.startswith("DS") and not c.endswith("_sd")]
    save(degradation_bars(scores, ds), out / "degradation_scores.png")
    axes = [a for a in radar_axes if a in scores.columns]
    values = radar_values(scores.dropna(subset=axes), axes)
    save(radar(values, axes), out / "radar_overview.png")
    sample_slug = slug_map(values["sample"])
    write_index(out, [(slug, name, "sample") for name, slug in sample_slug.items()])
    for sample in values["sample"]:
        save(radar(values, axes, sample), out / f"radar_{sample_slug[sample]}.png")
