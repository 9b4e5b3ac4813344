"""Figures from finished tables. Every function takes tables, returns a matplotlib Figure.

Matplotlib is imported lazily, with the non-interactive Agg backend, so importing the library
stays cheap and works without a display.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 110, "font.size": 9})
    return plt


def save(fig, path) -> None:
    """Write a PNG atomically, without a timestamp in its metadata."""
    from .io.atomic import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight", metadata={"Software": None})
    _pyplot().close(fig)


def calibration_errors(calibration: pd.DataFrame):
    """Median |ppm| error of the reference ions per spectrum, before and after calibration."""
    plt = _pyplot()
    cal = calibration.reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.12 * len(cal) + 2), 3.6))
    x = np.arange(len(cal))
    ax.scatter(x, cal["ppm_before"], s=14, color="#c44e52", label="stored calibration")
    ax.scatter(x, cal["ppm_after"], s=14, color="#4c72b0", label="after recalibration")
    excluded = cal["status"] != "ok"
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
    starts = cal.groupby("sample", sort=False).head(1).index
    ax.set_xticks(starts, cal.loc[starts, "sample"], rotation=60, ha="right")
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
        half = max(0.06, 3 * (ion["upper"] - ion["lower"]))
        sel = (mz > ion["mz"] - half) & (mz < ion["mz"] + half)
        ax.plot(mz[sel], counts[sel], lw=0.8, color="k")
        ax.axvspan(ion["lower"], ion["upper"], color="#dd8452", alpha=0.35, lw=0)
        ax.axvline(ion["mz"], color="#4c72b0", lw=0.6)
        ax.set_title(ion["ion"], fontsize=8)
        ax.tick_params(labelsize=6)
        ax.ticklabel_format(axis="x", useOffset=False)
        ax.xaxis.set_major_locator(MaxNLocator(3))
        ax.yaxis.set_major_locator(MaxNLocator(3))
    return fig


def _jitter(n: int) -> np.ndarray:
    """Deterministic horizontal offsets for n points (golden-ratio sequence)."""
    return ((np.arange(n) * 0.6180339887) % 1.0 - 0.5) * 0.35


def _boxes(ax, scaled: pd.DataFrame, ion: str, samples: list[str], reference: str | None):
    data = [scaled.loc[scaled["sample"] == s, ion].to_numpy(dtype=float) for s in samples]
    positions = np.arange(len(samples))
    ax.boxplot(
        data, positions=positions, widths=0.6, showfliers=False, medianprops={"color": "#c44e52"}
    )
    for pos, values, sample in zip(positions, data, samples, strict=True):
        colour = "#dd8452" if sample == reference else "#4c72b0"
        ax.scatter(pos + _jitter(values.size), values, s=9, color=colour, alpha=0.8, zorder=3)
    ax.set_xticks(positions, samples, rotation=60, ha="right", fontsize=7)
    ax.set_title(ion, fontsize=9)


def ion_boxplot(scaled: pd.DataFrame, ion: str, method: str, reference: str | None = None):
    """One ion: a box per sample with every spot as a point (reference sample in orange)."""
    plt = _pyplot()
    samples = list(dict.fromkeys(scaled["sample"]))
    fig, ax = plt.subplots(figsize=(max(4.0, 0.55 * len(samples) + 1.5), 3.6))
    _boxes(ax, scaled, ion, samples, reference)
    ax.set_ylabel(f"{ion} ({method})")
    ax.grid(axis="y", alpha=0.3)
    return fig


def group_boxplots(
    scaled: pd.DataFrame, ions: list[str], group: str, method: str, reference: str | None = None
):
    """Every ion of a group, one small box plot each, for an overview."""
    plt = _pyplot()
    samples = list(dict.fromkeys(scaled["sample"]))
    cols = min(4, len(ions))
    rows = int(np.ceil(len(ions) / cols))
    fig, axes = plt.subplots(
        rows, cols, figsize=(cols * max(3.0, 0.4 * len(samples) + 1), rows * 3.2), squeeze=False
    )
    for ax, ion in zip(axes.ravel(), ions, strict=False):
        _boxes(ax, scaled, ion, samples, reference)
    for ax in axes.ravel()[len(ions) :]:
        ax.set_visible(False)
    fig.suptitle(f"Ion group {group} ({method})")
    fig.tight_layout()
    return fig


def save_boxplots(
    out_dir,
    scaled: pd.DataFrame,
    important: list[str],
    extra: list[str],
    groups: dict[str, str],
    method: str,
    reference: str | None = None,
) -> None:
    """Box plots of one scaling: ``<ion>.png`` for important ions, ``group_<group>.png``
    overviews of their groups, and ``extra/<ion>.png`` for the other ions."""
    from pathlib import Path

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for ion in important:
        save(ion_boxplot(scaled, ion, method, reference), out / f"{ion}.png")
    by_group: dict[str, list[str]] = {}
    for ion in important:
        by_group.setdefault(groups.get(ion) or "ungrouped", []).append(ion)
    for group, ions in by_group.items():
        save(group_boxplots(scaled, ions, group, method, reference), out / f"group_{group}.png")
    for ion in extra:
        save(ion_boxplot(scaled, ion, method, reference), out / "extra" / f"{ion}.png")
