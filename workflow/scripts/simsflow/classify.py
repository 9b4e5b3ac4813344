"""Identification of lithium compounds by logistic regression (after Zhao et al., ACS AMI 2023).

A Pipeline of the study's scaling (default total ion count, then Min-Max per ion) and a
multinomial LogisticRegression is trained on the spectra with role ``train`` and their label,
and assessed by stratified K-fold cross-validation (optionally with a nested search of the
regularization strength C). Every scaling the study lists is cross-validated the same way, so the
choice of scaling is shown, not assumed.

Spots of one sample are far more alike than samples of one class, so a split that puts spots of
one sample on both sides measures spot reproducibility, not how a new sample is recognised. Every
split (outer folds, inner C search, scaling comparison, out-of-fold flags) therefore comes from
one function, ``cv_splits``, and keeps each group (the ``group_column``, else the sample when
every class has several samples) on one side.

Beyond the paper, because the probabilities of a classifier are not a composition and a model
trained on five compounds answers confidently for a sixth:
- composition: non-negative least squares of a spectrum on the per-class mean training spectra
  (same scaling; fractions >= 0 summing to 1), with a bootstrap interval over training spectra;
- an "unexplained" flag: a spectrum whose unmixing residual, whose distance from every mixture of
  the classes (in units of their spread) or whose share of counts outside the mass list exceeds
  the 99th percentile of the training spectra's own values (residuals and distances taken
  out-of-fold) is flagged. Mixtures of the training compounds are therefore not flagged, a
  compound absent from training is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import nnls
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    log_loss,
    make_scorer,
)
from sklearn.model_selection import (
    GridSearchCV,
    LeaveOneGroupOut,
    StratifiedGroupKFold,
    StratifiedKFold,
)
from sklearn.pipeline import Pipeline

from .checks import check_classes, classes_in_one_group
from .errors import SimsflowError
from .estimators import make_scaler
from .provenance import package_versions
from .scaling import TOTAL, ion_frame

DEFAULT_SCALING = [{"method": "total_ion"}, {"method": "minmax", "axis": "ion"}]
FLAG_PERCENTILE = 99.0
# the packages whose versions model.json records
MODEL_PACKAGES = ("simsflow", "numpy", "pandas", "scikit-learn", "scipy")


@dataclass(frozen=True)
class ClassifierSettings:
    """A study's classification settings (scaling or auto, folds, groups, C, seed...)."""

    scaling: tuple | str = tuple(DEFAULT_SCALING)  # or "auto" (simsflow.autoscale)
    metric: str = "accuracy"  # what "auto" ranks the chains by
    candidates: tuple[str, ...] = ()  # the chains "auto" compares (empty: all)
    folds: int = 5
    group_column: str | None = None
    C: float = 1.0
    C_grid: tuple[float, ...] = ()
    max_iter: int = 5000
    seed: int = 1
    top_k: int = 5
    n_bootstrap: int = 200


def build_pipeline(scaling, C: float = 1.0, max_iter: int = 5000) -> Pipeline:
    """The scaling chain followed by a multinomial logistic regression."""
    scaler = make_scaler(list(scaling))
    return Pipeline([*scaler.steps, ("lr", LogisticRegression(C=C, max_iter=max_iter))])


def _estimator(settings: ClassifierSettings, scaling, y, groups, inner_folds: int):
    """The pipeline, or a grid search of C over grouped inner folds of (y, groups).

    Returns (estimator, note): note says why the search did not run (too few spectra or groups
    of a class for the inner folds) and the default C is used; never a choice among NaN scores.
    """
    pipe = build_pipeline(scaling, settings.C, settings.max_iter)
    if not settings.C_grid:
        return pipe, ""
    try:
        inner = cv_splits(y, groups, inner_folds, settings.seed)
    except SimsflowError as err:
        return pipe, f"C search not run ({err.message}); default C = {settings.C:g}"
    # labels fixed, so a test fold holding one class (one group left out) still scores
    scorer = make_scorer(
        log_loss, greater_is_better=False, response_method="predict_proba", labels=np.unique(y)
    )
    search = GridSearchCV(
        pipe, {"lr__C": list(settings.C_grid)}, cv=inner, scoring=scorer, error_score="raise"
    )
    return search, ""


