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


MAX_WIDTH = 24.0  # inches: a study of hundreds of samples still gives a figure one can open
MAX_LABELS = 60  # sample names on an axis; with more samples every k-th is named


def _width(per_item: float, items: int, minimum: float, margin: float = 1.5) -> float:
    return min(MAX_WIDTH, max(minimum, per_item * items + margin))


def _sample_ticks(ax, positions: np.ndarray, samples: list[str]) -> None:
    step = int(np.ceil(len(samples) / MAX_LABELS)) or 1
    ax.set_xticks(
        positions[::step], samples[::step], rotation=60, ha="right", fontsize=7 if step == 1 else 6
    )


def box_statistics(values: np.ndarray, groups: np.ndarray, n_groups: int) -> pd.DataFrame:
    """Quartiles and whisker ends per group (Tukey: the most extreme value within 1.5 IQR of
    the box, never inside it), as matplotlib's boxplot computes them, for all groups at once;
    NaN values are left out, a group without values gets NaN."""
    series = pd.Series(values, dtype=float)
    by = series.groupby(groups)
    q = by.quantile([0.25, 0.5, 0.75]).unstack()  # noqa: PD010 (one level to columns)
    stats = pd.DataFrame(index=pd.RangeIndex(n_groups))
    stats["q1"], stats["median"], stats["q3"] = q[0.25], q[0.5], q[0.75]
    iqr = stats["q3"] - stats["q1"]
    low_limit = (stats["q1"] - 1.5 * iqr).to_numpy()[groups]
    high_limit = (stats["q3"] + 1.5 * iqr).to_numpy()[groups]
    low = series.where(series >= low_limit).groupby(groups).min()
    high = series.where(series <= high_limit).groupby(groups).max()
    # a whisker never ends inside the box
    stats["whisker_low"] = np.fmin(low.reindex(stats.index), stats["q1"])
    stats["whisker_high"] = np.fmax(high.reindex(stats.index), stats["q3"])
    return stats


def _boxes(ax, scaled: pd.DataFrame, ion: str, samples: list[str], reference: str | None):
    """A box per sample (drawn as four collections, not hundreds of lines) and every spot."""
    from matplotlib.collections import LineCollection, PolyCollection

    values = scaled[ion].to_numpy(dtype=float)
    order = {s: k for k, s in enumerate(samples)}
    position = scaled["sample"].map(order).to_numpy()
    stats = box_statistics(values, position, len(samples))
    drawn = stats.dropna()
    p = drawn.index.to_numpy(dtype=float)
    q1, median, q3 = (drawn[c].to_numpy() for c in ("q1", "median", "q3"))
    low, high = drawn["whisker_low"].to_numpy(), drawn["whisker_high"].to_numpy()
    half, cap = 0.3, 0.15
    ax.add_collection(
        PolyCollection(
            np.stack(
                [
                    np.column_stack([p - half, q1]),
                    np.column_stack([p + half, q1]),
                    np.column_stack([p + half, q3]),
                    np.column_stack([p - half, q3]),
                ],
                axis=1,
            ),
            facecolors="none",
            edgecolors="k",
            linewidths=1.0,
        )
    )

    def segments(x0, y0, x1, y1):
        return np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], axis=1)

    ax.add_collection(
        LineCollection(
            np.concatenate(
                [
                    segments(p, q1, p, low),
                    segments(p, q3, p, high),
                    segments(p - cap, low, p + cap, low),
                    segments(p - cap, high, p + cap, high),
                ]
            ),
            colors="k",
            linewidths=1.0,
        )
    )
    ax.add_collection(
        LineCollection(
            segments(p - half, median, p + half, median), colors="#c44e52", linewidths=1.5
        )
    )
    # one scatter call for every spot: the jitter restarts within each sample
    spot = scaled.groupby("sample", sort=False).cumcount().to_numpy()
    colours = np.where(scaled["sample"].to_numpy() == reference, "#dd8452", "#4c72b0")
    ax.scatter(
        position + _jitter(spot.max() + 1)[spot], values, s=9, c=colours, alpha=0.8, zorder=3
    )
    ax.set_xlim(-0.6, len(samples) - 0.4)
    ax.autoscale_view(scalex=False)
    _sample_ticks(ax, np.arange(len(samples)), samples)
    ax.set_title(ion, fontsize=9)


