"""Detector dead time of single-ion counting (time-to-digital converter).

After each detected ion the detector is blind for the dead time (about 65 ns), so in every
primary shot a bin can only count if nothing was counted in the dead window before it. With N
shots, c_i counts in bin i and C_i counts in the window before it, the Poisson-corrected
(true) count is -N ln(1 - c_i / (N - C_i)) (Stephan, Zehnpfenning & Benninghoven, JVST A 1994).
"""

from __future__ import annotations

import numpy as np


def preceding_sum(values: np.ndarray, window: int) -> np.ndarray:
    """Sum of the ``window`` values before each position (excluding itself)."""
    csum = np.concatenate([[0.0], np.cumsum(values, dtype=float)])
    out = csum[:-1].copy()  # everything before each position ...
    if window < values.size:
        out[window:] -= csum[: values.size - window]  # ... less what lies further back
    return out


def window_bins(dead_time_ns: float, channel_width_ns: float, binning: int) -> int:
    """Dead window in exported bins."""
    return max(round(dead_time_ns / (channel_width_ns * binning)), 1)


def correct(counts: np.ndarray, n_shots: float, window: int) -> np.ndarray:
    """Poisson dead-time correction of counts per bin (see module docstring)."""
    counts = np.asarray(counts, dtype=float)
    live = n_shots - preceding_sum(counts, window)
    frac = np.clip(counts / np.maximum(live, 1.0), 0.0, 1.0 - 1e-12)
    return -n_shots * np.log1p(-frac)
