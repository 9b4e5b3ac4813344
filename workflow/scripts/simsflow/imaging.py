"""Pixel-by-pixel scaling of ion images (Lombardo et al., JVST A 2023).

Scaling a whole region by its total ion count mixes particles, pores, binder and interphases,
and lets topography (which scales every count of a pixel) weight bright pixels more. Scaling
each pixel by its own total ion count (or a reference ion) first, then averaging over pixels,
keeps both the representativeness of the large area and the accuracy of local scaling. Pixels
whose denominator is zero are excluded and counted, never filled in. Optional binning (2x2,
4x4) sums neighbouring pixels to raise counts per pixel.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import SimsflowError

# the total-ion image's column, as simsflow.io.images names it (a test keeps the two equal; not
# imported from there, so that figure jobs do not reach the image readers and pyimzml)
TOTAL = "total"


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
