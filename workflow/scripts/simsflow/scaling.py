"""Scaling of peak areas: the methods, their chains from config, and their check.

ToF-SIMS is semi-quantitative: topography, primary current and matrix effects change absolute
counts, so every comparison rests on a scaling choice (Lombardo et al., JVST A 2023). Each method
here is a transformer: ``fit`` learns per-ion state from the rows it is given only (so inside
cross-validation nothing leaks from test folds), ``transform`` applies it; per-spectrum methods
are stateless. They take and return DataFrames (ion columns; ``total_counts`` where a method needs
it) or arrays. Nothing returns NaN silently: a zero denominator or a value a transform cannot
take is an error naming the spectrum and the ion.

The methods are plain classes, so scaling a table (``scale_table``, the scale jobs) and checking
a chain at every Snakemake start (``check_scaling_steps``) do without scikit-learn, which takes
seconds to import. Where a chain goes into a model, ``simsflow.estimators.make_scaler`` gives it
as a scikit-learn Pipeline of the same methods made estimators.

Methods (config name -> class):
- ``total_ion``: each spectrum divided by its total ion count, over the mass-list ions (basis
  ``ions``, optionally excluding named e.g. saturated ions) or the whole spectrum (``spectrum``);
- ``reference_ion``: divided by one ion (e.g. NiO2- for NCM cathodes);
- ``minmax``: to [0, 1] per ion across spectra (``axis: ion`` - the Li-compound study's "mass
  peaks scaled to 0-1 by their minimum and maximum") or per spectrum (``axis: spectrum``);
  the axis must be given;
- ``max_relative``: each ion divided by its maximum over the fitted spectra (before PCA in the
  cathode study, Hertle et al. 2024);
- ``zscore``: per ion, mean 0 and standard deviation 1;
- ``poisson``: Keenan & Kotula (Surf. Interface Anal. 2004): D / sqrt(g h^T), g the mean of each
  spectrum, h the mean of each ion over the fitted spectra;
- ``sqrt`` and ``log`` (log(x + offset)) transforms;
- ``none``: the areas as they are (the baseline ``scaling: auto`` compares the others with).
An ion that is constant over the fitted spectra maps to 0 under minmax and zscore.
"""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd

from .errors import SimsflowError

TOTAL = "total_counts"


def _split(X):
    """Values, ion names and row labels of a DataFrame or array."""
    if isinstance(X, pd.DataFrame):
        return X.to_numpy(dtype=float), list(map(str, X.columns)), list(map(str, X.index))
    values = np.asarray(X, dtype=float)
    return values, [f"x{i}" for i in range(values.shape[1])], [str(i) for i in range(len(values))]


def _wrap(values, like, columns=None):
    if isinstance(like, pd.DataFrame):
        return pd.DataFrame(values, index=like.index, columns=columns or list(like.columns))
    return values


def _where(mask, rows, columns=None):
    idx = np.argwhere(mask)[0]
    where = f"spectrum '{rows[idx[0]]}'"
    if columns is not None and len(idx) > 1:
        where += f", ion '{columns[idx[1]]}'"
    return where


class _Method:
    """A scaling method: ``fit`` learns from the rows it is given, ``transform`` applies it."""

    def fit(self, X, y=None):
        """Learn what ``transform`` needs from the rows of ``X``; returns the method."""
        raise NotImplementedError

    def fit_transform(self, X, y=None):
        """``X`` scaled by the method fitted on ``X`` itself."""
        return self.fit(X, y).transform(X)


class _Stateless(_Method):
    def fit(self, X, y=None):
        """Nothing to learn but the number (and names) of the columns; returns the method."""
        values, columns, _ = _split(X)
        self.n_features_in_ = values.shape[1]
        if isinstance(X, pd.DataFrame):
            self.feature_names_in_ = np.asarray(columns, dtype=object)
        return self


class TotalIonScaler(_Stateless):
    """Divide each spectrum by its total ion count (over the ions, or the whole spectrum)."""

    def __init__(self, basis="ions", exclude=()):
        self.basis = basis
        self.exclude = exclude

    def transform(self, X):
        """Each spectrum's counts divided by its total (over the ions, or the spectrum's)."""
        if self.basis not in ("ions", "spectrum"):
            raise SimsflowError(f"total_ion basis must be 'ions' or 'spectrum', not {self.basis!r}")
        values, columns, rows = _split(X)
        if self.basis == "spectrum":
            if TOTAL not in columns:
                raise SimsflowError(
                    "total_ion with basis 'spectrum' needs the total_counts column",
                    column=TOTAL,
                )
            t = columns.index(TOTAL)
            total = values[:, t]
            keep = [i for i, c in enumerate(columns) if c != TOTAL]
        else:
            unknown = sorted(set(self.exclude) - set(columns))
            if unknown:
                raise SimsflowError(f"total_ion excludes unknown ion(s) {', '.join(unknown)}")
            keep = [i for i, c in enumerate(columns) if c != TOTAL]
            used = [i for i in keep if columns[i] not in set(self.exclude)]
            total = values[:, used].sum(axis=1)
        bad = ~(total > 0)
        if bad.any():
            raise SimsflowError(
                f"total ion count is {total[bad][0]:g} in {_where(bad, rows)}",
                hint="the spectrum holds no counts of these ions; exclude it from the sheet",
            )
        out = values[:, keep] / total[:, None]
        return _wrap(out, X, [columns[i] for i in keep])


