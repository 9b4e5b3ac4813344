"""Checks of a study's settings that run at every Snakemake start (``workflow/rules/common.smk``)
and again in the library calls they guard. Only numpy and pandas here: scikit-learn, which the
scaling and model code build on, takes about a second to import, and a dry run or a rerun of
one figure should not pay it."""

from __future__ import annotations

import numpy as np

from .errors import SimsflowError

# the parameters of each scaling method (config name -> its transformer's parameters in
# simsflow.scaling; a test keeps the two the same)
STEP_PARAMETERS: dict[str, tuple[str, ...]] = {
    "total_ion": ("basis", "exclude"),
    "reference_ion": ("ion",),
    "minmax": ("axis",),
    "max_relative": (),
    "zscore": (),
    "poisson": (),
    "sqrt": (),
    "log": ("offset",),
}


def check_scaling_steps(steps: list[dict]) -> None:
    """A scaling chain names known methods with parameters they take."""
    if not steps:
        raise SimsflowError("a scaling needs at least one step")
    for step in steps:
        params = dict(step)
        name = params.pop("method", None)
        if name not in STEP_PARAMETERS:
            raise SimsflowError(
                f"unknown scaling method {name!r}",
                hint=f"choose from {', '.join(STEP_PARAMETERS)}",
            )
        unknown = sorted(set(params) - set(STEP_PARAMETERS[name]))
        if unknown:
            takes = ", ".join(STEP_PARAMETERS[name]) or "none"
            raise SimsflowError(
                f"scaling method '{name}': unexpected parameter(s) {', '.join(unknown)} "
                f"(it takes: {takes})"
            )


def check_classes(labels: np.ndarray, folds: int) -> None:
    """Training labels: at least two classes, each with at least ``folds`` spectra."""
    classes, counts = np.unique(labels, return_counts=True)
    if classes.size < 2:
        raise SimsflowError(
            f"training needs at least two classes, found {classes.size}", column="label"
        )
    small = [f"'{c}' ({n})" for c, n in zip(classes, counts, strict=True) if n < folds]
    if small:
        raise SimsflowError(
            f"class(es) {', '.join(small)} have fewer spectra than the {folds} CV folds",
            column="label",
            hint="measure more spectra of the class or lower classification.folds",
        )
