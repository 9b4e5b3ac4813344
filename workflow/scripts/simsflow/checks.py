"""Loading and checking the studies at every Snakemake start (``workflow/rules/common.smk``
calls ``load_studies`` and ``check_studies`` and turns a SimsflowError into one line), and the
checks the library calls repeat. No scikit-learn here: it takes about a second to import, and a
dry run or a rerun of one figure should not pay it (a test keeps it out)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .config import load_schema, read_sample_sheet, validate_config
from .errors import SimsflowError
from .io.masslist import read_mass_list

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
    "none": (),
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


def demo_dir(study: str) -> str:
    """Where a simulated study's data are written."""
    return f"data/demo/{study}"


def load_studies(config: dict, schemas: Path, configfiles: list[str]):
    """The validated config (defaults filled in), every study's sample sheet and mass list."""
    cfg = validate_config(config, load_schema(schemas / "config.schema.yaml"), configfiles)
    sheet_schema = load_schema(schemas / "samples.schema.yaml")
    mass_schema = load_schema(schemas / "mass_list.schema.yaml")
    sheets, mass_lists = {}, {}
    for study, settings in cfg["studies"].items():
        if settings.get("peak_table") is not None:
            from .io.peaktable import load_peak_table_study, study_sheet

            table = load_peak_table_study(settings, schemas)
            sheets[study] = study_sheet(table, settings["peak_table"])
            mass_lists[study] = table.mass_list
            continue
        simulated = "simulate" in settings
        if simulated and settings["data_dir"] != demo_dir(study):
            raise SimsflowError(
                f"a simulated study's data_dir must be {demo_dir(study)}",
                file=configfiles[-1],
                column=f"studies.{study}.data_dir",
            )
        sheets[study] = read_sample_sheet(
            settings["sample_sheet"],
            sheet_schema,
            data_dir=settings["data_dir"],
            default_polarity=settings["polarity"],
            files_may_be_missing=simulated,
        )
        window = settings["mass_window"]
        mass_lists[study] = read_mass_list(
            settings["mass_list"],
            mass_schema,
            window_ppm=window.get("ppm"),
            window_da=window.get("da"),
        )
    return cfg, sheets, mass_lists


@dataclass(frozen=True)
class Batch:
    """A sheet batch: its spectrum samples run their spectrum stages in one job."""

    study: str
    rule: str  # the job's rule name (and its log's): spectra_batch_{study}_{key}
    key: str  # names the batch's folder of results: results/{study}/batches/{key}/
    samples: list[str]  # in sheet order


@dataclass(frozen=True)
class Studies:
    """What the rules need to know of the loaded studies, computed once per Snakemake start."""

    rows_by_sample: dict[str, dict[str, pd.DataFrame]]  # study -> sample -> its sheet rows
    spectrum_samples: list[str]
    image_samples: list[str]
    batches: list[Batch]

    @property
    def batched_samples(self) -> set[str]:
        """Spectrum samples (of any study) whose spectrum stages run in a batch job."""
        return {s for b in self.batches for s in b.samples}

    def batch_keys(self, study: str) -> dict[str, str]:
        """Each batched spectrum sample of ``study`` -> the key of its batch."""
        return {s: b.key for b in self.batches if b.study == study for s in b.samples}


def check_studies(
    config: dict, sheets: dict[str, pd.DataFrame], mass_lists: dict, config_file: str
) -> Studies:
    """Every cross-check of config, sheets and mass lists that must hold before any job runs;
    the first problem raises SimsflowError naming its file, line or column."""
    rows = {s: dict(tuple(sheets[s].groupby("sample", sort=False))) for s in config["studies"]}
    kinds = {}
    for kind in ("spectrum", "image"):
        names = [set(sheet.loc[sheet["kind"] == kind, "sample"]) for sheet in sheets.values()]
        kinds[kind] = sorted(set().union(*names))
    both = set(kinds["spectrum"]) & set(kinds["image"])
    if both:
        raise SimsflowError(
            f"sample name(s) {', '.join(sorted(both))} are spectra in one study and images in "
            "another; give them distinct names"
        )
    _check_batches(config, rows, set(kinds["spectrum"]))
    studies = Studies(rows, kinds["spectrum"], kinds["image"], spectrum_batches(sheets))
    for study, settings in sorted(config["studies"].items()):
        _check_analysis(study, settings, mass_lists[study], list(rows[study]), config_file)
    for study, settings in sorted(config["studies"].items()):
        if settings["classification"] is not None:
            _check_classification(study, settings, sheets[study], config_file)
    for study, settings in sorted(config["studies"].items()):
        if settings.get("pca") is not None:
            _check_pca(study, settings["pca"], sheets[study], mass_lists[study], config_file)
    for study, settings in sorted(config["studies"].items()):
        if settings["degradation"] is not None:
            _check_degradation(study, settings, mass_lists[study], list(rows[study]), config_file)
    for study, settings in sorted(config["studies"].items()):
        if (sheets[study]["kind"] == "image").any():
            _check_imaging(study, settings["imaging"], mass_lists[study], config_file)
    return studies


