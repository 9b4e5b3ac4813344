"""model.json: a trained classifier as plain JSON (never pickle).

It holds the classes, the features (ion names), every scaling step with its parameters and
learned state, the logistic regression's coefficients and intercepts, what the composition
estimate and the "unexplained" flag need, package versions and a hash of the configuration. JSON
floats round-trip exactly, so a reloaded model gives identical probabilities. A file is validated
against ``simsflow/data/model.schema.json`` before use.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from ..errors import InputFileError, SimsflowError
from ..scaling import make_scaler
from .atomic import atomic_write_text

FORMAT = "simsflow-model"
VERSION = 1


def _plain(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _state(estimator) -> dict:
    return {
        k: _plain(v)
        for k, v in sorted(vars(estimator).items())
        if k.endswith("_") and not k.startswith("_") and k != "n_iter_"
    }


def _restore(estimator, state: dict) -> None:
    for key, value in state.items():
        if key == "feature_names_in_" or key == "classes_":
            value = np.asarray(value, dtype=object)
        elif isinstance(value, list):
            value = np.asarray(value, dtype=float)
        setattr(estimator, key, value)


def model_document(model: Pipeline, scaling: list[dict], features: list[str], extra: dict) -> dict:
    steps = model.steps[:-1]
    if len(steps) != len(scaling):
        raise SimsflowError("the model's steps do not match its scaling configuration")
    lr = model.steps[-1][1]
    return {
        "format": FORMAT,
        "version": VERSION,
        "classes": [str(c) for c in lr.classes_],
        "features": list(features),
        "scaling": [
            {"config": dict(cfg), "state": _state(est)}
            for cfg, (_, est) in zip(scaling, steps, strict=True)
        ],
        "classifier": {
            "params": {"C": float(lr.C), "max_iter": int(lr.max_iter)},
            "state": _state(lr),
        },
        **extra,
    }


def write_model(path: str | Path, document: dict) -> None:
    atomic_write_text(path, json.dumps(document, indent=1, sort_keys=True) + "\n")


def _schema() -> dict:
    text = resources.files("simsflow").joinpath("data/model.schema.json").read_text("utf-8")
    return json.loads(text)


def read_model(path: str | Path) -> dict:
    """Load and validate a model document (no code is executed, nothing is unpickled)."""
    source = str(path)
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise InputFileError(f"cannot read the model: {err}", file=source) from None
    except json.JSONDecodeError as err:
        raise InputFileError(f"not JSON: {err.msg}", file=source, line=err.lineno) from None
    errors = sorted(
        jsonschema.Draft202012Validator(_schema()).iter_errors(document),
        key=lambda e: list(map(str, e.absolute_path)),
    )
    if errors:
        where = ".".join(map(str, errors[0].absolute_path)) or None
        raise InputFileError(
            f"not a valid simsflow model: {errors[0].message}",
            file=source,
            column=where,
            hint="train it again with this version of simsflow",
        )
    return document


def pipeline_from_document(document: dict) -> Pipeline:
    scaling = [step["config"] for step in document["scaling"]]
    scaler = make_scaler(scaling)
    for (_, est), step in zip(scaler.steps, document["scaling"], strict=True):
        _restore(est, step["state"])
    lr = LogisticRegression(**document["classifier"]["params"])
    _restore(lr, document["classifier"]["state"])
    return Pipeline([*scaler.steps, ("lr", lr)])


def check_features(document: dict, columns) -> None:
    """Refuse a peak table whose ions are not the model's."""
    features = [f for f in document["features"] if f != "total_counts"]
    available = set(columns)
    missing = [f for f in features if f not in available]
    if missing:
        raise SimsflowError(
            f"the model needs ion(s) missing from the peak table: {', '.join(missing[:8])}",
            hint="the mass list changed since the model was trained; train it again",
        )
