"""Ion-image figures: ion maps, pixel-wise scaled maps, products, two-colour overlays."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .style import (
    _pyplot,
    save,
)


def ion_maps(stack: pd.DataFrame, ions: list[str], title: str, scaled_by: str | None = None):
    """A grid of ion maps (counts, or counts / ``scaled_by`` per pixel)."""
    from ..imaging import image_array

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
    from ..imaging import image_array, normalized_product

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
    from ..imaging import image_array

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

    from ..names import distinct_stems, slug_map, write_index

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
