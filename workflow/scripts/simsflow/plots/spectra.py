"""Spectrum-stage figures: calibration errors, the summed spectrum with the mass list."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .style import (
    _pyplot,
    _sample_ticks,
    _width,
)


def calibration_errors(calibration: pd.DataFrame):
    """Median |ppm| error of the reference ions per spectrum, before and after calibration."""
    plt = _pyplot()
    cal = calibration.reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(_width(0.12, len(cal), 6.0, 2.0), 3.6))
    x = np.arange(len(cal))
    ax.scatter(x, cal["ppm_before"], s=14, color="#c44e52", label="stored calibration")
    ax.scatter(x, cal["ppm_after"], s=14, color="#4c72b0", label="after recalibration")
    # binned exports: no calibration gets below half a bin; a good one sits at this mark
    limit = pd.to_numeric(cal.get("bin_limit_ppm", pd.Series(dtype=float)), errors="coerce")
    binned = (limit > 0).to_numpy()
    if binned.any():
        ax.scatter(
            x[binned],
            limit[binned],
            marker="_",
            s=120,
            color="#55a868",
            label="bin limit (half a bin)",
        )
    recovered = (cal["status"] == "recovered").to_numpy()
    if recovered.any():
        ax.scatter(
            x[recovered],
            cal.loc[recovered, "ppm_before"],
            s=40,
            facecolors="none",
            edgecolors="k",
            label="recovered by the wide search",
        )
    excluded = (cal["status"] == "excluded").to_numpy()
    if excluded.any():
        ax.scatter(
            x[excluded],
            np.full(excluded.sum(), 1.0),
            marker="x",
            color="k",
            label="excluded (see qc/calibration.tsv)",
        )
    ax.set_yscale("log")
    ax.set_ylabel("median |mass error| of reference ions (ppm)")
    starts = cal.groupby("sample", sort=False).head(1).index.to_numpy()
    _sample_ticks(ax, starts, cal.loc[starts, "sample"].tolist())
    ax.set_xlabel("spectrum (ticks: first spot of each sample)")
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(f"Mass calibration: {len(cal)} spectra")
    return fig


def summed_spectrum(summed: pd.DataFrame, mass_list: pd.DataFrame, panels: int = 120):
    """The study's summed spectrum: overview with intervals, then one panel per ion."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    ions = mass_list.sort_values("mz").head(panels)
    n = len(ions)
    cols = 8
    rows = int(np.ceil(n / cols))
    fig = plt.figure(figsize=(16, 2.6 + 1.7 * rows))
    grid = fig.add_gridspec(rows + 1, cols, height_ratios=[1.6] + [1] * rows, hspace=0.6)
    top = fig.add_subplot(grid[0, :])
    mz, counts = summed["mz"].to_numpy(), summed["counts"].to_numpy()
    top.plot(mz, np.maximum(counts, 0.5), lw=0.5, color="k")
    for lo, hi in zip(mass_list["lower"], mass_list["upper"], strict=True):
        top.axvspan(lo, hi, color="#dd8452", alpha=0.35, lw=0)
    top.set_yscale("log")
    top.set_xlim(0, float(mass_list["upper"].max()) * 1.05)
    top.set_xlabel("m/z (calibrated)")
    top.set_ylabel("summed counts")
    top.set_title("Summed spectrum of the study with the mass-list intervals (orange)")
    for k, (_, ion) in enumerate(ions.iterrows()):
        ax = fig.add_subplot(grid[1 + k // cols, k % cols])
        sel = _panel_points(mz, ion["mz"], ion["lower"], ion["upper"])
        # bins drawn as steps (a binned export has a point or two per peak: it shows as the
        # bin it is, not as a line between two bins), with a marker each where they are few
        ax.plot(
            mz[sel],
            counts[sel],
            lw=0.8,
            color="k",
            drawstyle="steps-mid",
            marker="." if sel.sum() < 40 else None,
            ms=3,
        )
        ax.axvspan(ion["lower"], ion["upper"], color="#dd8452", alpha=0.35, lw=0)
        ax.axvline(ion["mz"], color="#4c72b0", lw=0.6)
        ax.set_title(ion["ion"], fontsize=8)
        ax.tick_params(labelsize=6)
        ax.ticklabel_format(axis="x", useOffset=False)
        ax.xaxis.set_major_locator(MaxNLocator(3))
        ax.yaxis.set_major_locator(MaxNLocator(3))
    return fig


def fitted_clusters(fits: list, sample: str, spectra: int = 3, clusters: int = 8):
    """Overlapping peaks as fitted (``simsflow.peakfit``): for the first ``spectra`` spectra of
    a sample (rows) each fitted cluster (columns, at most ``clusters``): counts, each ion's
    fitted peak, baseline and their sum above, the residual below. ``fits``: (spot, ClusterFit)
    in spectrum order."""
    plt = _pyplot()
    spots = list(dict.fromkeys(spot for spot, _ in fits))[:spectra]
    names = list(dict.fromkeys(fit.name for _, fit in fits))[:clusters]
    if not spots or not names:
        fig, ax = plt.subplots(figsize=(6, 1.5))
        ax.axis("off")
        ax.text(0.5, 0.5, f"{sample}: no cluster was fitted", ha="center", va="center")
        return fig
    chosen = {(spot, fit.name): fit for spot, fit in fits}
    from matplotlib.ticker import MaxNLocator

    fig = plt.figure(figsize=(2.6 * len(names) + 0.6, 3.4 * len(spots)))
    outer = fig.add_gridspec(len(spots), len(names), hspace=0.45, wspace=0.35)
    colours = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860"]
    for row, spot in enumerate(spots):
        for col, name in enumerate(names):
            inner = outer[row, col].subgridspec(2, 1, height_ratios=[3, 1], hspace=0.08)
            top = fig.add_subplot(inner[0])
            bottom = fig.add_subplot(inner[1], sharex=top)
            bottom.xaxis.set_major_locator(MaxNLocator(3))
            fit = chosen.get((spot, name))
            if fit is None:
                top.axis("off")
                bottom.axis("off")
                continue
            model = fit.components.sum(axis=0) + fit.baseline
            top.plot(fit.mz, fit.counts, ".", color="k", markersize=2.5, label="counts")
            for k, ion in enumerate(fit.ions):
                top.plot(fit.mz, fit.components[k] + fit.baseline, lw=1,
                         color=colours[k % len(colours)], label=ion)  # fmt: skip
            top.plot(fit.mz, fit.baseline, lw=0.8, ls=":", color="grey", label="baseline")
            top.plot(fit.mz, model, lw=0.8, color="#333333", alpha=0.6, label="fit")
            top.set_title(f"{spot}: {name}\nresidual {fit.residual_pct:.1f} %", fontsize=8)
            top.tick_params(labelbottom=False, labelsize=7)
            if row == 0:
                top.legend(fontsize=6, loc="upper right")
            bottom.axhline(0.0, color="grey", lw=0.6)
            bottom.plot(fit.mz, fit.counts - model, ".", color="#c44e52", markersize=2)
            bottom.tick_params(labelsize=7)
            if col == 0:
                top.set_ylabel("counts")
                bottom.set_ylabel("residual")
            if row == len(spots) - 1:
                bottom.set_xlabel("m/z")
    fig.suptitle(f"Fitted clusters of overlapping peaks: sample {sample}")
    return fig


def _panel_points(mz: np.ndarray, centre: float, lower: float, upper: float) -> np.ndarray:
    """Which points of the summed spectrum an ion's panel shows: three interval widths (at
    least 0.06 u) on each side of its m/z, and at least three bins of a coarsely binned
    export, whose bins can be wider than the interval (the panel showed one or no point)."""
    half = max(0.06, 3 * (upper - lower))
    k = int(np.clip(np.searchsorted(mz, centre), 1, max(mz.size - 1, 1)))
    if mz.size > 1:
        half = max(half, 3.5 * float(mz[k] - mz[k - 1]))
    return (mz > centre - half) & (mz < centre + half)
