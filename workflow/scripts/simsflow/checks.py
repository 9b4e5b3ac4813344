"""Checks the library repeats wherever it is used: a scaling chain's methods and parameters
(read from the transformers themselves), and training classes large enough for the folds. No
scikit-learn here: it takes about a second to import, and a Snakemake start, which runs these
checks on every study's config, should not pay it (a test keeps it out)."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

from .errors import SimsflowError


def _scaling_signatures() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """Each scaling method's parameters, and those without a default (None), read from the
    transformers' ``__init__`` in simsflow/scaling.py and its ``METHODS`` table: the one
    source, parsed rather than imported (scikit-learn takes about a second to import, and a
    Snakemake start should not pay it)."""
    tree = ast.parse(Path(__file__).with_name("scaling.py").read_text(encoding="utf-8"))
    init_args: dict[str, tuple[list[str], list]] = {}
    bases: dict[str, list[str]] = {}
    methods: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            bases[node.name] = [b.id for b in node.bases if isinstance(b, ast.Name)]
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    args = [a.arg for a in item.args.args[1:]]
                    defaults = [None] * (len(args) - len(item.args.defaults)) + [
                        ast.literal_eval(d) for d in item.args.defaults
                    ]
                    init_args[node.name] = (args, defaults)
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "METHODS" for t in node.targets
        ):
            methods = {
                ast.literal_eval(k): v.id
                for k, v in zip(node.value.keys, node.value.values, strict=True)
            }

    def signature(cls: str) -> tuple[list[str], list]:
        if cls in init_args:
            return init_args[cls]
        for base in bases.get(cls, []):
            if base in init_args or base in bases:
                return signature(base)
        return [], []

    parameters, required = {}, {}
    for name, cls in methods.items():
        args, defaults = signature(cls)
        parameters[name] = tuple(args)
        required[name] = tuple(a for a, d in zip(args, defaults, strict=True) if d is None)
    return parameters, required


# each scaling method's parameters (config name -> its transformer's __init__ parameters), and
# the ones it cannot do without (default None), as simsflow.scaling declares them
STEP_PARAMETERS, _REQUIRED = _scaling_signatures()
STEP_REQUIRED = {name: params for name, params in _REQUIRED.items() if params}
# a value the message suggests for each required parameter
STEP_EXAMPLES = {"reference_ion": {"ion": "C2H-"}, "minmax": {"axis": "ion"}}


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
        missing = [p for p in STEP_REQUIRED.get(name, ()) if p not in params]
        if missing:
            example = ", ".join(f"{p}: {STEP_EXAMPLES[name][p]}" for p in missing)
            raise SimsflowError(
                f"scaling method '{name}' needs {', '.join(missing)}",
                hint=f"e.g. {{method: {name}, {example}}}",
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


# the mass_list of a study whose list is proposed by a peak search in the run (the default)
