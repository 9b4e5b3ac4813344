"""Pixel-by-pixel scaling of ion images (Lombardo et al., JVST A 2023).

Scaling a whole region by its total ion count mixes particles, pores, binder and interphases,
and lets topography (which scales every count of a pixel) weight bright pixels more. Scaling
each pixel by its own total ion count (or a reference ion) first, then averaging over pixels,
keeps both the representativeness of the large area and the accuracy of local scaling. Pixels
whose denominator is zero are excluded and counted, never filled in. Optional binning (2x2,
4x4) sums neighbouring pixels to raise counts per pixel.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .errors import SimsflowError
from .integrate import Intervals
from .io.images import (
    TOTAL,
    imzml_spectrum,
    open_imzml,
    read_ita_region,
    read_surfacelab_region,
    region_files,
)


def bin_pixels(stack: pd.DataFrame, factor: int) -> pd.DataFrame:
    """Sum counts over factor x factor blocks of pixels."""
    if factor <= 1:
        return stack
    bx = (stack["x"].to_numpy() // factor).astype(np.int32)
    by = (stack["y"].to_numpy() // factor).astype(np.int32)
    values = stack.drop(columns=["x", "y"])
    summed = values.groupby([by, bx], sort=True).sum()
    out = summed.reset_index(names=["y", "x"])
    return out[["x", "y", *values.columns]]


def region_row(
    stack: pd.DataFrame, ions: list[str], denominator: str = TOTAL, binning: int = 1
) -> tuple[dict, dict]:
    """The region's peak-table values (mean over valid pixels of ion / denominator) and QC.

    Computed as a matrix-vector product, w @ counts with w = 1/denominator on valid pixels and
    0 elsewhere, so no per-pixel ratio matrix (a second copy of the stack) is ever built.
    """
    binned = bin_pixels(stack, binning)
    if denominator not in binned:
        raise SimsflowError(
            f"pixel-wise denominator '{denominator}' is not in the image stack",
            hint="use 'total' or an ion of the mass list",
        )
    denom = binned[denominator].to_numpy(dtype=np.float64)
    valid = denom > 0
    n_valid = int(valid.sum())
    if n_valid == 0:
        raise SimsflowError(f"every pixel has a zero '{denominator}': the region is empty")
    weights = np.divide(1.0, denom, out=np.zeros_like(denom), where=valid).astype(np.float32)
    counts = binned[ions].to_numpy(dtype=np.float32, copy=False)
    # one float32 matrix-vector product over the stack as stored: BLAS accumulates in blocks,
    # within 1e-6 (relative) of a float64 sum, and no float64 copy of the stack is made
    means = (weights @ counts).astype(np.float64) / n_valid
    row = dict(zip(ions, means.tolist(), strict=True))
    row["total_counts"] = float(binned[TOTAL].sum())
    qc = {
        "pixels": int(valid.size),
        "excluded_zero_denominator": int(valid.size - n_valid),
        "binning": binning,
        "denominator": denominator,
    }
    return row, qc


def region_total_ion_ratio(stack: pd.DataFrame, ions: list[str]) -> dict:
    """Whole-region total-ion scaling, for comparison: sum of ion / sum of total."""
    total = float(stack[TOTAL].sum())
    return {ion: float(stack[ion].sum()) / total for ion in ions}


def image_array(stack: pd.DataFrame, column: str | np.ndarray) -> np.ndarray:
    """A column (or per-pixel values) as a 2-D array indexed [y, x] (NaN where no pixel)."""
    x = stack["x"].to_numpy()
    y = stack["y"].to_numpy()
    values = stack[column].to_numpy(dtype=float) if isinstance(column, str) else column
    image = np.full((y.max() + 1, x.max() + 1), np.nan)
    image[y, x] = values
    return image


def normalized_product(stack: pd.DataFrame, ions: list[str]) -> np.ndarray:
    """Pixel-wise product of related ions' images, each scaled to its maximum first.

    A phase whose single-ion images suffer mass interferences stands out sharper where all its
    ions coincide.
    """
    product = np.ones(len(stack))
    for ion in ions:
        values = stack[ion].to_numpy(dtype=float)
        top = values.max()
        product *= values / top if top > 0 else 0.0
    return product


def sample_rows(stacks: pd.DataFrame, ions: list[str], denominator: str, binning: int):
    """Peak-table rows (one per region) and QC rows of one sample's image stacks."""
    rows, qc = [], []
    for (study, sample, spot), stack in stacks.groupby(["study", "sample", "spot"], sort=False):
        row, note = region_row(stack, ions, denominator, binning)
        rows.append({"study": study, "sample": sample, "spot": spot, **row})
        qc.append({"study": study, "sample": sample, "spot": spot, **note})
    return (
        pd.DataFrame(rows, columns=["study", "sample", "spot", *ions, "total_counts"]),
        pd.DataFrame(qc),
    )


