"""The scaling methods as scikit-learn estimators, and a scaling chain as a scikit-learn
Pipeline, for models and cross-validation (``simsflow.scaling`` holds the methods themselves
and scales tables without scikit-learn, which takes seconds to import)."""

from __future__ import annotations

import functools

from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline

from .scaling import chain_methods


@functools.cache
def estimator_class(method: type) -> type:
    """The scikit-learn estimator of a method: its ``fit`` and ``transform`` with
    scikit-learn's parameters, cloning, tags and output wrapping (made once per method)."""
    namespace = {"__module__": __name__, "__doc__": method.__doc__}
    return type(method.__name__, (TransformerMixin, BaseEstimator, method), namespace)


def make_scaler(steps: list[dict]) -> Pipeline:
    """A scikit-learn Pipeline from config steps such as [{method: total_ion}, {method:
    max_relative}] (for models and cross-validation; imports scikit-learn)."""
    return Pipeline(
        [
            (f"{i}_{name}", estimator_class(cls)(**params))
            for i, (name, cls, params) in enumerate(chain_methods(steps))
        ]
    )
