"""Figures of the PCA report (``simsflow.pca_report``): scree, score plots with 95 % ellipses,
loading spectrum against m/z, loadings bar and biplot. Each takes the report's tables and a
title naming the study and the scaling chain, and returns a matplotlib Figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .style import PALETTE, _ellipse, _pyplot, save


def _pct(variance: pd.DataFrame) -> dict[str, float]:
    return dict(zip(variance["component"], variance["explained_variance_pct"], strict=True))


def scree(variance: pd.DataFrame, title: str):
    """Explained variance per component (bars) and cumulative (line), both labelled in %."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.6, 3.6))
    x = np.arange(len(variance))
    ax.bar(x, variance["explained_variance_pct"], color="#4c72b0", label="component")
    ax.plot(x, variance["cumulative_pct"], "o-", color="#dd8452", label="cumulative")
    for k, (one, total) in enumerate(
        zip(variance["explained_variance_pct"], variance["cumulative_pct"], strict=True)
    ):
        ax.annotate(f"{one:.1f}", (k, one), ha="center", va="bottom", fontsize=7)
        if k:  # the first cumulative value is the first bar's
            ax.annotate(f"{total:.1f}", (k, total), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(x, variance["component"])
    ax.set_ylim(0, 108)
    ax.set_ylabel("explained variance (%)")
    ax.legend(fontsize=7, loc="center right")
    ax.set_title(title)
    return fig


def scores(scores: pd.DataFrame, variance: pd.DataFrame, x: str, y: str, colour_by: str, title):
    """Scores of two components, one colour and one 95 % ellipse per ``colour_by`` value."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.2, 5.0))
    pct = _pct(variance)
    values = scores[colour_by].astype(str).replace("", "(empty)")
    for k, (name, part) in enumerate(scores.groupby(values, sort=False)):
        colour = PALETTE[k % len(PALETTE)]
        # an ellipse needs three spectra: the legend says where there is none (the title
        # promises one per value)
        few = "" if len(part) > 2 else ", too few for an ellipse"
        ax.scatter(part[x], part[y], s=18, color=colour, label=f"{name} (n={len(part)}{few})")
        if len(part) > 2:
            _ellipse(ax, part[x].to_numpy(), part[y].to_numpy(), colour)
    ax.set_xlabel(f"{x} ({pct[x]:.1f} %)")
    ax.set_ylabel(f"{y} ({pct[y]:.1f} %)")
    ax.axhline(0, color="0.8", lw=0.6)
    ax.axvline(0, color="0.8", lw=0.6)
    ax.legend(fontsize=7, loc="best", title=colour_by, title_fontsize=7)
    ax.set_title(title)
    return fig


def _top(loadings: pd.DataFrame, component: str, top: int) -> pd.DataFrame:
    order = np.argsort(-loadings[component].abs().to_numpy(), kind="stable")[:top]
    return loadings.iloc[order]


def loading_spectrum(loadings: pd.DataFrame, component: str, top: int, title: str):
    """Loadings of one component as a stem plot against m/z; the ``top`` largest |loadings|
    labelled with their ion."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8.0, 3.8))
    mz, value = loadings["mz"].to_numpy(), loadings[component].to_numpy()
    for sign, colour in ((1, "#c44e52"), (-1, "#4c72b0")):
        part = np.sign(value) == sign
        ax.vlines(mz[part], 0, value[part], color=colour, lw=1.2)
    ax.axhline(0, color="k", lw=0.6)
    for _, row in _top(loadings, component, top).iterrows():
        ax.annotate(
            row["ion"],
            (row["mz"], row[component]),
            xytext=(0, 3 if row[component] >= 0 else -3),
            textcoords="offset points",
            ha="center",
            va="bottom" if row[component] >= 0 else "top",
            fontsize=7,
        )
    span = float(np.abs(value).max()) or 1.0
    ax.set_ylim(-1.2 * span, 1.2 * span)
    ax.set_xlabel("m/z")
    ax.set_ylabel(f"{component} loading")
    ax.set_title(title)
    return fig


def loadings_bar(loadings: pd.DataFrame, component: str, top: int, title: str):
    """The ``top`` ions by |loading| of one component, as horizontal bars."""
    plt = _pyplot()
    part = _top(loadings, component, top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(5.2, 0.28 * len(part) + 1.3))
    colours = ["#c44e52" if v > 0 else "#4c72b0" for v in part[component]]
    ax.barh(part["ion"], part[component], color=colours)
    ax.axvline(0, color="k", lw=0.6)
    ax.set_xlabel(f"{component} loading")
    ax.set_title(title)
    return fig


def biplot(scores_: pd.DataFrame, loadings: pd.DataFrame, x: str, y: str, colour_by, top, title):
    """Scores of two components with the ``top`` ions' loadings as arrows (stretched to the
    scores' range; their directions and relative lengths are what they show)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    values = scores_[colour_by].astype(str).replace("", "(empty)")
    for k, (name, part) in enumerate(scores_.groupby(values, sort=False)):
        ax.scatter(part[x], part[y], s=14, color=PALETTE[k % len(PALETTE)], label=name, alpha=0.7)
    strength = np.hypot(loadings[x], loadings[y]).to_numpy()
    chosen = loadings.iloc[np.argsort(-strength, kind="stable")[:top]]
    reach = float(np.abs(scores_[[x, y]].to_numpy()).max()) or 1.0
    stretch = 0.9 * reach / (float(strength.max()) or 1.0)
    for _, row in chosen.iterrows():
        dx, dy = row[x] * stretch, row[y] * stretch
        ax.annotate("", (dx, dy), (0, 0), arrowprops={"arrowstyle": "->", "color": "k", "lw": 0.8})
        ax.annotate(row["ion"], (dx, dy), fontsize=7, ha="center", va="bottom")
    ax.axhline(0, color="0.8", lw=0.6)
    ax.axvline(0, color="0.8", lw=0.6)
    ax.set_xlabel(f"{x} scores (arrows: loadings x {stretch:.3g})")
    ax.set_ylabel(y)
    ax.legend(fontsize=7, loc="best", title=colour_by, title_fontsize=7)
    ax.set_title(title)
    return fig


def save_pca_report(out_dir, tables: dict, study: str, chain: str, colour_by, pairs, top) -> None:
    """Every figure of the PCA report into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    variance, loadings, pc_scores = tables["variance"], tables["loadings"], tables["scores"]
    head = f"{study}: PCA, {chain}"
    save(scree(variance, f"{head}\nexplained variance"), out / "scree.png")
    for x, y in pairs:
        fig = scores(pc_scores, variance, x, y, colour_by, f"{head}\n95 % ellipses by {colour_by}")
        save(fig, out / f"scores_{x}_{y}.png")
        fig = biplot(pc_scores, loadings, x, y, colour_by, top, f"{head}\nbiplot")
        save(fig, out / f"biplot_{x}_{y}.png")
    for pc in variance["component"].head(3):
        fig = loading_spectrum(loadings, pc, top, f"{head}\n{pc} loading spectrum")
        save(fig, out / f"loading_spectrum_{pc}.png")
        save(
            loadings_bar(loadings, pc, top, f"{head}\ntop {top} ions, {pc}"),
            out / f"loadings_{pc}.png",
        )
