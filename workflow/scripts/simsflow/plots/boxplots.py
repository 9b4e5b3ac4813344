"""Box plots of scaled intensities per sample and ion, and per group of ions.

Drawing costs more than the statistics, so the figures are made in proportion: one figure per
ion group (every ion of the group a small panel, in pages of at most ``PANELS_PER_PAGE``) and
one per important ion, the other ions only on request (``simsflow.stats.boxplot_selection``).
A figure object is made once per shape and given each ion's values in turn (its boxes, whiskers
and points are collections whose data are replaced), with a fixed layout instead of a tight
bounding box, which would draw every figure twice: each ion then costs one draw and one PNG.
The drawing depends only on the values given, so a figure drawn after others is byte for byte
the one drawn alone (``tests/test_plots.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .style import MAX_LABELS, MAX_WIDTH, _jitter, _pyplot, _sample_ticks, _width, save

PANEL_COLUMNS = 4  # panels side by side in a group's figure
PANELS_PER_PAGE = 16  # a larger group continues on further pages: group_<group>_2.png ...
REFERENCE_COLOUR, SPOT_COLOUR, MEDIAN_COLOUR = "#dd8452", "#4c72b0", "#c44e52"
HALF_WIDTH, CAP = 0.3, 0.15  # of a box and of a whisker's cap, in sample positions


STAT_NAMES = ("q1", "median", "q3", "whisker_low", "whisker_high")


def box_arrays(values: np.ndarray, groups: np.ndarray, n_groups: int) -> dict[str, np.ndarray]:
    """``box_statistics`` of every column of ``values`` (spots x ions) at once: each statistic
    an array of groups x columns, computed block by block over the groups (one numpy call per
    group for every ion, instead of a pandas group-by per ion)."""
    import warnings

    values = np.asarray(values, dtype=float)
    values = values.reshape(len(values), -1)
    out = {k: np.full((n_groups, values.shape[1]), np.nan) for k in STAT_NAMES}
    order = np.argsort(groups, kind="stable")
    bounds = np.searchsorted(np.asarray(groups)[order], np.arange(n_groups + 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a group without values: NaN
        for g in range(n_groups):
            block = values[order[bounds[g] : bounds[g + 1]]]
            if block.size == 0:
                continue
            q1, median, q3 = np.nanquantile(block, [0.25, 0.5, 0.75], axis=0)
            iqr = q3 - q1
            low = np.nanmin(np.where(block >= q1 - 1.5 * iqr, block, np.nan), axis=0)
            high = np.nanmax(np.where(block <= q3 + 1.5 * iqr, block, np.nan), axis=0)
            out["q1"][g], out["median"][g], out["q3"][g] = q1, median, q3
            # a whisker never ends inside the box
            out["whisker_low"][g] = np.fmin(low, q1)
            out["whisker_high"][g] = np.fmax(high, q3)
    return out


def box_statistics(values: np.ndarray, groups: np.ndarray, n_groups: int) -> pd.DataFrame:
    """Quartiles and whisker ends per group (Tukey: the most extreme value within 1.5 IQR of
    the box, never inside it), as matplotlib's boxplot computes them, for all groups at once;
    NaN values are left out, a group without values gets NaN."""
    arrays = box_arrays(values, groups, n_groups)
    return pd.DataFrame({k: arrays[k][:, 0] for k in STAT_NAMES})


class _Layout:
    """Where the spots of a study stand: the samples in table order, each spot's position and
    its offset within the sample, and the spots' colours (the reference sample in orange)."""

    def __init__(self, scaled: pd.DataFrame, reference: str | None):
        self.scaled = scaled
        self.samples = list(dict.fromkeys(scaled["sample"]))
        order = {s: k for k, s in enumerate(self.samples)}
        self.position = scaled["sample"].map(order).to_numpy()
        spot = scaled.groupby("sample", sort=False).cumcount().to_numpy()
        self.x = self.position + _jitter(int(spot.max()) + 1 if spot.size else 1)[spot]
        self.colours = np.where(
            scaled["sample"].to_numpy() == reference, REFERENCE_COLOUR, SPOT_COLOUR
        )

    def boxes(self, ions: list[str]) -> dict[str, tuple[np.ndarray, dict]]:
        """Each ion's values and box statistics (``box_arrays``), computed for all at once."""
        values = self.scaled[ions].to_numpy(dtype=float)
        arrays = box_arrays(values, self.position, len(self.samples))
        return {
            ion: (values[:, k], {name: a[:, k] for name, a in arrays.items()})
            for k, ion in enumerate(ions)
        }

    def label_inches(self, fontsize: float) -> float:
        """Height the rotated sample names need below an axes (60 degrees, as drawn)."""
        from matplotlib.textpath import TextPath

        step = int(np.ceil(len(self.samples) / MAX_LABELS)) or 1
        longest = max((str(s) for s in self.samples[::step]), key=len, default="")
        width = TextPath((0, 0), longest, size=fontsize).get_extents().width / 72
        return min(3.0, 0.866 * width + 0.5 * fontsize / 72) + 0.2