def ion_boxplot(scaled: pd.DataFrame, ion: str, method: str, reference: str | None = None):
    """One ion: a box per sample with every spot as a point (reference sample in orange)."""
    plt = _pyplot()
    samples = list(dict.fromkeys(scaled["sample"]))
    fig, ax = plt.subplots(figsize=(_width(0.55, len(samples), 4.0), 3.6))
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
        rows,
        cols,
        figsize=(min(MAX_WIDTH, cols * max(3.0, 0.4 * len(samples) + 1)), rows * 3.2),
        squeeze=False,
    )
    for ax, ion in zip(axes.ravel(), ions, strict=False):
        _boxes(ax, scaled, ion, samples, reference)
    for ax in axes.ravel()[len(ions) :]:
        ax.set_visible(False)
    fig.suptitle(f"Ion group {group} ({method})")
    fig.tight_layout()
    return fig


_WORKER_TABLE: dict[str, pd.DataFrame] = {}  # a box-plot worker process's scaled table


def _set_worker_table(scaled: pd.DataFrame) -> None:
    _WORKER_TABLE["scaled"] = scaled


def _draw_in_worker(task) -> None:
    _draw_box_figure(_WORKER_TABLE["scaled"], task)


def _draw_box_figure(scaled: pd.DataFrame, task) -> None:
    kind, ions, title, method, reference, path = task
    if kind == "ion":
        fig = ion_boxplot(scaled, ions[0], method, reference)
    else:
        fig = group_boxplots(scaled, ions, title, method, reference)
    save(fig, path)


def save_boxplots(
    out_dir,
    scaled: pd.DataFrame,
    important: list[str],
    extra: list[str],
    groups: dict[str, str],
    method: str,
    reference: str | None = None,
    workers: int = 1,
    note: str | None = None,
) -> None:
    """Box plots of one scaling: ``<ion>.png`` for important ions, ``group_<group>.png``
    overviews of their groups, and ``extra/<ion>.png`` for the other ions; file names are
    slugs of the names (simsflow.names), mapped back by each folder's ``names.tsv`` (which
    also carries ``note``, a line saying which figures were left out, if given).

    With ``workers`` > 1 the figures are drawn in that many processes (each figure is
    independent, so the files are the same whatever the number)."""
    from pathlib import Path

    from .names import slug_map, write_index

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    by_group: dict[str, list[str]] = {}
    for ion in important:
        by_group.setdefault(groups.get(ion) or "ungrouped", []).append(ion)
    ion_slug = slug_map([*important, *extra])
    group_slug = slug_map([f"group_{g}" for g in by_group], taken=ion_slug.values())
    tasks = [("ion", [i], i, method, reference, out / f"{ion_slug[i]}.png") for i in important]
    tasks += [
        ("group", ions, group, method, reference, out / f"{group_slug['group_' + group]}.png")
        for group, ions in by_group.items()
    ]
    tasks += [
        ("ion", [i], i, method, reference, out / "extra" / f"{ion_slug[i]}.png") for i in extra
    ]
    index = [(ion_slug[i], i, "ion") for i in important]
    index += [(group_slug["group_" + g], g, "group") for g in by_group]
    write_index(out, index + ([("", note, "note")] if note else []))
    if extra:
        (out / "extra").mkdir(exist_ok=True)
        write_index(out / "extra", [(ion_slug[i], i, "ion") for i in extra])
    if workers > 1 and len(tasks) > 1:
        import multiprocessing

        # the table goes to each worker once, not with every figure
        context = multiprocessing.get_context("fork")
        with context.Pool(min(workers, len(tasks)), _set_worker_table, (scaled,)) as pool:
            pool.map(_draw_in_worker, tasks, chunksize=1)
    else:
        for task in tasks:
            _draw_box_figure(scaled, task)


PALETTE = [
    "#4c72b0",
    "#dd8452",
    "#55a868",
    "#c44e52",
    "#8172b3",
    "#937860",
    "#da8bc3",
    "#8c8c8c",
    "#ccb974",
    "#64b5cd",
]
MARKERS = ["^", "s", "D", "v", "P", "X", "*", "h"]


def confusion(table: pd.DataFrame):
    """Out-of-fold confusion matrix (counts, rows = true class)."""
    plt = _pyplot()
    values = table.to_numpy()
    fig, ax = plt.subplots(figsize=(1.0 * len(table) + 1.5, 0.9 * len(table) + 1.2))
    ax.imshow(values, cmap="Blues")
    for (i, j), v in np.ndenumerate(values):
        ax.text(
            j,
            i,
            str(v),
            ha="center",
            va="center",
            color="white" if v > values.max() / 2 else "black",
        )
    ax.set_xticks(range(len(table.columns)), table.columns, rotation=45, ha="right")
    ax.set_yticks(range(len(table.index)), table.index)
    ax.set_xlabel("predicted (out of fold)")
    ax.set_ylabel("true")
    return fig


