"""A trained classifier as a plain document and back (never pickle).

The document holds the classes, the features (ion names), every scaling step with its
parameters and learned state, the logistic regression's coefficients and intercepts, what the
composition estimate and the "unexplained" flag need, package versions and a hash of the
configuration. JSON floats round-trip exactly, so a reloaded model gives identical
probabilities. Reading and writing the file (and its schema check) is ``simsflow.io.model``.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from .errors import SimsflowError
from .estimators import make_scaler

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
    """The document of a fitted pipeline (scaling steps, then the logistic regression)."""
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


def pipeline_from_document(document: dict) -> Pipeline:
    """The fitted pipeline a document describes, its learned state restored as saved."""
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
