"""Box plots of scaled intensities per sample and ion, and per group of ions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .style import (
    MAX_WIDTH,
    _jitter,
    _pyplot,
    _sample_ticks,
    _width,
    save,
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

    from ..names import slug_map, write_index

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