def imzml_region(path: str | Path, mass_list: pd.DataFrame) -> pd.DataFrame:
    """An imzML image (continuous or processed) integrated over the mass list per pixel, one
    pixel's spectrum in memory at a time."""
    parser = open_imzml(path)
    intervals = Intervals.of(mass_list["lower"], mass_list["upper"])
    ions = mass_list["ion"].tolist()
    rows = np.zeros((len(parser.coordinates), len(ions)), dtype=np.float32)
    totals = np.zeros(len(parser.coordinates), dtype=np.float32)
    for i in range(len(parser.coordinates)):
        mz, intensity = imzml_spectrum(parser, i)
        rows[i] = intervals.sums(mz, intensity)
        totals[i] = intensity.sum()
    coords = np.asarray(parser.coordinates)
    stack = pd.DataFrame({"x": coords[:, 0].astype(np.int32), "y": coords[:, 1].astype(np.int32)})
    for k, ion in enumerate(ions):
        stack[ion] = rows[:, k]
    stack[TOTAL] = totals
    return stack


def read_region(path: str | Path, mass_list: pd.DataFrame) -> pd.DataFrame:
    """One region's stack from a folder of SurfaceLab exports, an .imzML or an .ita file."""
    path = Path(path)
    ions = mass_list["ion"].tolist()
    if path.is_dir():
        regions = region_files(path)
        if len(regions) != 1:
            raise SimsflowError(
                f"{len(regions)} regions in one folder ({', '.join(sorted(regions)) or 'none'})",
                file=str(path),
                hint="give each region its own folder (one sheet row per region)",
            )
        return read_surfacelab_region(next(iter(regions.values())), ions)
    if path.suffix.lower() == ".imzml":
        return imzml_region(path, mass_list)
    if path.suffix.lower() == ".ita":
        return read_ita_region(path, mass_list)
    raise SimsflowError(
        "not an ion-image source",
        file=str(path),
        hint="a folder of SurfaceLab image exports, an .imzML or an .ita file",
    )


def import_image_sample(
    study: str, sample: str, spots, files, mass_list: pd.DataFrame
) -> tuple[pd.DataFrame, dict]:
    """All regions of one sample as one stack (column ``spot`` = region) and provenance."""
    import hashlib

    parts, provenance = [], []
    for spot, file in zip(spots, files, strict=True):
        stack = read_region(file, mass_list)
        stack.insert(0, "spot", spot)
        parts.append(stack)
        path = Path(file)
        members = sorted(path.glob("*.txt")) if path.is_dir() else [path]
        digest = hashlib.sha256()
        for member in members:
            digest.update(member.name.encode() + b"\0" + member.read_bytes())
        provenance.append(
            {"spot": spot, "file": str(file), "sha256": digest.hexdigest(), "pixels": len(stack)}
        )
    table = pd.concat(parts, ignore_index=True)
    table.insert(0, "sample", sample)
    table.insert(0, "study", study)
    return table, {"study": study, "sample": sample, "spots": provenance}
