"""``scaling: auto``: the classifier's scaling chain chosen by cross-validation.

Each candidate chain is cross-validated with the same splits (``classify.cv_splits``); the best
mean of the configured metric over the folds is found, and the simplest chain whose mean lies
within one standard error (sd / sqrt(folds)) of the best is chosen - the one-standard-error rule
of Hastie, Tibshirani & Friedman (Elements of Statistical Learning, 7.10), which prefers the
simpler model when the data cannot tell two apart. Simpler means fewer steps, then earlier in
``CHAINS``. ``none`` (the areas unscaled) is cross-validated as the reference row of the table
but is not chosen unless listed in ``candidates``: counts of different spectra are not comparable
(primary-ion dose, topography), which cross-validation on pure reference spectra cannot see - on
the lithium demo every chain reaches 100 % and unscaled areas would win as the simplest, then
predict the mixtures as one compound. Every chain that applies a non-linear transform
standardizes afterwards (z-score), so the logistic regression converges on all of them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TOTAL_ION = {"method": "total_ion"}
ZSCORE = {"method": "zscore"}

# name -> steps, simplest first (the order breaks ties between chains of equal length)
CHAINS: dict[str, list[dict]] = {
    "none": [{"method": "none"}],
    "total_ion": [TOTAL_ION],
    "spectrum_minmax": [{"method": "minmax", "axis": "spectrum"}],
    "total_ion_minmax": [TOTAL_ION, {"method": "minmax", "axis": "ion"}],
    "total_ion_zscore": [TOTAL_ION, ZSCORE],
    "sqrt_zscore": [{"method": "sqrt"}, ZSCORE],
    "log1p_zscore": [{"method": "log", "offset": 1.0}, ZSCORE],
}
LOWER_IS_BETTER = {"log_loss"}


def chain_text(steps: list[dict]) -> str:
    """A chain as text: its methods joined by ' -> ', parameters in brackets."""
    parts = []
    for step in steps:
        extra = [f"{k}={v}" for k, v in step.items() if k != "method"]
        parts.append(step["method"] + (f"({', '.join(extra)})" if extra else ""))
    return " -> ".join(parts)


def choose_chain(table: pd.DataFrame, metric: str) -> tuple[str, pd.DataFrame]:
    """The chain the one-standard-error rule picks, and the table with ``within_1se`` and
    ``chosen`` columns. ``table`` has one row per chain (in order of simplicity) with
    ``<metric>_mean``, ``<metric>_se``, ``n_steps`` and ``eligible`` (may be chosen)."""
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    score = sign * table[f"{metric}_mean"].to_numpy(dtype=float)
    se = table[f"{metric}_se"].to_numpy(dtype=float)
    eligible = table["eligible"].to_numpy(dtype=bool)
    best = int(np.argmax(np.where(eligible, score, -np.inf)))
    within = eligible & (score >= score[best] - se[best] - 1e-12)  # the best is always within
    order = np.lexsort((np.arange(len(table)), table["n_steps"].to_numpy()))
    chosen = next(int(i) for i in order if within[i])
    out = table.copy()
    out["best"] = np.arange(len(table)) == best
    out["within_1se"] = within
    out["chosen"] = np.arange(len(table)) == chosen
    return str(table["scaling"].iloc[chosen]), out


def summarize_folds(name: str, steps: list[dict], folds: pd.DataFrame) -> dict:
    """One row of the choice table from a chain's per-fold metrics."""
    per_fold = folds[folds["fold"] != "overall"]
    row = {"scaling": name, "steps": chain_text(steps), "n_steps": len(steps)}
    for metric in ("accuracy", "balanced_accuracy", "macro_f1", "log_loss"):
        values = per_fold[metric].to_numpy(dtype=float)
        sd = values.std(ddof=1) if values.size > 1 else 0.0
        row[f"{metric}_mean"] = values.mean()
        row[f"{metric}_sd"] = sd
        row[f"{metric}_se"] = sd / np.sqrt(values.size)
    return row


def auto_scaling(
    train_rows: pd.DataFrame, ions: list[str], y, splits, settings, cross_validate, groups=None
):
    """Cross-validate every candidate chain on ``splits`` (its inner C search split by
    ``groups`` too) with ``cross_validate`` (``classify.cross_validate_model``, passed in so
    that this module does not import the one that calls it); (chosen steps, choice record,
    table).

    ``settings`` is the study's ClassifierSettings: its ``metric`` ranks the chains, its
    ``candidates`` (names of ``CHAINS``; empty - all) are compared.
    """
    from .scaling import ion_frame

    rows = []
    for name in settings.candidates or tuple(CHAINS):
        steps = CHAINS[name]
        X = ion_frame(train_rows, ions, steps)
        _, folds = cross_validate(X, y, splits, settings, steps, groups)
        eligible = bool(settings.candidates) or name != "none"
        rows.append({**summarize_folds(name, steps, folds), "eligible": eligible})
    chosen, table = choose_chain(pd.DataFrame(rows), settings.metric)
    record = {
        "chosen": chosen,
        "metric": settings.metric,
        "rule": "simplest chain within one standard error of the best mean over the CV folds",
        "table": table.to_dict(orient="records"),
    }
    return list(CHAINS[chosen]), record, table
