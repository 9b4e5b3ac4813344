"""Summed spectra on a common calibrated axis (uniform in sqrt(m/z), i.e. in flight time)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import SimsflowError

MIN_STEP = 2.5e-4  # sqrt(u): finer than any peak at m/dm <= 10000 up to a few hundred u


def sum_on_grid(
    spectra: list[tuple[np.ndarray, np.ndarray]], step: float
) -> tuple[np.ndarray, np.ndarray]:
    """Sum (calibrated m/z, counts) pairs into bins of ``step`` in sqrt(m/z).

    Returns bin-centre m/z and summed counts, from 0 to the largest m/z present.
    """
    top = max(float(np.sqrt(mz[-1])) for mz, _ in spectra)
    n = int(np.ceil(top / step)) + 2
    mz = np.concatenate([m for m, _ in spectra])
    counts = np.concatenate([c for _, c in spectra]).astype(float, copy=False)
    # each point's counts are shared between the two nearest bin centres (linear weights),
    # so spectra sampled on other axes add up without a comb of empty and doubled bins
    pos = np.sqrt(np.maximum(mz, 0.0)) / step - 0.5
    left = np.clip(np.floor(pos).astype(np.int64), 0, n - 2)
    frac = np.clip(pos - left, 0.0, 1.0)
    right_share = counts * frac
    total = np.bincount(left, weights=counts - right_share, minlength=n)
    total += np.bincount(left + 1, weights=right_share, minlength=n)
    centres = ((np.arange(n) + 0.5) * step) ** 2
    return centres, total


def grid_step(mz: np.ndarray) -> float:
    """A grid step no finer than the data's own sampling (so coarse exports do not comb)."""
    spacing = float(np.median(np.diff(np.sqrt(mz))))
    return max(MIN_STEP, spacing)


def combine(frames: list[pd.DataFrame], source: str | None = None) -> pd.DataFrame:
    """Add per-sample summed spectra (columns mz, counts, step) onto the coarsest grid.

    Without any calibrated spectrum (every one skipped or failed calibration) there is nothing
    to sum: a SimsflowError names ``source``, the table that says why of each spectrum."""
    frames = [f for f in frames if len(f)]
    if not frames:
        raise SimsflowError(
            "no calibrated spectrum to sum: every spectrum of the study was skipped or failed "
            "calibration",
            file=source,
            hint="the status and reason of each spectrum are in this table, unreadable exports "
            "in qc/skipped.tsv",
        )
    step = max(float(f["step"].iloc[0]) for f in frames)
    mz, counts = sum_on_grid([(f["mz"].to_numpy(), f["counts"].to_numpy()) for f in frames], step)
    return pd.DataFrame({"mz": mz, "counts": counts, "step": step})


def sample_summed(spectra: pd.DataFrame, calibration: pd.DataFrame) -> pd.DataFrame:
    """Summed calibrated spectrum of one sample (columns sample, mz, counts, step; the sample
    names it in a batch's file of several)."""
    from .calibrate import calibrated_spots

    calibrated = list(calibrated_spots(spectra, calibration))
    if not calibrated:
        return pd.DataFrame(
            {"sample": pd.Series([], dtype=object), "mz": [], "counts": [], "step": []}
        )
    step = grid_step(calibrated[0][1])
    mz, counts = sum_on_grid([(mz, counts) for _, mz, counts in calibrated], step)
    return pd.DataFrame({"sample": calibrated[0][0][1], "mz": mz, "counts": counts, "step": step})


def by_sample(table: pd.DataFrame) -> list[pd.DataFrame]:
    """The per-sample summed spectra in a table of several (told apart by the sample column),
    in the table's order: put in sheet order first (``io.batches.read_in_sheet_order``), the
    study's sum then adds them in the same order whether they came per sample or per batch."""
    return [part for _, part in table.groupby("sample", sort=False)] if len(table) else []


def study_summed(samples, source: str | None = None) -> pd.DataFrame:
    """The summed calibrated spectrum of a study from (spectra, calibration) of each sample,
    in sheet order: each sample summed as the integration sums it, then ``combine``."""
    return combine(
        [sample_summed(spectra, calibration) for spectra, calibration in samples], source
    )