def training_data(peaks: pd.DataFrame, ions: list[str], scaling) -> tuple[pd.DataFrame, np.ndarray]:
    """The train rows' ion columns (scaled input) and labels; an error when there are none."""
    train = peaks[peaks["role"] == "train"] if "role" in peaks else peaks.iloc[0:0]
    if train.empty:
        raise SimsflowError("no rows with role 'train' in the sample sheet", column="role")
    return ion_frame(train, ions, scaling), train["label"].astype(str).to_numpy()


def cv_splits(y, groups, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train/test index pairs of a stratified K-fold split, grouped when ``groups`` is given.

    Without groups: StratifiedKFold. With groups no group value is ever on both sides:
    StratifiedGroupKFold when there are at least ``folds`` groups and it keeps every class in
    every training fold, else LeaveOneGroupOut. Raises SimsflowError when no such split exists
    (a class with fewer spectra than folds, or a class in a single group).
    """
    y = np.asarray(y)
    classes, counts = np.unique(y, return_counts=True)
    if folds < 2 or classes.size < 2:
        raise SimsflowError(f"{folds} fold(s) of {classes.size} class(es) cannot be split")
    if groups is None:
        small = [f"'{c}' ({n})" for c, n in zip(classes, counts, strict=True) if n < folds]
        if small:
            raise SimsflowError(
                f"class(es) {', '.join(small)} have fewer spectra than the {folds} folds"
            )
        splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
        return list(splitter.split(np.zeros(len(y)), y))
    groups = np.asarray(groups).astype(str)
    single = [f"'{c}'" for c in classes_in_one_group(y, groups)]
    if single:
        raise SimsflowError(
            f"class(es) {', '.join(single)} are in one group only, so a fold that holds the "
            "group out has no training spectrum of the class"
        )
    if np.unique(groups).size >= folds:
        splitter = StratifiedGroupKFold(folds, shuffle=True, random_state=seed)
        splits = list(splitter.split(np.zeros(len(y)), y, groups))
        if all(np.unique(y[train]).size == classes.size for train, _ in splits):
            return splits
    return list(LeaveOneGroupOut().split(np.zeros(len(y)), y, groups))


def cv_groups(rows: pd.DataFrame, y: np.ndarray, group_column: str | None):
    """The CV groups of the training rows and a sentence saying what the CV measures.

    ``group_column`` if given; else the sample when every class has several samples (spots of
    one sample must not be on both sides of a split); else none.
    """
    if group_column:
        if group_column not in rows:
            raise SimsflowError(
                f"group column '{group_column}' is not in the sample sheet", column=group_column
            )
        groups = rows[group_column].astype(str).to_numpy()
        return groups, f"grouped by '{group_column}': no value of it is in training and test"
    samples = rows["sample"].astype(str).to_numpy()
    per_class = pd.Series(samples).groupby(y).nunique()
    if (per_class >= 2).all():
        return samples, (
            "grouped by 'sample' (default, every class has several samples): the accuracy of "
            "recognising samples not used in training"
        )
    single = ", ".join(f"'{c}'" for c in per_class.index[per_class < 2])
    return None, (
        f"not grouped: class(es) {single} have a single sample, so spots of one sample are in "
        "training and test and CV measures spot-to-spot reproducibility, not how a new sample is "
        "recognised (measure several samples per class)"
    )


def balanced_accuracy(y_true, pred) -> float:
    """The mean recall of the classes in ``y_true`` (scikit-learn's balanced accuracy, also
    on a grouped test fold that holds a single class, where scikit-learn warns)."""
    y_true, pred = np.asarray(y_true), np.asarray(pred)
    return float(np.mean([np.mean(pred[y_true == c] == c) for c in np.unique(y_true)]))


def _metrics(y_true, proba, classes) -> dict:
    pred = classes[np.argmax(proba, axis=1)]
    # a grouped test fold may hold a few classes: F1 averages those it holds or predicts
    seen = np.union1d(y_true, pred)
    return {
        "accuracy": accuracy_score(y_true, pred),
        "balanced_accuracy": balanced_accuracy(y_true, pred),
        "macro_f1": f1_score(y_true, pred, average="macro", labels=seen, zero_division=0),
        "log_loss": log_loss(y_true, proba, labels=classes),
    }


def cross_validate_model(X, y, splits, settings: ClassifierSettings, scaling, groups=None):
    """Out-of-fold probabilities and a table of per-fold and overall metrics.

    The inner search of C (if any) splits each training fold by the same ``groups``.
    """
    classes = np.unique(y)
    oof = np.zeros((len(y), classes.size))
    rows = []
    inner_folds = max(2, min(settings.folds - 1, 3))
    for fold, (train, test) in enumerate(splits, start=1):
        inner_groups = None if groups is None else groups[train]
        model, note = _estimator(settings, scaling, y[train], inner_groups, inner_folds)
        model.fit(X.iloc[train], y[train])
        proba = model.predict_proba(X.iloc[test])
        oof[test] = proba
        row = {"fold": str(fold), "n_test": len(test), **_metrics(y[test], proba, classes)}
        if settings.C_grid:
            row["C"] = model.best_params_["lr__C"] if not note else settings.C
            row["C_search"] = note or "ran"
        rows.append(row)
    overall = {"fold": "overall", "n_test": len(y), **_metrics(y, oof, classes)}
    return oof, pd.DataFrame([*rows, overall])


def fit_final(X, y, settings: ClassifierSettings, scaling, groups=None):
    """The model on every training spectrum: (pipeline, C, note of the C search)."""
    model, note = _estimator(settings, scaling, y, groups, max(2, min(settings.folds, 3)))
    model.fit(X, y)
    if settings.C_grid and not note:
        return model.best_estimator_, float(model.best_params_["lr__C"]), "ran"
    return model, settings.C, note


def confusion_table(y, oof, classes) -> pd.DataFrame:
    """Out-of-fold confusion matrix: true class (rows) against predicted (columns)."""
    pred = classes[np.argmax(oof, axis=1)]
    matrix = confusion_matrix(y, pred, labels=classes)
    return pd.DataFrame(matrix, index=pd.Index(classes, name="true"), columns=classes)


def scaled_features(model: Pipeline, X: pd.DataFrame) -> pd.DataFrame:
    """X through every step of the model but the classifier."""
    return model[:-1].transform(X)


def characteristic_ions(model: Pipeline, X: pd.DataFrame, y, top_k: int) -> pd.DataFrame:
    """Per class, the ions with the largest positive coefficients and their mean scaled value."""
    lr = model[-1]
    scaled = scaled_features(model, X)
    # with two classes scikit-learn keeps one row, the second class's; the first's is its negative
    coefs = lr.coef_ if len(lr.classes_) > 2 else np.vstack([-lr.coef_[0], lr.coef_[0]])
    rows = []
    for k, cls in enumerate(lr.classes_):
        coef = coefs[k]
        order = np.argsort(-coef, kind="stable")[:top_k]
        for rank, j in enumerate(order, start=1):
            if coef[j] <= 0:
                break
            rows.append(
                {
                    "class": cls,
                    "rank": rank,
                    "ion": scaled.columns[j],
                    "coefficient": coef[j],
                    "mean_scaled_intensity": scaled.loc[y == cls].iloc[:, j].mean(),
                }
            )
    columns = ["class", "rank", "ion", "coefficient", "mean_scaled_intensity"]
    return pd.DataFrame(rows, columns=columns)  # the header even when no ion is characteristic


# --- composition and the "unexplained" flag ---------------------------------------------------


def unmix(x: np.ndarray, means: np.ndarray) -> tuple[np.ndarray, float]:
    """Fractions f >= 0, sum 1, minimizing ||means.T f - x||; and the RMS residual."""
    weight = 100.0 * max(float(np.abs(means).max()), 1.0)
    a = np.vstack([means.T, np.full((1, means.shape[0]), weight)])
    b = np.concatenate([x, [weight]])
    f, _ = nnls(a, b, maxiter=50 * a.shape[1])
    total = f.sum()
    f = f / total if total > 0 else np.full_like(f, 1.0 / f.size)
    residual = float(np.sqrt(np.mean((means.T @ f - x) ** 2)))
    return f, residual


def class_summary(scaled: np.ndarray, y: np.ndarray, classes) -> tuple[np.ndarray, np.ndarray]:
    """Per-class mean spectra and per-ion spreads (floored so no ion divides by zero)."""
    means = np.vstack([scaled[y == c].mean(axis=0) for c in classes])
    spread = np.vstack([scaled[y == c].std(axis=0) for c in classes])
    floor = 0.05 * scaled.std(axis=0).mean() + 1e-9
    return means, np.maximum(spread, floor)


def mixture_distance(x: np.ndarray, means: np.ndarray, spread: np.ndarray) -> float:
    """Distance of a spectrum from every mixture of the classes, in units of their spread.

    The RMS over ions of (x - best non-negative mixture of class means) / pooled within-class
    standard deviation: near 1 for a spectrum like the training ones, or a mixture of them;
    large for a spectrum no mixture of the classes explains.
    """
    f, _ = unmix(x, means)
    pooled = np.sqrt(np.mean(spread**2, axis=0))
    return float(np.sqrt(np.mean(((x - means.T @ f) / pooled) ** 2)))


def unexplained_fraction(peaks: pd.DataFrame, ions: list[str]) -> np.ndarray:
    """Share of a spectrum's counts outside the mass-list intervals."""
    total = peaks[TOTAL].to_numpy(dtype=float)
    inside = peaks[ions].to_numpy(dtype=float).sum(axis=1)
    return 1.0 - inside / np.where(total > 0, total, np.nan)


def oof_criteria(X, y, splits, settings: ClassifierSettings, scaling) -> pd.DataFrame:
    """Residual and distance of each training spectrum, computed in the fold it was held out."""
    classes = np.unique(y)
    residual = np.zeros(len(y))
    distance = np.zeros(len(y))
    for train, test in splits:
        scaler = make_scaler(list(scaling)).fit(X.iloc[train])
        s_train = scaler.transform(X.iloc[train]).to_numpy()
        s_test = scaler.transform(X.iloc[test]).to_numpy()
        means, spread = class_summary(s_train, y[train], classes)
        for i, row in zip(test, s_test, strict=True):
            residual[i] = unmix(row, means)[1]
            distance[i] = mixture_distance(row, means, spread)
    return pd.DataFrame({"residual": residual, "distance": distance})


def flag_thresholds(criteria: pd.DataFrame, unexplained: np.ndarray) -> dict[str, float]:
    """The 99th percentiles of the training spectra's own criteria: above them, unexplained."""
    return {
        "residual": float(np.percentile(criteria["residual"], FLAG_PERCENTILE)),
        "distance": float(np.percentile(criteria["distance"], FLAG_PERCENTILE)),
        "unexplained_fraction": float(np.percentile(unexplained, FLAG_PERCENTILE)),
    }


def flags(values: pd.DataFrame, thresholds: dict[str, float]) -> pd.Series:
    """'' for an explained spectrum, else the criteria it exceeds (e.g. 'residual,distance')."""
    over = pd.DataFrame({k: values[k] > t for k, t in thresholds.items()})
    return over.apply(lambda r: ",".join(k for k, v in r.items() if v), axis=1)


# --- training and prediction, end to end ----------------------------------------------------


def train_study(
    peaks: pd.DataFrame,
    ions: list[str],
    settings: ClassifierSettings,
    compare: dict[str, list[dict]],
    config_hash: str,
) -> dict:
    """Everything the training job writes: CV metrics, comparison, model document, tables."""
    from .model import model_document

    auto = settings.scaling == "auto"
    scaling = [{"method": "none"}] if auto else list(settings.scaling)
    X, y = training_data(peaks, ions, scaling)
    check_classes(y, settings.folds)
    train_rows = peaks[peaks["role"] == "train"].reset_index(drop=True)
    groups, grouping, splits = _study_splits(train_rows, y, settings)
    choice, choice_table = None, pd.DataFrame(columns=["scaling", "steps", "chosen"])
    if auto:
        from .autoscale import auto_scaling

        scaling, choice, choice_table = auto_scaling(
            train_rows, ions, y, splits, settings, cross_validate_model, groups
        )
        X = ion_frame(train_rows, ions, scaling)
    oof, metrics, accuracy_ungrouped = _cross_validate_grouped(
        X, y, splits, groups, grouping, settings, scaling
    )
    comparison = _compare_scalings(train_rows, ions, y, splits, groups, settings, compare)
    model, C, C_search = fit_final(X, y, settings, scaling, groups)
    criteria = oof_criteria(X, y, splits, settings, scaling)
    unexplained = unexplained_fraction(train_rows, ions)
    thresholds = flag_thresholds(criteria, unexplained)
    cv = {
        "folds": len(splits),
        "folds_requested": settings.folds,
        "seed": settings.seed,
        "grouping": grouping,
        "group_column": None if groups is None else settings.group_column or "sample",
        "n_groups": None if groups is None else int(np.unique(groups).size),
        "accuracy": float(metrics.loc[metrics["fold"] == "overall", "accuracy"].iloc[0]),
        "accuracy_ungrouped": accuracy_ungrouped,
        "C": C,
        "C_search": C_search or "none (no C_grid)",
        "C_search_folds": metrics["C_search"].dropna().tolist()[: len(splits)]
        if settings.C_grid
        else [],
    }
    document = model_document(
        model,
        scaling,
        list(X.columns),
        {
            "ions": list(ions),
            "composition": {
                "train_scaled": scaled_features(model, X).to_numpy().tolist(),
                "train_labels": [str(v) for v in y],
                "n_bootstrap": settings.n_bootstrap,
                "seed": settings.seed,
            },
            "thresholds": thresholds,
            "cv": cv,
            "versions": package_versions(MODEL_PACKAGES),
            "config_hash": config_hash,
            **({"scaling_choice": choice} if choice is not None else {}),
        },
    )
    classes = np.unique(y)
    return {
        "metrics": metrics,
        "comparison": comparison,
        "scaling_choice": choice_table,
        "confusion": confusion_table(y, oof, classes),
        "oof": _oof_table(train_rows, y, oof, classes, criteria, unexplained, thresholds),
        "characteristic": characteristic_ions(model, X, y, settings.top_k),
        "document": document,
    }


def _study_splits(train_rows: pd.DataFrame, y: np.ndarray, settings: ClassifierSettings):
    """The CV groups of the training rows, what they make the CV measure, and the splits."""
    groups, grouping = cv_groups(train_rows, y, settings.group_column)
    try:
        splits = cv_splits(y, groups, settings.folds, settings.seed)
    except SimsflowError as err:
        raise SimsflowError(
            f"cross-validation {grouping.split(':')[0]}: {err.message}",
            column=settings.group_column or "sample",
            hint="give each class at least two groups, or set classification.group_column",
        ) from None
    return groups, grouping, splits


def _cross_validate_grouped(X, y, splits, groups, grouping: str, settings, scaling):
    """Out-of-fold probabilities and metrics; when the CV is grouped, also the accuracy a split
    ignoring the groups would give (a row ``overall_ungrouped``), so the leak it hides is seen."""
    oof, metrics = cross_validate_model(X, y, splits, settings, scaling, groups)
    metrics.insert(1, "split", grouping.split(":")[0])
    accuracy_ungrouped = None
    if groups is not None:
        plain = cv_splits(y, None, settings.folds, settings.seed)
        _, m = cross_validate_model(X, y, plain, settings, scaling)
        leak = m.iloc[[-1]].assign(fold="overall_ungrouped", split="not grouped, for comparison")
        metrics = pd.concat([metrics, leak], ignore_index=True)
        accuracy_ungrouped = float(leak["accuracy"].iloc[0])
    return oof, metrics, accuracy_ungrouped


def _compare_scalings(train_rows, ions, y, splits, groups, settings, compare) -> pd.DataFrame:
    """The same CV (same splits and groups) for every scaling chain named in ``compare``."""
    comparison = []
    for name, steps in sorted(compare.items()):
        Xc = ion_frame(train_rows, ions, steps)
        _, m = cross_validate_model(Xc, y, splits, settings, steps, groups)
        per_fold = m[m["fold"] != "overall"]
        comparison.append(
            {
                "scaling": name,
                "steps": " -> ".join(s["method"] for s in steps),
                "accuracy_mean": per_fold["accuracy"].mean(),
                "accuracy_sd": per_fold["accuracy"].std(ddof=1),
                "balanced_accuracy_mean": per_fold["balanced_accuracy"].mean(),
                "macro_f1_mean": per_fold["macro_f1"].mean(),
                "log_loss_mean": per_fold["log_loss"].mean(),
            }
        )
    return pd.DataFrame(comparison)


def _oof_table(train_rows, y, oof, classes, criteria, unexplained, thresholds) -> pd.DataFrame:
    """Each training spectrum's out-of-fold prediction with the criteria of its flag."""
    table = pd.DataFrame(
        {
            "sample": train_rows["sample"].to_numpy(),
            "spot": train_rows["spot"].to_numpy(),
            "label": y,
            "predicted": classes[np.argmax(oof, axis=1)],
            **{f"p_{c}": oof[:, k] for k, c in enumerate(classes)},
            "residual": criteria["residual"],
            "distance": criteria["distance"],
            "unexplained_fraction": unexplained,
        }
    )
    table["flag"] = flags(table, thresholds).to_numpy()
    return table


def predict_unknowns(document: dict, peaks: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Probabilities, composition and flags of the rows with role predict.

    Returns one table per spectrum and one per sample (mean and sd of each class probability,
    composition with a bootstrap interval, number of unexplained spectra).
    """
    from .model import check_features, pipeline_from_document

    check_features(document, peaks.columns)
    rows = peaks[peaks["role"] == "predict"].reset_index(drop=True)
    classes = document["classes"]
    if rows.empty:
        empty = pd.DataFrame(columns=["sample", "spot", *[f"p_{c}" for c in classes]])
        return empty, empty.drop(columns="spot")
    ions = document["ions"]
    scaling = [s["config"] for s in document["scaling"]]
    model = pipeline_from_document(document)
    X = ion_frame(rows, ions, scaling)
    proba = model.predict_proba(X)
    scaled = model[:-1].transform(X).to_numpy()
    train = np.asarray(document["composition"]["train_scaled"], dtype=float)
    labels = np.asarray(document["composition"]["train_labels"])
    means, spread = class_summary(train, labels, classes)
    fractions, residuals, distances = [], [], []
    for x in scaled:
        f, r = unmix(x, means)
        fractions.append(f)
        residuals.append(r)
        distances.append(mixture_distance(x, means, spread))
    fractions = np.asarray(fractions)
    meta = [c for c in ("category", "remark") if c in rows]
    spectra = pd.DataFrame(
        {
            "sample": rows["sample"],
            "spot": rows["spot"],
            **{c: rows[c] for c in meta},
            **{f"p_{c}": proba[:, k] for k, c in enumerate(classes)},
            **{f"f_{c}": fractions[:, k] for k, c in enumerate(classes)},
            "residual": residuals,
            "distance": distances,
            "unexplained_fraction": unexplained_fraction(rows, ions),
        }
    )
    spectra["flag"] = flags(spectra, document["thresholds"]).to_numpy()
    samples = _per_sample(spectra, scaled, train, labels, classes, meta, document)
    return spectra, samples


def _per_sample(spectra, scaled, train, labels, classes, meta, document) -> pd.DataFrame:
    n_boot = int(document["composition"]["n_bootstrap"])
    rng = np.random.default_rng(int(document["composition"]["seed"]))
    by_class = [np.flatnonzero(labels == c) for c in classes]
    rows = []
    for sample, idx in spectra.groupby("sample", sort=False).indices.items():
        part = spectra.iloc[idx]
        row = {"sample": sample, **{c: part[c].iloc[0] for c in meta}, "n_spectra": len(idx)}
        for c in classes:
            row[f"p_{c}"] = part[f"p_{c}"].mean()
            row[f"sd_{c}"] = part[f"p_{c}"].std(ddof=1) if len(idx) > 1 else 0.0
        means = np.vstack([train[labels == c].mean(axis=0) for c in classes])
        f, _ = unmix(scaled[idx].mean(axis=0), means)
        boot = np.empty((n_boot, len(classes)))
        for b in range(n_boot):
            means_b = np.vstack(
                [train[rng.choice(members, members.size)].mean(axis=0) for members in by_class]
            )
            x_b = scaled[rng.choice(idx, idx.size)].mean(axis=0)
            boot[b] = unmix(x_b, means_b)[0]
        for k, c in enumerate(classes):
            row[f"f_{c}"] = f[k]
            row[f"f_{c}_lo"] = np.percentile(boot[:, k], 2.5) if n_boot else np.nan
            row[f"f_{c}_hi"] = np.percentile(boot[:, k], 97.5) if n_boot else np.nan
        n_flagged = int((part["flag"] != "").sum())
        row["n_unexplained"] = n_flagged
        row["flag"] = "unexplained" if n_flagged * 2 > len(idx) else ""
        rows.append(row)
    return pd.DataFrame(rows)


# --- PCA views of a trained model -------------------------------------------------------------


def pca_views(document: dict, peaks: pd.DataFrame, n_components: int, boundaries: list[dict]):
    """PCA fitted on the training spectra (model scaling), unknowns projected; and per pair of
    classes an LR on PC1-PC2 of the two pure classes with its probability map.

    Returns (scores, variance, loadings, boundary grids) where each boundary grid is a dict with
    the mesh, P(class), and the PC1-PC2 scores of the pure spectra and the mixture.
    """
    from .model import check_features, pipeline_from_document
    from .pca import fit_pca, loadings_table, scores_table, variance_table

    check_features(document, peaks.columns)
    ions = document["ions"]
    scaling = [s["config"] for s in document["scaling"]]
    scaler = pipeline_from_document(document)[:-1]
    rows = peaks[peaks["role"].isin(["train", "predict"])].reset_index(drop=True)
    scaled = scaler.transform(ion_frame(rows, ions, scaling))
    train = (rows["role"] == "train").to_numpy()
    pca = fit_pca(scaled[train], n_components)
    meta = pd.DataFrame(
        {
            "sample": rows["sample"],
            "spot": rows["spot"],
            "set": rows["role"],
            "label": rows["label"].where(train, ""),
            "group": np.where(train, rows["label"], rows["sample"]),
        }
    )
    scores = scores_table(pca, scaled, meta)
    grids = []
    for pair in boundaries:
        a, b, mixture = pair["class"], pair["versus"], pair["mixture"]
        pure = train & rows["label"].isin([a, b]).to_numpy()
        mix = (rows["sample"] == mixture).to_numpy()
        pair_pca = fit_pca(scaled[pure], 2)
        pure_scores = scores_table(pair_pca, scaled[pure], meta[pure])
        mix_scores = scores_table(pair_pca, scaled[mix], meta[mix])
        lr = LogisticRegression(max_iter=5000).fit(
            pure_scores[["PC1", "PC2"]].to_numpy(), (pure_scores["label"] == a).to_numpy()
        )
        both = pd.concat([pure_scores, mix_scores])
        pad = 0.15 * (both[["PC1", "PC2"]].max() - both[["PC1", "PC2"]].min())
        gx, gy = np.meshgrid(
            np.linspace(both["PC1"].min() - pad["PC1"], both["PC1"].max() + pad["PC1"], 200),
            np.linspace(both["PC2"].min() - pad["PC2"], both["PC2"].max() + pad["PC2"], 200),
        )
        proba = lr.predict_proba(np.column_stack([gx.ravel(), gy.ravel()]))[:, 1].reshape(gx.shape)
        grids.append(
            {
                "class": a,
                "versus": b,
                "grid_x": gx,
                "grid_y": gy,
                "proba": proba,
                "train": pure_scores,
                "mixture": mix_scores,
                "variance": variance_table(pair_pca),
                "mixture_p": float(
                    lr.predict_proba(mix_scores[["PC1", "PC2"]].to_numpy())[:, 1].mean()
                )
                if len(mix_scores)
                else np.nan,
            }
        )
    return scores, variance_table(pca), loadings_table(pca, ions), grids