def scaling_comparison(table: pd.DataFrame):
    """Cross-validated accuracy and log-loss of each scaling."""
    plt = _pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 0.5 * len(table) + 2))
    y = np.arange(len(table))
    a1.barh(y, table["accuracy_mean"], xerr=table["accuracy_sd"], color="#4c72b0")
    a1.set_yticks(y, table["scaling"])
    a1.set_xlabel("CV accuracy (mean ± sd over folds)")
    a1.set_xlim(0, 1.05)
    a2.barh(y, table["log_loss_mean"], color="#dd8452")
    a2.set_yticks(y, [])
    a2.set_xlabel("CV log-loss (lower is better)")
    fig.suptitle("Scalings compared by the same cross-validation")
    fig.tight_layout()
    return fig


def characteristic_ions_figure(table: pd.DataFrame):
    """Per class, the ions with the largest positive coefficients."""
    plt = _pyplot()
    classes = list(dict.fromkeys(table["class"]))
    fig, axes = plt.subplots(1, len(classes), figsize=(3.0 * len(classes), 3.2), squeeze=False)
    for ax, cls, colour in zip(axes[0], classes, PALETTE, strict=False):
        part = table[table["class"] == cls].iloc[::-1]
        ax.barh(part["ion"], part["coefficient"], color=colour)
        ax.set_title(cls)
        ax.set_xlabel("LR coefficient")
    fig.suptitle("Characteristic ions: largest positive logistic-regression coefficients")
    fig.tight_layout()
    return fig


def prediction_heatmap(samples: pd.DataFrame, classes: list[str]):
    """Mean class probability and NNLS composition of each unknown sample, side by side."""
    plt = _pyplot()
    fig, axes = plt.subplots(
        1, 2, figsize=(2 * (0.8 * len(classes) + 2.5), 0.5 * len(samples) + 1.8)
    )
    labels = [
        f"{s}{'  [unexplained]' if f else ''}"
        for s, f in zip(samples["sample"], samples["flag"], strict=True)
    ]
    for ax, prefix, title in zip(
        axes,
        ("p_", "f_"),
        ("LR probability (mean over spots)", "composition (NNLS fraction)"),
        strict=True,
    ):
        values = samples[[f"{prefix}{c}" for c in classes]].to_numpy(dtype=float)
        ax.imshow(values, cmap="viridis", vmin=0, vmax=1, aspect="auto")
        for (i, j), v in np.ndenumerate(values):
            ax.text(
                j,
                i,
                f"{v:.2f}",
                ha="center",
                va="center",
                color="black" if v > 0.6 else "white",
                fontsize=8,
            )
        ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
        ax.set_yticks(range(len(labels)), labels if prefix == "p_" else [])
        ax.set_title(title)
    fig.tight_layout()
    return fig


