"""Classification figures: confusion, scalings, characteristic ions, predictions, PCA views."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .style import (
    MARKERS,
    PALETTE,
    _ellipse,
    _pyplot,
    save,
)


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


def explained_variance(variance: pd.DataFrame):
    """Bar chart of the explained variance (%) per component."""
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
    """Horizontal bars of the ``top`` ions with the largest |loading| on ``component``."""
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


def save_pca_views(out_dir, scores, variance, loadings, grids) -> None:
    """The classification PCA views: score plots, variance, loadings, decision boundaries."""
    from pathlib import Path

    from ..names import distinct_stems, slug_map, write_index

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