class ReferenceIonScaler(_Stateless):
    """Divide each spectrum by one reference ion's area."""

    def __init__(self, ion=None):
        self.ion = ion

    def transform(self, X):
        """Each spectrum's counts divided by its reference ion's."""
        values, columns, rows = _split(X)
        if self.ion not in columns:
            raise SimsflowError(
                f"reference ion '{self.ion}' is not in the peak table",
                hint="name an ion of the study's mass list",
            )
        ref = values[:, columns.index(self.ion)]
        bad = ~(ref > 0)
        if bad.any():
            # every spectrum named, so one run shows the user all rows to fix or exclude
            others = [rows[i] for i in np.flatnonzero(bad)[1:]]
            more = f" and {len(others) - 10} more" if len(others) > 10 else ""
            also = f" (also in {', '.join(others[:10])}{more})" if others else ""
            raise SimsflowError(
                f"reference ion '{self.ion}' has {ref[bad][0]:g} counts in {_where(bad, rows)}"
                + also,
                hint="choose a reference ion present in every spectrum",
            )
        keep = [i for i, c in enumerate(columns) if c != TOTAL]
        return _wrap(values[:, keep] / ref[:, None], X, [columns[i] for i in keep])


def _fitted_columns(est, X):
    values, columns, rows = _split(X)
    if values.shape[1] != est.n_features_in_:
        raise SimsflowError(
            f"{type(est).__name__} was fitted on {est.n_features_in_} ions, got {values.shape[1]}"
        )
    return values, columns, rows


class MinMaxScaler(_Method):
    """Map to [0, 1] per ion across spectra (axis='ion') or per spectrum (axis='spectrum')."""

    def __init__(self, axis=None):
        self.axis = axis

    def fit(self, X, y=None):
        """Learn each ion's minimum and maximum (axis 'ion'; nothing to learn for 'spectrum')."""
        if self.axis not in ("ion", "spectrum"):
            raise SimsflowError(
                f"minmax needs axis 'ion' or 'spectrum', got {self.axis!r}",
                hint="state the axis in the config: per ion across spectra, or per spectrum",
            )
        values, _columns, _ = _split(X)
        self.n_features_in_ = values.shape[1]
        if self.axis == "ion":
            self.min_ = values.min(axis=0)
            self.max_ = values.max(axis=0)
        return self

    def transform(self, X):
        """Values mapped to 0-1 per ion (learned range) or per spectrum (its own range)."""
        values, _, _ = _fitted_columns(self, X)
        if self.axis == "ion":
            lo, hi = self.min_, self.max_
        else:
            lo, hi = values.min(axis=1, keepdims=True), values.max(axis=1, keepdims=True)
        span = hi - lo
        out = np.divide(values - lo, span, out=np.zeros_like(values), where=span > 0)
        return _wrap(out, X)


class MaxRelativeScaler(_Method):
    """Divide each ion by its maximum over the fitted spectra (an ion never seen maps to 0)."""

    def fit(self, X, y=None):
        """Learn each ion's maximum over the spectra."""
        values, _, _ = _split(X)
        self.n_features_in_ = values.shape[1]
        self.max_ = values.max(axis=0)
        return self

    def transform(self, X):
        """Each ion divided by its learned maximum (0 where that is 0)."""
        values, _, _ = _fitted_columns(self, X)
        out = np.divide(values, self.max_, out=np.zeros_like(values), where=self.max_ > 0)
        return _wrap(out, X)


class ZScoreScaler(_Method):
    """Per ion: subtract the mean and divide by the standard deviation of the fitted spectra."""

    def fit(self, X, y=None):
        """Learn each ion's mean and standard deviation over the spectra."""
        values, _, _ = _split(X)
        self.n_features_in_ = values.shape[1]
        self.mean_ = values.mean(axis=0)
        self.scale_ = values.std(axis=0)
        return self

    def transform(self, X):
        """Each ion centred and divided by its learned standard deviation (0 where constant)."""
        values, _, _ = _fitted_columns(self, X)
        out = np.divide(
            values - self.mean_, self.scale_, out=np.zeros_like(values), where=self.scale_ > 0
        )
        return _wrap(out, X)