def _segments(x0, y0, x1, y1):
    return np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], axis=1)


def _limits(values: np.ndarray) -> tuple[float, float]:
    """The y range of an ion: its values with 5 % margins (matplotlib's default autoscaling)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    if high - low <= 1e-12 * max(abs(low), abs(high)):  # one value: a range around it
        half = 0.05 * abs(high) or 0.05
        low, high = low - half, high + half
    margin = 0.05 * (high - low)
    return low - margin, high + margin


class _BoxPanel:
    """One axes with a box per sample and every spot as a point; ``show`` replaces the ion."""

    def __init__(self, ax, layout: _Layout, y_ticks: int | None = None, named: bool = True):
        from matplotlib.collections import LineCollection, PolyCollection
        from matplotlib.ticker import MaxNLocator

        self.ax, self.layout = ax, layout
        self.boxes = PolyCollection([], facecolors="none", edgecolors="k", linewidths=1.0)
        self.whiskers = LineCollection([], colors="k", linewidths=1.0)
        self.medians = LineCollection([], colors=MEDIAN_COLOUR, linewidths=1.5)
        for collection in (self.boxes, self.whiskers, self.medians):
            ax.add_collection(collection, autolim=False)
        # the spots as two marker lines (reference sample, the others): markers of one line
        # are drawn from one rasterized marker, much faster than a scatter's collection
        self.spots = [layout.colours == c for c in (SPOT_COLOUR, REFERENCE_COLOUR)]
        self.points = [
            ax.plot(layout.x[s], np.zeros(s.sum()), "o", ms=3, color=c, alpha=0.8, zorder=3)[0]
            for s, c in zip(self.spots, (SPOT_COLOUR, REFERENCE_COLOUR), strict=True)
        ]
        ax.set_autoscale_on(False)
        ax.set_xlim(-0.6, len(layout.samples) - 0.4)
        self.named: bool | None = None
        self.name_samples(named)
        if y_ticks is not None:  # a small panel: fewer ticks to read, and to draw
            ax.yaxis.set_major_locator(MaxNLocator(y_ticks))
        ax.grid(axis="y", alpha=0.3)
        # fixed label positions, for the same reason as the title's
        ax.xaxis.set_label_coords(0.5, -0.1)
        ax.yaxis.set_label_coords(-0.1, 0.5)

    def name_samples(self, named: bool) -> None:
        """Sample names and tick marks under the panel, or no x ticks at all. A panel without
        names holds no tick objects: matplotlib makes one per sample name, and making them
        took most of a page's drawing when every panel had them, hidden or not."""
        if named == self.named:
            return
        if named:
            samples = self.layout.samples
            _sample_ticks(self.ax, np.arange(len(samples)), samples)
        else:
            self.ax.set_xticks([])
        self.named = named

    def show(self, box: tuple[np.ndarray, dict], title: str) -> None:
        """Draw an ion - its values (one per spot, in table order) and box statistics
        (``_Layout.boxes``) - in the panel."""
        values, stats = box
        drawn = np.isfinite(stats["median"])
        p = np.flatnonzero(drawn).astype(float)
        q1, median, q3, low, high = (stats[k][drawn] for k in STAT_NAMES)
        left, right = p - HALF_WIDTH, p + HALF_WIDTH
        corners = [(left, q1), (right, q1), (right, q3), (left, q3)]
        self.boxes.set_verts(np.stack([np.column_stack(c) for c in corners], axis=1))
        self.whiskers.set_segments(
            np.concatenate(
                [
                    _segments(p, q1, p, low),
                    _segments(p, q3, p, high),
                    _segments(p - CAP, low, p + CAP, low),
                    _segments(p - CAP, high, p + CAP, high),
                ]
            )
        )
        self.medians.set_segments(_segments(left, median, right, median))
        for line, spots in zip(self.points, self.spots, strict=True):
            line.set_ydata(values[spots])
        self.ax.set_ylim(*_limits(values))
        # a fixed title position: matplotlib would otherwise measure the tick labels each draw
        self.ax.set_title(title, fontsize=9, y=1.0)