def pca_scores(
    scores: pd.DataFrame,
    variance: pd.DataFrame,
    x: str,
    y: str,
    colour_by: str,
    ellipses: bool = False,
    title: str = "",
):
    """Score plot, one colour per ``colour_by`` value; rows whose ``set`` is 'predict' (projected
    unknowns) get their own markers; optional 95 % confidence ellipses."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.2, 5.0))
    pct = dict(zip(variance["component"], variance["explained_variance_pct"], strict=True))
    projected = scores["set"] == "predict" if "set" in scores else pd.Series(False, scores.index)
    for k, (name, part) in enumerate(scores.groupby(colour_by, sort=False)):
        colour = PALETTE[k % len(PALETTE)]
        unknown = bool(projected.loc[part.index].iloc[0])
        marker = MARKERS[k % len(MARKERS)] if unknown else "o"
        ax.scatter(
            part[x],
            part[y],
            s=30 if unknown else 18,
            color=colour,
            marker=marker,
            label=name,
            edgecolor="k" if unknown else "none",
            linewidth=0.4,
        )
        if ellipses and len(part) > 2:
            _ellipse(ax, part[x].to_numpy(), part[y].to_numpy(), colour)
    ax.set_xlabel(f"{x} ({pct[x]:.1f} %)")
    ax.set_ylabel(f"{y} ({pct[y]:.1f} %)")
    ax.axhline(0, color="0.8", lw=0.6)
    ax.axvline(0, color="0.8", lw=0.6)
    ax.legend(fontsize=7, loc="best")
    ax.set_title(title)
    return fig


def _ellipse(ax, x, y, colour, chi2_95=5.991):
    from matplotlib.patches import Ellipse

    cov = np.cov(x, y)
    values, vectors = np.linalg.eigh(cov)
    angle = np.degrees(np.arctan2(vectors[1, 1], vectors[0, 1]))
    width, height = 2 * np.sqrt(chi2_95 * np.maximum(values[::-1], 0))
    ax.add_patch(
        Ellipse(
            (x.mean(), y.mean()), width, height, angle=angle, fill=False, edgecolor=colour, lw=1
        )
    )


def explained_variance(variance: pd.DataFrame):
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.bar(variance["component"], variance["explained_variance_pct"], color="#4c72b0")
    ax.plot(
        variance["component"], variance["cumulative_pct"], "o-", color="#dd8452", label="cumulative"
    )
    ax.set_ylabel("explained variance (%)")
    ax.legend()
    return fig


def top_loadings(loadings: pd.DataFrame, component: str = "PC1", top: int = 15):
    plt = _pyplot()
    order = loadings.reindex(loadings[component].abs().sort_values(ascending=False).index)
    part = order.head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(5, 0.28 * len(part) + 1.2))
    colours = ["#c44e52" if v > 0 else "#4c72b0" for v in part[component]]
    labels = part["ion"] + (" (" + part["group"] + ")" if "group" in part else "")
    ax.barh(labels, part[component], color=colours)
    ax.set_xlabel(f"{component} loading")
    ax.set_title(f"Top {len(part)} ions by |{component} loading|")
    return fig


def decision_boundary(
    grid_x,
    grid_y,
    proba,
    train: pd.DataFrame,
    mixture: pd.DataFrame,
    cls: str,
    other: str,
    variance: pd.DataFrame,
):
    """P(cls) of an LR on PC1-PC2 as a colour map, with both pure classes and the mixture."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.2, 5.0))
    mesh = ax.contourf(
        grid_x, grid_y, proba, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.75
    )
    ax.contour(grid_x, grid_y, proba, levels=[0.5], colors="k", linewidths=1)
    fig.colorbar(mesh, ax=ax, label=f"P({cls})")
    for name, colour in ((cls, "#c44e52"), (other, "#4c72b0")):
        part = train[train["label"] == name]
        ax.scatter(
            part["PC1"],
            part["PC2"],
            s=22,
            color=colour,
            edgecolor="k",
            lw=0.4,
            label=f"{name} (pure)",
        )
    ax.scatter(
        mixture["PC1"],
        mixture["PC2"],
        s=40,
        color="#ccb974",
        marker="D",
        edgecolor="k",
        lw=0.5,
        label=", ".join(dict.fromkeys(mixture["sample"])),
    )
    pct = dict(zip(variance["component"], variance["explained_variance_pct"], strict=True))
    ax.set_xlabel(f"PC1 ({pct['PC1']:.1f} %)")
    ax.set_ylabel(f"PC2 ({pct['PC2']:.1f} %)")
    ax.legend(fontsize=7)
    ax.set_title(f"Decision boundary {cls} vs {other}")
    return fig


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


def ion_maps(stack: pd.DataFrame, ions: list[str], title: str, scaled_by: str | None = None):
    """A grid of ion maps (counts, or counts / ``scaled_by`` per pixel)."""
    from .imaging import image_array

    plt = _pyplot()
    cols = min(4, len(ions))
    rows = int(np.ceil(len(ions) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.1 * cols, 3.0 * rows), squeeze=False)
    denom = None if scaled_by is None else stack[scaled_by].to_numpy(dtype=float)
    for ax, ion in zip(axes.ravel(), ions, strict=False):
        values = stack[ion].to_numpy(dtype=float)
        if denom is not None:
            values = np.divide(values, denom, out=np.full_like(values, np.nan), where=denom > 0)
        shown = ax.imshow(image_array(stack, values), cmap="inferno", interpolation="nearest")
        fig.colorbar(shown, ax=ax, fraction=0.046)
        ax.set_title(ion if denom is None else f"{ion} / {scaled_by}", fontsize=8)
        ax.axis("off")
    for ax in axes.ravel()[len(ions) :]:
        ax.set_visible(False)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def product_map(stack: pd.DataFrame, ions: list[str], title: str):
    from .imaging import image_array, normalized_product

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    shown = ax.imshow(
        image_array(stack, normalized_product(stack, ions)), cmap="magma", interpolation="nearest"
    )
    fig.colorbar(shown, ax=ax, fraction=0.046, label="product of max-normalized counts")
    ax.set_title(f"{' x '.join(ions)}\n{title}", fontsize=8)
    ax.axis("off")
    return fig