class PoissonScaler(_Method):
    """Keenan & Kotula Poisson scaling: D / sqrt(g h^T) (g: spectrum means, h: ion means)."""

    def fit(self, X, y=None):
        """Learn each ion's mean over the spectra."""
        values, _, _ = _split(X)
        self.n_features_in_ = values.shape[1]
        self.ion_mean_ = values.mean(axis=0)
        return self

    def transform(self, X):
        """Counts divided by sqrt(spectrum mean x ion mean): Poisson scaling."""
        values, _columns, rows = _fitted_columns(self, X)
        g = values.mean(axis=1)
        bad = ~(g > 0)
        if bad.any():
            raise SimsflowError(f"mean count is {g[bad][0]:g} in {_where(bad, rows)}")
        denom = np.sqrt(np.outer(g, self.ion_mean_))
        out = np.divide(values, denom, out=np.zeros_like(values), where=denom > 0)
        return _wrap(out, X)


class SqrtTransform(_Stateless):
    """Square root of every value (counts are Poisson: the root stabilizes their variance)."""

    def transform(self, X):
        """The square root of every value (an error naming spectrum and ion for a negative one)."""
        values, columns, rows = _split(X)
        bad = values < 0
        if bad.any():
            raise SimsflowError(
                f"square root of a negative value in {_where(bad, rows, columns)}",
                hint="baseline subtraction can give negative areas; use baseline: none",
            )
        return _wrap(np.sqrt(values), X)


class LogTransform(_Stateless):
    """log(x + offset) of every value."""

    def __init__(self, offset=1.0):
        self.offset = offset

    def transform(self, X):
        """log(value + offset) (an error naming spectrum and ion where that is not positive)."""
        values, columns, rows = _split(X)
        shifted = values + self.offset
        bad = ~(shifted > 0)
        if bad.any():
            raise SimsflowError(
                f"log of a value <= 0 (after adding {self.offset:g}) in "
                f"{_where(bad, rows, columns)}",
                hint="raise the log offset",
            )
        return _wrap(np.log(shifted), X)


class Unscaled(_Stateless):
    """The peak areas unchanged."""

    def transform(self, X):
        """The values as they are."""
        return X


METHODS = {
    "total_ion": TotalIonScaler,
    "reference_ion": ReferenceIonScaler,
    "minmax": MinMaxScaler,
    "max_relative": MaxRelativeScaler,
    "zscore": ZScoreScaler,
    "poisson": PoissonScaler,
    "sqrt": SqrtTransform,
    "log": LogTransform,
    "none": Unscaled,
}


def _parameters(cls) -> dict[str, object]:
    """A method's parameters and their defaults (its ``__init__``'s)."""
    init = cls.__init__
    if init is object.__init__:
        return {}
    return {
        name: p.default
        for name, p in inspect.signature(init).parameters.items()
        if name != "self" and p.kind is p.POSITIONAL_OR_KEYWORD
    }


# each scaling method's parameters (config name -> its class's __init__ parameters), and the
# ones it cannot do without (default None)
STEP_PARAMETERS = {name: tuple(_parameters(cls)) for name, cls in METHODS.items()}
STEP_REQUIRED = {
    name: needed
    for name, cls in METHODS.items()
    if (needed := tuple(p for p, default in _parameters(cls).items() if default is None))
}
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


def chain_methods(steps: list[dict]) -> list[tuple[str, type, dict]]:
    """Each step of a checked chain: its name, its method's class and its parameters."""
    check_scaling_steps(steps)
    built = []
    for step in steps:
        params = dict(step)
        name = params.pop("method")
        built.append((name, METHODS[name], params))
    return built


def fit_transform(X, steps: list[dict]):
    """``X`` scaled by a chain fitted on ``X`` itself: each method fitted on the previous
    one's output, as a Pipeline does, without scikit-learn."""
    for _, cls, params in chain_methods(steps):
        X = cls(**params).fit_transform(X)
    return X


def needs_total_counts(steps: list[dict]) -> bool:
    """Whether a chain divides by the whole spectrum's total (needs total_counts)."""
    return any(s.get("method") == "total_ion" and s.get("basis") == "spectrum" for s in steps)


def ion_frame(peaks: pd.DataFrame, ions: list[str], steps: list[dict]) -> pd.DataFrame:
    """The columns a scaling takes: the ions, plus total_counts when a step needs it."""
    columns = [*ions, TOTAL] if needs_total_counts(steps) else list(ions)
    frame = peaks[columns].astype(float)
    frame.index = (peaks["sample"].astype(str) + "/" + peaks["spot"].astype(str)).to_numpy()
    return frame


def scale_table(peaks: pd.DataFrame, ions: list[str], steps: list[dict]) -> pd.DataFrame:
    """A study's peak table with its ion columns scaled (fitted on all its rows)."""
    frame = ion_frame(peaks, ions, steps)
    scaled = fit_transform(frame, steps)
    meta = peaks.drop(columns=[*ions, TOTAL], errors="ignore").reset_index(drop=True)
    return pd.concat([meta, scaled.reset_index(drop=True)[ions]], axis=1)