class IonFigure:
    """A figure of one ion at a time: made once, then ``draw`` each ion and ``save`` it."""

    def __init__(self, layout: _Layout, method: str):
        plt = _pyplot()
        width, height = _width(0.55, len(layout.samples), 4.0), 3.6
        bottom = layout.label_inches(7) + 0.1
        self.figure = plt.figure(figsize=(width, height + bottom))
        left, right, top = 0.85, 0.2, 0.35
        total = height + bottom
        self.figure.subplots_adjust(
            left=left / width, right=1 - right / width, bottom=bottom / total, top=1 - top / total
        )
        ax = self.figure.add_subplot()
        self.panel = _BoxPanel(ax, layout)
        ax.set_ylabel(f"scaled intensity ({method})")
        ax.yaxis.set_label_coords(-(left - 0.2) / (width - left - right), 0.5)

    def draw(self, box: tuple[np.ndarray, dict], ion: str):
        """Show an ion (its values and statistics, ``_Layout.boxes``); returns the figure."""
        self.panel.show(box, ion)
        return self.figure


class GroupPage:
    """A page of small panels (``rows`` x ``columns``), one ion each, for the ions of a group."""

    def __init__(self, layout: _Layout, rows: int, columns: int):
        plt = _pyplot()
        n = len(layout.samples)
        panel_w = min(max(2.4, 0.25 * n + 0.6), (MAX_WIDTH - 1.0) / columns - 0.6)
        panel_h, gap_w, gap_h = 2.2, 0.6, 0.45
        left, right, top = 0.6, 0.2, 0.65
        bottom = layout.label_inches(7 if n <= MAX_LABELS else 6)
        width = left + columns * panel_w + (columns - 1) * gap_w + right
        height = top + rows * panel_h + (rows - 1) * gap_h + bottom
        self.figure = plt.figure(figsize=(width, height))
        self.figure.subplots_adjust(
            left=left / width,
            right=1 - right / width,
            bottom=bottom / height,
            top=1 - top / height,
            wspace=gap_w / panel_w,
            hspace=gap_h / panel_h,
        )
        axes = self.figure.subplots(rows, columns, squeeze=False)
        self.rows, self.columns = rows, columns
        self.panels = [_BoxPanel(ax, layout, y_ticks=4, named=False) for ax in axes.ravel()]
        self.title = self.figure.suptitle("", y=1 - 0.2 / height)

    def draw(self, columns: dict[str, tuple], title: str):
        """Show each ion of ``columns`` (ion -> values and statistics) in a panel, in order;
        the other panels are hidden, sample names under the lowest panel of each column.
        Returns the figure."""
        ions = list(columns)
        for k, panel in enumerate(self.panels):
            panel.ax.set_visible(k < len(ions))
            if k < len(ions):
                panel.show(columns[ions[k]], ions[k])
                # sample names and tick marks under the lowest panel of a column only
                panel.name_samples(k + self.columns >= len(ions))
        self.title.set_text(title)
        return self.figure


def _page_shape(n_ions: int) -> tuple[int, int]:
    columns = min(PANEL_COLUMNS, n_ions)
    return int(np.ceil(min(n_ions, PANELS_PER_PAGE) / columns)), columns


def ion_boxplot(scaled: pd.DataFrame, ion: str, method: str, reference: str | None = None):
    """One ion: a box per sample with every spot as a point (reference sample in orange)."""
    layout = _Layout(scaled, reference)
    return IonFigure(layout, method).draw(layout.boxes([ion])[ion], ion)


def group_boxplots(
    scaled: pd.DataFrame, ions: list[str], group: str, method: str, reference: str | None = None
):
    """Up to ``PANELS_PER_PAGE`` ions of a group, one small box plot each, for an overview."""
    ions = ions[:PANELS_PER_PAGE]
    layout = _Layout(scaled, reference)
    page = GroupPage(layout, *_page_shape(len(ions)))
    return page.draw(layout.boxes(ions), f"Ion group {group} ({method})")