def spectrum_batches(sheets: dict[str, pd.DataFrame]) -> list[Batch]:
    """Every batch of spectrum samples, study by study (sorted), batches in sheet order.

    A batch is free text; its rule name keeps letters, digits and '_' (others become '_'),
    made unique with a number where two batches would otherwise share one; its key is the
    rule name without ``spectra_batch_{study}_``.
    """
    batches, names = [], set()
    for study in sorted(sheets):
        sheet = sheets[study]
        rows = sheet[(sheet["kind"] == "spectrum") & (sheet["batch"] != "")]
        prefix = re.sub(r"\W", "_", f"spectra_batch_{study}_")
        for batch, group in rows.groupby("batch", sort=False):
            name = prefix + re.sub(r"\W", "_", batch)
            unique, k = name, 1
            while unique in names:
                k += 1
                unique = f"{name}_{k}"
            names.add(unique)
            samples = list(dict.fromkeys(group["sample"]))
            batches.append(Batch(study, unique, unique[len(prefix) :], samples))
    return batches


def _check_batches(config: dict, rows: dict[str, dict[str, pd.DataFrame]], spectra: set[str]):
    """A sample's rows must share one batch, and a spectrum sample name is batched in every
    study or none (the per-sample rules' wildcard constraint is by name)."""
    batched, single = set(), set()
    for study in sorted(config["studies"]):
        for sample, group in rows[study].items():
            if sample not in spectra:
                continue
            values = group["batch"].unique()
            if len(values) > 1:
                line = int(group.loc[group["batch"] != values[0], "sheet_line"].iloc[0])
                raise SimsflowError(
                    f"sample '{sample}' is in batches {', '.join(repr(v) for v in values)} "
                    "(all rows of a sample need one batch)",
                    file=config["studies"][study]["sample_sheet"],
                    line=line,
                    column="batch",
                )
            (batched if values[0] else single).add(sample)
    if batched & single:
        raise SimsflowError(
            f"sample name(s) {', '.join(sorted(batched & single))} are batched in one study and "
            "not in another; give them distinct names or a batch in both"
        )


def _first_problem(problems: list[tuple[str, str]], config_file: str) -> None:
    if problems:
        column, message = problems[0]
        raise SimsflowError(message, file=config_file, column=column)


def _check_analysis(study, settings, mass_list, samples, config_file) -> None:
    """Scaling chains, reference sample and important ions."""
    from .stats import important_ions

    scaling = settings["scaling"]
    ions = mass_list["ion"].tolist()
    where = f"studies.{study}.scaling"
    try:
        for name, steps in scaling["methods"].items():
            check_scaling_steps(steps)
            for step in steps:
                if step.get("ion") is not None and step["ion"] not in ions:
                    raise SimsflowError(
                        f"reference ion '{step['ion']}' is not in the mass list",
                        column=f"{where}.methods.{name}",
                    )
        reference = scaling["reference_sample"]
        if reference is not None and reference not in samples:
            raise SimsflowError(
                f"reference sample '{reference}' is not in the sample sheet",
                column=f"{where}.reference_sample",
            )
        groups = dict(zip(mass_list["ion"], mass_list["group"], strict=True))
        important_ions(ions, groups, scaling["important_ions"], scaling["important_groups"])
    except SimsflowError as err:
        if err.file is not None:
            raise
        raise SimsflowError(
            err.message, file=config_file, column=err.column or where, hint=err.hint
        ) from None


