"""Checks the library repeats wherever it is used: training classes large enough for the
folds and in at least two CV groups each (a scaling chain's check is
``simsflow.scaling.check_scaling_steps``). No scikit-learn here: it takes seconds to import,
and a Snakemake start, which runs these checks on every study's config, should not pay it (a
test keeps it out)."""

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


def classes_in_one_group(labels, groups) -> dict[str, str]:
    """Each class whose spectra all carry one CV group value -> that value, classes sorted: the
    cross-validation fold that holds the value out has no training spectrum of the class."""
    labels, groups = np.asarray(labels), np.asarray(groups).astype(str)
    single = {}
    for label in np.unique(labels):
        values = np.unique(groups[labels == label])
        if values.size < 2:
            single[str(label)] = str(values[0])
    return single


def check_groups(labels, groups, group_column: str, lines=None) -> None:
    """Training labels and their values of ``group_column``: every class in at least two groups
    (else grouped CV has no split). ``lines`` (the rows' sheet lines, optional) locates the
    first row of the first class in a single group."""
    single = classes_in_one_group(labels, groups)
    if not single:
        return
    line = None
    if lines is not None:
        first = next(iter(single))
        line = int(np.asarray(lines)[np.asarray(labels).astype(str) == first][0])
    shown = ", ".join(f"'{c}' ('{v}')" for c, v in single.items())
    raise SimsflowError(
        f"class(es) {shown} have all their train rows in one '{group_column}' value, so the "
        "cross-validation fold that holds it out has no training spectrum of the class",
        line=line,
        column=group_column,
        hint=f"give each class train rows with at least two values of '{group_column}', or "
        "set classification.group_column to another column or to null",
    )