def _pages(ions: list[str]) -> list[list[str]]:
    return [ions[k : k + PANELS_PER_PAGE] for k in range(0, len(ions), PANELS_PER_PAGE)]


def _draw_tasks(scaled: pd.DataFrame, reference: str | None, method: str, tasks) -> None:
    """Draw ``tasks`` - (kind, ions, title, path) - reusing one figure per shape."""
    layout = _Layout(scaled, reference)
    boxes = layout.boxes(list(dict.fromkeys(i for task in tasks for i in task[1])))
    figures: dict = {}
    for kind, ions, title, path in tasks:
        if kind == "ion":
            figure = figures.get("ion") or figures.setdefault("ion", IonFigure(layout, method))
            fig = figure.draw(boxes[ions[0]], ions[0])
        else:
            shape = _page_shape(len(ions))
            page = figures.get(shape) or figures.setdefault(shape, GroupPage(layout, *shape))
            fig = page.draw({i: boxes[i] for i in ions}, title)
        save(fig, path, tight=False, close=False, compress_level=3)
    plt = _pyplot()
    for figure in figures.values():
        plt.close(figure.figure)


_WORKER: dict = {}  # a box-plot worker process's table and settings


def _set_worker(scaled: pd.DataFrame, reference, method) -> None:
    _WORKER.update(scaled=scaled, reference=reference, method=method)


def _draw_in_worker(tasks) -> None:
    _draw_tasks(_WORKER["scaled"], _WORKER["reference"], _WORKER["method"], tasks)


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
    overview: list[str] | None = None,
) -> None:
    """Box plots of one scaling: ``<ion>.png`` for the important ions, ``group_<group>.png``
    for each group of the ``overview`` ions (default: ``important`` and ``extra``; a group of
    more than ``PANELS_PER_PAGE`` ions continues in ``group_<group>_2.png`` ...), and
    ``extra/<ion>.png`` for the ``extra`` ions; file names are slugs of the names
    (simsflow.names), mapped back by each folder's ``names.tsv`` (which also carries ``note``,
    a line saying which figures were left out, if given).

    With ``workers`` > 1 the figures are drawn in that many processes (each figure depends
    only on its ion's values, so the files are the same whatever the number)."""
    from pathlib import Path

    from ..names import slug_map, write_index

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    by_group: dict[str, list[str]] = {}
    for ion in dict.fromkeys([*important, *extra] if overview is None else overview):
        by_group.setdefault(groups.get(ion) or "ungrouped", []).append(ion)
    pages = {g: _pages(ions) for g, ions in by_group.items()}
    page_keys = [
        (g, k, f"group_{g}" if k == 0 else f"group_{g}_{k + 1}")
        for g, group_pages in pages.items()
        for k in range(len(group_pages))
    ]
    ion_slug = slug_map([*important, *extra])
    page_slug = slug_map([key for _, _, key in page_keys], taken=ion_slug.values())
    tasks = [("ion", [i], i, out / f"{ion_slug[i]}.png") for i in important]
    index = [(ion_slug[i], i, "ion") for i in important]
    for group, k, key in page_keys:
        n = len(pages[group])
        title = f"Ion group {group} ({method})" + (f", page {k + 1} of {n}" if n > 1 else "")
        tasks.append(("group", pages[group][k], title, out / f"{page_slug[key]}.png"))
        name = group if k == 0 else f"{group} (page {k + 1} of {n})"
        index.append((page_slug[key], name, "group" if k == 0 else "group page"))
    tasks += [("ion", [i], i, out / "extra" / f"{ion_slug[i]}.png") for i in extra]
    write_index(out, index + ([("", note, "note")] if note else []))
    if extra:
        (out / "extra").mkdir(exist_ok=True)
        write_index(out / "extra", [(ion_slug[i], i, "ion") for i in extra])
    if workers > 1 and len(tasks) > 1:
        import multiprocessing

        # the table goes to each worker once, not with every figure; each worker draws a
        # share of the tasks with its own reused figures
        shares = [tasks[k::workers] for k in range(min(workers, len(tasks)))]
        context = multiprocessing.get_context("fork")
        with context.Pool(len(shares), _set_worker, (scaled, reference, method)) as pool:
            pool.map(_draw_in_worker, shares, chunksize=1)
    else:
        _draw_tasks(scaled, reference, method, tasks)
