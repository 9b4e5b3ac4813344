"""Checks the library repeats wherever it is used: training classes large enough for the
folds (a scaling chain's check is ``simsflow.scaling.check_scaling_steps``). No scikit-learn
here: it takes seconds to import, and a Snakemake start, which runs these checks on every
study's config, should not pay it (a test keeps it out)."""

from __future__ import annotations

import numpy as np

from .errors import SimsflowError


def check_classes(labels: np.ndarray, folds: int) -> None:
    """Training labels: at least two classes, each with at least ``folds`` spectra."""
    classes, counts = np.unique(labels, return_counts=True)
    if classes.size < 2:
        found = f": '{classes[0]}' ({counts[0]} spectra)" if classes.size else ""
        raise SimsflowError(
            f"training needs at least two classes, found {classes.size}{found}",
            column="label",
            hint="label train rows of a second class, or leave classification out of the study",
        )
    small = [f"'{c}' ({n})" for c, n in zip(classes, counts, strict=True) if n < folds]
    if small:
        raise SimsflowError(
            f"class(es) {', '.join(small)} have fewer spectra than the {folds} CV folds",
            column="label",
            hint="measure more spectra of the class or lower classification.folds",
        )