def overlay_map(stack: pd.DataFrame, first: str, second: str, title: str):
    """Two ions as red and green channels (each scaled to its 99th percentile)."""
    from .imaging import image_array

    plt = _pyplot()
    rgb = []
    for ion in (first, second):
        image = np.nan_to_num(image_array(stack, ion))
        top = np.percentile(image, 99) or 1.0
        rgb.append(np.clip(image / top, 0, 1))
    rgb.append(np.zeros_like(rgb[0]))
    fig, ax = plt.subplots(figsize=(4.4, 4.4))
    ax.imshow(np.dstack(rgb), interpolation="nearest")
    ax.set_title(f"red: {first}, green: {second}\n{title}", fontsize=8)
    ax.axis("off")
    return fig


def save_image_figures(
    out_dir, stacks: pd.DataFrame, maps: list[str], products, overlays, denominator: str
) -> None:
    """Per region: raw and scaled ion maps, normalized products and overlays; file names are
    slugs of the region and ion names, mapped back by ``names.tsv``."""
    from pathlib import Path

    from .names import distinct_stems, slug_map, write_index

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    regions = list(dict.fromkeys(stacks["spot"]))
    region_slug = slug_map(regions)
    named = [i for ions in products for i in ions] + [i for pair in overlays for i in pair]
    ion_slug = slug_map(named)
    stems = {}
    for spot in regions:
        r = region_slug[spot]
        stems[(spot, "maps")] = f"{r}_maps"
        stems[(spot, "scaled")] = f"{r}_scaled"
        for ions in products:
            stems[(spot, "product", *ions)] = f"{r}_product_{'_'.join(ion_slug[i] for i in ions)}"
        for a, b in overlays:
            stems[(spot, "overlay", a, b)] = f"{r}_overlay_{ion_slug[a]}_{ion_slug[b]}"
    stems = distinct_stems(stems)
    write_index(
        out,
        [(region_slug[s], s, "region") for s in regions]
        + [(ion_slug[i], i, "ion") for i in ion_slug],
    )
    for spot, stack in stacks.groupby("spot", sort=False):
        sample = stack["sample"].iloc[0]
        where = f"{sample}, region {spot}"
        save(
            ion_maps(stack, maps, f"Ion maps (counts), {where}"),
            out / f"{stems[(spot, 'maps')]}.png",
        )
        save(
            ion_maps(stack, maps, f"Pixel-wise scaled maps, {where}", denominator),
            out / f"{stems[(spot, 'scaled')]}.png",
        )
        for ions in products:
            save(product_map(stack, ions, where), out / f"{stems[(spot, 'product', *ions)]}.png")
        for a, b in overlays:
            save(overlay_map(stack, a, b, where), out / f"{stems[(spot, 'overlay', a, b)]}.png")


def save_pca_views(out_dir, scores, variance, loadings, grids) -> None:
    """The classification PCA views: score plots, variance, loadings, decision boundaries."""
    from pathlib import Path

    from .names import distinct_stems, slug_map, write_index

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    class_slug = slug_map([name for g in grids for name in (g["class"], g["versus"])])
    stems = distinct_stems(
        {
            (g["class"], g["versus"]): f"decision_{class_slug[g['class']]}_vs_"
            f"{class_slug[g['versus']]}"
            for g in grids
        }
    )
    write_index(out, [(slug, name, "class") for name, slug in class_slug.items()])
    for y in ("PC2", "PC3"):
        fig = pca_scores(
            scores,
            variance,
            "PC1",
            y,
            "group",
            title="PCA of the training spectra; unknowns projected",
        )
        save(fig, out / f"scores_PC1_{y}.png")
    save(explained_variance(variance), out / "explained_variance.png")
    for pc in ("PC1", "PC2"):
        save(top_loadings(loadings, pc), out / f"loadings_{pc}.png")
    for g in grids:
        fig = decision_boundary(
            g["grid_x"],
            g["grid_y"],
            g["proba"],
            g["train"],
            g["mixture"],
            g["class"],
            g["versus"],
            g["variance"],
        )
        save(fig, out / f"{stems[(g['class'], g['versus'])]}.png")


def save_degradation_figures(out_dir, pcas: dict, loadings, scores, pairs, radar_axes) -> None:
    """Degradation figures: score plots with ellipses (``pcas``: name -> (scores, variance)),
    variance, top PC1 loadings, score bars and radar charts."""
    from pathlib import Path

    from .degradation import radar_values
    from .names import slug_map, write_index

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