def _check_classification(study, settings, sheet, config_file) -> None:
    """Compared scalings, classes and samples of the decision boundaries exist."""
    c = settings["classification"]
    where = f"studies.{study}.classification"
    labels = set(sheet.loc[sheet["role"] == "train", "label"])
    predicted = set(sheet.loc[sheet["role"] == "predict", "sample"])
    methods = settings["scaling"]["methods"]
    problems = []
    for name in c["compare"] or []:
        if name not in methods:
            problems.append((f"{where}.compare", f"'{name}' is not under scaling.methods"))
    for i, pair in enumerate(c["decision_boundaries"]):
        for key in ("class", "versus"):
            if pair[key] not in labels:
                problems.append(
                    (
                        f"{where}.decision_boundaries.{i}.{key}",
                        f"'{pair[key]}' is not a label of a train row",
                    )
                )
        if pair["mixture"] not in predicted:
            problems.append(
                (
                    f"{where}.decision_boundaries.{i}.mixture",
                    f"'{pair['mixture']}' is not a sample with role predict",
                )
            )
    try:
        if c["scaling"] != "auto":
            check_scaling_steps(c["scaling"])
    except SimsflowError as err:
        problems.append((f"{where}.scaling", err.message))
    if not labels:
        problems.insert(
            0,
            (
                where,
                "no rows with role train: the model needs labelled reference spectra "
                "(a predict-only study cannot train one)",
            ),
        )
    else:
        try:
            check_classes(sheet.loc[sheet["role"] == "train", "label"].to_numpy(), c["folds"])
        except SimsflowError as err:
            raise SimsflowError(
                err.message, file=settings["sample_sheet"], column=err.column, hint=err.hint
            ) from None
    _first_problem(problems, config_file)


def _check_pca(study, pca, sheet, mass_list, config_file) -> None:
    """The PCA report's colour column is in the sheet, its pairs within its components and
    its scaling chain valid."""
    where = f"studies.{study}.pca"
    problems = []
    hidden = {"path", "sheet_line"}
    if pca["colour_by"] not in sheet.columns or pca["colour_by"] in hidden:
        problems.append((f"{where}.colour_by", f"'{pca['colour_by']}' is not a sheet column"))
    for pair in pca["pairs"]:
        for pc in pair:
            if int(pc[2:]) > pca["components"] or int(pc[2:]) < 1:
                problems.append((f"{where}.pairs", f"{pc} beyond {pca['components']} components"))
    try:
        check_scaling_steps(pca["scaling"])
        for step in pca["scaling"]:
            if step.get("ion") is not None and step["ion"] not in set(mass_list["ion"]):
                raise SimsflowError(f"reference ion '{step['ion']}' is not in the mass list")
    except SimsflowError as err:
        problems.append((f"{where}.scaling", err.message))
    _first_problem(problems, config_file)


def _check_degradation(study, settings, mass_list, samples, config_file) -> None:
    """Anchor samples, pathway groups, score pairs, scaling and rate test."""
    from .io.ratetest import read_rate_test

    d = settings["degradation"]
    where = f"studies.{study}.degradation"
    groups = set(mass_list["group"])
    problems = []
    for key in ("uncycled", "uncoated"):
        if d[key] not in samples:
            problems.append((f"{where}.{key}", f"'{d[key]}' is not a sample of the sheet"))
    for group in [*d["pathways"], *d["exclude_groups"]]:
        if group not in groups:
            problems.append((f"{where}.pathways", f"'{group}' is not a mass-list group"))
    for pair in d["score_pairs"]:
        for pc in pair:
            if int(pc[2:]) > d["components"]:
                problems.append(
                    (f"{where}.score_pairs", f"{pc} beyond {d['components']} components")
                )
    try:
        check_scaling_steps(d["scaling"])
    except SimsflowError as err:
        raise SimsflowError(
            err.message, file=config_file, column=f"{where}.scaling", hint=err.hint
        ) from None
    if d["rate_test"] is not None:
        rates = read_rate_test(d["rate_test"])
        if d["uncoated"] not in set(rates["sample"]):
            problems.append(
                (f"{where}.rate_test", f"{d['rate_test']} has no row for '{d['uncoated']}'")
            )
    _first_problem(problems, config_file)


def _check_imaging(study, imaging, mass_list, config_file) -> None:
    """Every ion the image figures name is in the mass list."""
    ions = set(mass_list["ion"])
    named = [imaging["denominator"]] if imaging["denominator"] != "total" else []
    named += imaging["maps"] + [i for g in imaging["products"] for i in g]
    named += [i for pair in imaging["overlays"] for i in pair]
    unknown = [i for i in named if i not in ions]
    if unknown:
        raise SimsflowError(
            f"ion(s) {', '.join(unknown)} are not in the mass list",
            file=config_file,
            column=f"studies.{study}.imaging",
        )
