"""Loading and checking the studies at every Snakemake start (``workflow/rules/common.smk``
calls ``load_and_check_studies`` and turns a SimsflowError into one line): config, sample
sheets, mass lists or peak tables, every cross-check that must hold before any job runs, the
batches of the spectrum stages, and the studies left out for a problem of their own. No
scikit-learn here (a test keeps it out)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .checks import check_classes, check_groups
from .config import load_schema, read_sample_sheet, validate_config
from .errors import SimsflowError
from .io.masslist import read_mass_list
from .names import check_names, file_slug, slug_map
from .scaling import check_scaling_steps
from .sheets import assign_batches

AUTO = "auto"


def has_unknowns(sheet: pd.DataFrame) -> bool:
    """Whether a study's sheet has samples to predict (role predict): a classification study
    without them trains and validates its model, and draws no prediction figures."""
    return bool((sheet["role"] == "predict").any())


def demo_dir(study: str) -> str:
    """Where a simulated study's data are written."""
    return f"data/demo/{study}"


def _study_of(err: SimsflowError, studies) -> str | None:
    """The study a config error lies in (its column is ``studies.<name>...``), or None."""
    column = err.column or ""
    for study in studies:
        if column == f"studies.{study}" or column.startswith(f"studies.{study}."):
            return study
    return None


def _validate_studies(config: dict, schema: dict, configfiles: list[str], bad: dict | None):
    """``validate_config``; with ``bad``, a study whose settings are wrong is left out and
    its error recorded there (the rest validated again); StudyError when none is left."""
    studies = dict(config.get("studies") or {}) if isinstance(config, dict) else {}
    while True:
        try:
            return validate_config({**config, "studies": studies}, schema, configfiles)
        except SimsflowError as err:
            study = _study_of(err, studies)
            if bad is None or study is None:
                raise
            bad[study] = err
            del studies[study]
            if not studies:  # nothing left to run: the first problem stops it
                first = sorted(bad)[0]
                raise StudyError(first, bad[first]) from None


def load_studies(config: dict, schemas: Path, configfiles: list[str], bad: dict | None = None):
    """The validated config (defaults filled in), every study's sample sheet and mass list
    (None where it is proposed in the run: ``mass_list: auto``).

    Without ``bad`` the first problem raises SimsflowError; with it, each study with a
    problem is left out of the three results and its SimsflowError put in ``bad``."""
    schema = load_schema(schemas / "config.schema.yaml")
    cfg = _validate_studies(config, schema, configfiles, bad)
    sheet_schema = load_schema(schemas / "samples.schema.yaml")
    mass_schema = load_schema(schemas / "mass_list.schema.yaml")
    sheets, mass_lists = {}, {}
    for study, settings in list(cfg["studies"].items()):
        try:
            sheets[study], mass_lists[study] = _load_study(
                study, settings, sheet_schema, mass_schema, configfiles, schemas
            )
        except SimsflowError as err:
            if bad is None:
                raise
            bad[study] = err
            del cfg["studies"][study]
    return cfg, sheets, mass_lists


def _load_study(study, settings, sheet_schema, mass_schema, configfiles, schemas):
    if settings.get("peak_table") is not None:  # a table of spectra x peaks, no raw files
        from .io.peaktable import load_peak_table_study, study_sheet

        table = load_peak_table_study(settings, schemas)
        return study_sheet(table, settings["peak_table"]), table.mass_list
    simulated = "simulate" in settings
    if simulated and settings["data_dir"] != demo_dir(study):
        raise SimsflowError(
            f"a simulated study's data_dir must be {demo_dir(study)}",
            file=configfiles[-1],
            column=f"studies.{study}.data_dir",
        )
    sheet = read_sample_sheet(
        settings["sample_sheet"],
        sheet_schema,
        data_dir=settings["data_dir"],
        default_polarity=settings["polarity"],
        files_may_be_missing=simulated,
    )
    if settings["mass_list"] == AUTO:
        return sheet, None
    window = settings["mass_window"]
    mass_list = read_mass_list(
        settings["mass_list"],
        mass_schema,
        window_ppm=window.get("ppm"),
        window_da=window.get("da"),
        allow_overlap=settings["integration"]["method"] != "interval",
    )
    return sheet, mass_list


def load_and_check_studies(config: dict, schemas: Path, configfiles: list[str]):
    """What common.smk loads at every start: ``load_studies`` and ``check_studies`` with each
    study that has a problem left out, so that one broken study never blocks another.

    Returns the config, sheets and mass lists of the good studies, their Studies, and
    {study: message} of the bad ones (each message names the study). When every study is bad,
    the first one's problem is raised instead (there is nothing to run)."""
    bad: dict[str, SimsflowError] = {}
    cfg, sheets, mass_lists = load_studies(config, schemas, configfiles, bad)
    studies = check_studies(cfg, sheets, mass_lists, configfiles[-1], bad)
    for study in bad:
        cfg["studies"].pop(study, None)
        sheets.pop(study, None)
        mass_lists.pop(study, None)
    if bad and not cfg["studies"]:
        study = sorted(bad)[0]
        raise StudyError(study, bad[study])
    return cfg, sheets, mass_lists, studies, {s: str(StudyError(s, bad[s])) for s in sorted(bad)}


class StudyError(SimsflowError):
    """A problem of one study's configuration, sheet or mass list, named with the study."""

    def __init__(self, study: str, err: SimsflowError):
        self.study = study  # before the message is made (SimsflowError.__init__)
        super().__init__(
            err.message, file=err.file, line=err.line, column=err.column, hint=err.hint
        )

    def __str__(self) -> str:
        return f"study '{self.study}': {super().__str__()}"


@dataclass(frozen=True)
class Batch:
    """A sheet batch: its spectrum samples run their spectrum stages in one job."""

    study: str
    rule: str  # the job's rule name (and its log's): spectra_batch_{study}_{key}
    key: str  # names the batch's folder of results: results/{study}/batches/{key}/
    samples: list[str]  # in sheet order


class SampleRows(Mapping):
    """A study's sheet rows by sample id, samples in sheet order (of their first rows).

    A sample's frame is taken from the sheet when it is first asked for: the rules ask for few
    (``column`` answers the per-sample params), and splitting a 2,000-row sheet into a frame
    per sample took a tenth of every Snakemake start."""

    def __init__(self, sheet: pd.DataFrame):
        self.sheet = sheet
        self._positions: dict[str, list[int]] = {}
        for k, sample in enumerate(sheet["sample"]):
            self._positions.setdefault(sample, []).append(k)
        self._frames: dict[str, pd.DataFrame] = {}

    def __getitem__(self, sample: str) -> pd.DataFrame:
        if sample not in self._frames:
            self._frames[sample] = self.sheet.iloc[self._positions[sample]]
        return self._frames[sample]

    def __iter__(self):
        return iter(self._positions)

    def __len__(self) -> int:
        return len(self._positions)

    def column(self, name: str) -> dict[str, list]:
        """Each sample -> ``list(self[sample][name])``, in one pass over the sheet."""
        by_sample: dict[str, list] = {sample: [] for sample in self._positions}
        for sample, value in zip(self.sheet["sample"], self.sheet[name], strict=True):
            by_sample[sample].append(value)
        return by_sample


@dataclass(frozen=True)
class Studies:
    """What the rules need to know of the loaded studies, computed once per Snakemake start."""

    rows_by_sample: dict[str, SampleRows]  # study -> sample -> its sheet rows
    spectrum_samples: list[str]  # the slugs (file names) of spectrum samples over the studies
    image_samples: list[str]  # the slugs of image samples
    batches: list[Batch]
    # study -> sample id -> its slug, the sample's name in files and wildcards (the id itself
    # may hold any printable character but '/' and '\\'; simsflow.names)
    slugs: dict[str, dict[str, str]]

    @property
    def batched_samples(self) -> set[str]:
        """Slugs of spectrum samples (of any study) whose spectrum stages run in a batch job."""
        return {self.slugs[b.study][s] for b in self.batches for s in b.samples}

    def batch_keys(self, study: str) -> dict[str, str]:
        """Each batched spectrum sample of ``study`` -> the key of its batch."""
        return {s: b.key for b in self.batches if b.study == study for s in b.samples}


def check_studies(
    config: dict,
    sheets: dict[str, pd.DataFrame],
    mass_lists: dict,
    config_file: str,
    bad: dict | None = None,
) -> Studies:
    """Every cross-check of config, sheets and mass lists that must hold before any job runs;
    the first problem raises SimsflowError naming its file, line or column. With ``bad``, a
    study failing its own checks is put there with its error and left out of the Studies
    (the checks across studies then see the others only)."""

    def good():
        return [s for s in config["studies"] if bad is None or s not in bad]

    # a study whose mass list is proposed in the run has one job per sample (the proposal
    # needs every sample calibrated before any is integrated, which a batch job does at once);
    # its sheet's batches are then ignored, which changes no table
    batch_sheets = {
        s: sheet if mass_lists.get(s) is not None else sheet.assign(batch="")
        for s, sheet in sheets.items()
    }

    # a sample's file name (and wildcard): a slug of its id, distinct within the study
    slugs = {s: slug_map(dict.fromkeys(sheet["sample"])) for s, sheet in sheets.items()}
    # across studies first: a sample file name is of one kind (spectrum or image) everywhere
    kinds = _kinds({s: sheets[s] for s in good()}, slugs)
    both = set(kinds["spectrum"]) & set(kinds["image"])
    if both:
        raise SimsflowError(
            f"sample name(s) {_ids_of(both, slugs)} are spectra in one study and images in "
            "another; give them distinct names"
        )
    rows = {s: SampleRows(sheets[s]) for s in good()}
    for study in sorted(good()):
        settings = config["studies"][study]
        try:
            _check_one_batch_per_sample(_sheet_file(settings), batch_sheets[study])
            _check_study(study, settings, sheets[study], mass_lists[study], config_file)
        except SimsflowError as err:
            if bad is None:
                raise
            bad[study] = err
    kept = {s: sheets[s] for s in good()}
    kinds = _kinds(kept, slugs)
    # automatic batches for samples the sheet leaves without one (none for a study whose mass
    # list is proposed in the run: its integration waits for the list)
    sizes = {s: 0 if mass_lists[s] is None else config["studies"][s]["batch_spectra"] for s in kept}
    batches = spectrum_batches({s: batch_sheets[s] for s in kept}, sizes)
    auto = {s for s in kept if mass_lists[s] is None}
    clash = _batch_clash(list(kept), rows, set(kinds["spectrum"]), batches, slugs, auto)
    if clash is not None:
        message, one_each = clash
        if bad is None:
            raise SimsflowError(message)
        # the studies that run the samples one job each are left out; the others are built
        for study in one_each:
            bad[study] = SimsflowError(message, file=config_file, column=f"studies.{study}")
        kept = {s: sheets[s] for s in good()}
        kinds = _kinds(kept, slugs)
        batches = [b for b in batches if b.study in kept]
    return Studies(
        {s: rows[s] for s in kept},
        kinds["spectrum"],
        kinds["image"],
        batches,
        {s: slugs[s] for s in kept},
    )


def _kinds(sheets: dict[str, pd.DataFrame], slugs: dict) -> dict[str, list[str]]:
    """Sample slugs (file names) of each kind ('spectrum', 'image') over the sheets, sorted."""
    kinds = {}
    for kind in ("spectrum", "image"):
        names = [
            {slugs[study][n] for n in sheet.loc[sheet["kind"] == kind, "sample"]}
            for study, sheet in sheets.items()
        ]
        kinds[kind] = sorted(set().union(*names))
    return kinds


def _ids_of(names: set[str], slugs: dict) -> str:
    """Sample slugs named by the ids they stand for (``'Cu (ref)' (file name Cu__ref_)``)."""
    ids = {}
    for by_id in slugs.values():
        for sample, slug in by_id.items():
            if slug in names:
                ids.setdefault(slug, set()).add(sample)
    shown = []
    for slug in sorted(names):
        for sample in sorted(ids.get(slug, ())):
            shown.append(sample if sample == slug else f"{sample!r} (file name {slug})")
    return ", ".join(shown)


def _sheet_file(settings: dict) -> str:
    """Where a study's sheet rows come from: its sample sheet, or its peak table."""
    return settings.get("sample_sheet") or settings["peak_table"]


def _check_study(study, settings, sheet, mass_list, config_file) -> None:
    """The checks of one study: names, analysis, classification, degradation, imaging."""
    if mass_list is None:  # proposed in the run
        _check_auto_mass_list(study, settings, sheet, config_file)
    else:
        mass_file = settings["mass_list"]
        if mass_file == AUTO:  # a peak-table study without a mass list: the table's ions
            mass_file = settings["peak_table"]
        check_names(mass_list, mass_file, sheet, _sheet_file(settings))
    samples = list(dict.fromkeys(sheet["sample"]))
    _check_analysis(study, settings, mass_list, samples, config_file)
    if settings["classification"] is not None:
        _check_classification(study, settings, sheet, config_file)
    if settings.get("pca") is not None:
        _check_pca(study, settings["pca"], sheet, mass_list, config_file)
    if settings["degradation"] is not None:
        _check_degradation(study, settings, mass_list, samples, config_file)
    if (sheet["kind"] == "image").any():
        _check_imaging(study, settings["imaging"], mass_list, config_file)


def spectrum_batches(
    sheets: dict[str, pd.DataFrame], batch_spectra: dict[str, int] | None = None
) -> list[Batch]:
    """Every batch of spectrum samples, study by study (sorted), batches in sheet order.

    A batch is free text; its rule name keeps the letters, digits and '_' of its file slug
    (simsflow.names; others become '_'), made unique (ignoring case) with a number where two
    batches would otherwise share one; its key is the rule name without
    ``spectra_batch_{study}_``. ``batch_spectra`` (study -> spectra per batch, the study's
    config key; 0 or missing: none) puts the spectrum samples the sheet leaves without a batch
    into automatic batches ``auto001``, ``auto002`` …: consecutive samples in sheet order up to
    that many spectra, a sample never split (:func:`simsflow.sheets.assign_batches`). Samples
    added at the end of a sheet therefore change only the last automatic batch and make new
    ones.
    """
    batches, names = [], set()
    for study in sorted(sheets):
        sheet = sheets[study]
        spectra = sheet.loc[sheet["kind"] == "spectrum", ["sample", "batch"]]
        spectra = spectra.assign(auto=spectra["batch"] == "")
        size = (batch_spectra or {}).get(study, 0)
        if size > 0 and spectra["auto"].any():
            automatic = assign_batches(spectra.loc[spectra["auto"], "sample"].tolist(), size)
            spectra.loc[spectra["auto"], "batch"] = ["auto" + b[1:] for b in automatic]
        else:
            spectra = spectra[~spectra["auto"]]
        prefix = re.sub(r"\W", "_", f"spectra_batch_{study}_")
        # an automatic batch never joins a sheet batch that happens to have its name
        for (batch, _), group in spectra.groupby(["batch", "auto"], sort=False):
            # through the slug: no device name, bounded; distinct also ignoring case (the
            # key names a folder)
            name = prefix + re.sub(r"\W", "_", file_slug(batch))
            unique, k = name, 1
            while unique.casefold() in names:
                k += 1
                unique = f"{name}_{k}"
            names.add(unique.casefold())
            samples = list(dict.fromkeys(group["sample"]))
            batches.append(Batch(study, unique, unique[len(prefix) :], samples))
    return batches


def _check_one_batch_per_sample(sheet_file: str, sheet: pd.DataFrame) -> None:
    """All rows of a spectrum sample share one batch (a check of one study)."""
    samples = sheet.groupby("sample", sort=False)
    # column-wise first (a sheet may have thousands of rows): fine when no row of a spectrum
    # sample has another batch than the sample's first row; else sample by sample, for the
    # message
    first = samples[["kind", "batch"]].transform("first")
    if not ((first["kind"] == "spectrum") & (sheet["batch"] != first["batch"])).any():
        return
    for sample, group in samples:
        if group["kind"].iloc[0] != "spectrum":
            continue
        values = group["batch"].unique()
        if len(values) > 1:
            line = int(group.loc[group["batch"] != values[0], "sheet_line"].iloc[0])
            raise SimsflowError(
                f"sample '{sample}' is in batches {', '.join(repr(v) for v in values)} "
                "(all rows of a sample need one batch)",
                file=sheet_file,
                line=line,
                column="batch",
            )


def _batch_clash(
    studies: list[str],
    rows: dict[str, SampleRows],
    spectra,
    batches: list[Batch],
    slugs: dict,
    auto: set[str],
) -> tuple[str, list[str]] | None:
    """A spectrum sample file name (slug) is batched (by the sheet or automatically) in every
    study or none: the per-sample rules' wildcard constraint is by file name. None when it
    holds, else the message and the studies that run those samples one job each."""
    in_batch = {(b.study, s) for b in batches for s in b.samples}
    batched, single = {}, {}
    for study in sorted(studies):
        # only the study's own spectrum samples: an image sample runs no spectrum stage and a
        # peak-table study's sample (kind table) none at all, so either may share a name with
        # a batched spectrum sample of another study (a table made from its peaks.parquet)
        sheet = rows[study].sheet
        for sample in dict.fromkeys(sheet.loc[sheet["kind"] == "spectrum", "sample"]):
            slug = slugs[study][sample]
            if slug in spectra:
                side = batched if (study, sample) in in_batch else single
                side.setdefault(slug, []).append(study)
    both = set(batched) & set(single)
    if not both:
        return None
    in_batches = sorted({s for slug in both for s in batched[slug]})
    one_each = sorted({s for slug in both for s in single[slug]})
    why = [
        f"'{s}' (its mass list is proposed in the run, which ignores batches)"
        if s in auto
        else f"'{s}'"
        for s in one_each
    ]
    # a study whose mass list is proposed runs one job per sample whatever its sheet says
    same = (
        "batch_spectra: 0 and no batch column in the other"
        if set(one_each) & auto
        else "a batch column in both sheets, or batch_spectra: 0 and no batch column"
    )
    message = (
        f"sample name(s) {_ids_of(both, slugs)} run their spectrum stages in batches in study "
        f"{', '.join(repr(s) for s in in_batches)} and one job per sample in study "
        f"{', '.join(why)}: those jobs are named by the sample alone, so give the samples other "
        f"names in one of the sheets, or the same batching in both ({same})"
    )
    return message, one_each


def _first_problem(problems: list[tuple[str, str]], config_file: str) -> None:
    if problems:
        column, message = problems[0]
        raise SimsflowError(message, file=config_file, column=column)


def _check_auto_mass_list(study, settings, sheet, config_file) -> None:
    """A study whose mass list is proposed in the run names no ion or group in its config
    (they are known only once the list is proposed) and has spectra to search."""
    where = f"studies.{study}"
    if (sheet["kind"] != "spectrum").any():
        line = int(sheet.loc[sheet["kind"] != "spectrum", "sheet_line"].iloc[0])
        raise SimsflowError(
            "image samples need a mass list to import: mass_list is auto (or not given)",
            file=settings["sample_sheet"],
            line=line,
            column="file",
            hint=f"give {where}.mass_list (a list proposed by a first run is in "
            f"results/{study}/mass_list.proposed.tsv)",
        )
    scaling = settings["scaling"]
    named = [
        (f"{where}.scaling.methods.{name}", "a reference_ion scaling")
        for name, steps in scaling["methods"].items()
        if any(step.get("ion") is not None for step in steps)
    ]
    for key, what in (
        ("important_ions", "important ions"),
        ("important_groups", "important groups"),
        ("boxplots", "a list of box-plot ions"),
    ):
        if scaling[key] and not isinstance(scaling[key], str):
            named.append((f"{where}.scaling.{key}", what))
    if settings["degradation"] is not None:
        named.append((f"{where}.degradation", "a degradation analysis (its pathways are groups)"))
    if named:
        column, what = named[0]
        raise SimsflowError(
            f"{what} names ions or groups of the mass list, but mass_list is auto (or not "
            "given): the ions are known only once the run has proposed them",
            file=config_file,
            column=column,
            hint=f"give {where}.mass_list (a first run proposes one in "
            f"results/{study}/mass_list.auto.tsv), or leave this setting out",
        )


def _check_analysis(study, settings, mass_list, samples, config_file) -> None:
    """Scaling chains, reference sample and important ions."""
    from .chemistry import check_elements
    from .stats import boxplot_selection

    try:
        check_elements(settings["peak_search"]["elements"])
    except SimsflowError as err:
        where = f"studies.{study}.peak_search.elements"
        raise SimsflowError(err.message, file=config_file, column=where, hint=err.hint) from None
    scaling = settings["scaling"]
    if mass_list is None:  # proposed in the run; _check_auto_mass_list saw no ion named
        mass_list = pd.DataFrame({"ion": [], "group": []})
    ions = mass_list["ion"].tolist()
    where = f"studies.{study}.scaling"
    try:
        for name, steps in scaling["methods"].items():
            try:
                check_scaling_steps(steps)
            except SimsflowError as err:
                raise SimsflowError(
                    err.message, column=f"{where}.methods.{name}", hint=err.hint
                ) from None
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
        unknown = sorted(set(scaling["statistics"] or []) - set(scaling["methods"]))
        if unknown:
            raise SimsflowError(
                f"'{unknown[0]}' is not under scaling.methods", column=f"{where}.statistics"
            )
        compared = (settings.get("classification") or {}).get("compare")
        if scaling["statistics"] is not None and compared is not None:
            unused = [m for m in scaling["methods"]
                      if m not in scaling["statistics"] and m not in compared]  # fmt: skip
            if unused:
                raise SimsflowError(
                    f"scaling '{unused[0]}' is in neither scaling.statistics nor "
                    "classification.compare: nothing would use it",
                    column=f"{where}.methods.{unused[0]}",
                    hint="add it to one of them, or remove it",
                )
        groups = dict(zip(mass_list["ion"], mass_list["group"], strict=True))
        names, group_names = scaling["important_ions"], scaling["important_groups"]
        try:
            boxplot_selection(ions, groups, names, group_names, scaling["boxplots"])
        except SimsflowError as err:
            key = "important_ions" if err.message.startswith("important") else "boxplots"
            raise SimsflowError(err.message, column=f"{where}.{key}") from None
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
        train = sheet[sheet["role"] == "train"]
        try:
            check_classes(train["label"].to_numpy(), c["folds"])
            _check_cv_groups(where, settings, train, problems)
        except SimsflowError as err:
            raise SimsflowError(
                err.message,
                file=_sheet_file(settings),
                line=err.line,
                column=err.column,
                hint=err.hint,
            ) from None
    _first_problem(problems, config_file)


def _check_cv_groups(where, settings, train, problems) -> None:
    """The group column is a sheet column, and every class has train rows in two of its values
    (the training job checks again, after skipped spectra)."""
    column = settings["classification"]["group_column"]
    if not column:  # by sample only when every class has several samples: never fails
        return
    if column not in train.columns or column in {"path", "sheet_line"}:
        problems.append((f"{where}.group_column", f"'{column}' is not a sheet column"))
        return
    if column == "batch" and settings.get("peak_table") is not None:
        return  # a peak-table study's sheet here has no batches (study_sheet); its table has
    # a peak-table study's sheet lines are the table's, even when a sample sheet is named
    lines = train["sheet_line"] if settings.get("peak_table") is None else None
    check_groups(train["label"], train[column], column, lines)


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


def unknown_study_pattern(studies: list[str]) -> str:
    """Wildcard pattern of a folder name under results/ that is not one of ``studies`` (a
    negative lookahead on the name and the '/' after it)."""
    names = "|".join(re.escape(s) for s in studies)
    return f"(?!(?:{names})/)[^/]+" if names else "[^/]+"


def unknown_study_message(
    target: str, study: str, studies: list[str], config_file: str, bad: dict | None = None
) -> str:
    """What a target under results/ of a study the config does not define (or that was left
    out for a problem, ``bad``: study -> message) gets."""
    import difflib

    if bad and study in bad:
        return f"{target}: {bad[study]} (the study is left out until this is fixed)"
    close = difflib.get_close_matches(study, studies, n=1)
    guess = f"did you mean '{close[0]}'? " if close else ""
    return (
        f"{target}: no study '{study}' in {config_file} ({guess}the studies are "
        f"{', '.join(studies) or 'none'})"
    )


def report_left_out_studies(messages: dict[str, str]) -> None:
    """Log each study left out with its problem, and raise one SimsflowError naming them (the
    job that ends a run in which some studies were left out)."""
    import logging

    if not messages:
        return
    log = logging.getLogger("simsflow")
    for message in messages.values():
        log.error("left out: %s", message)
    names = ", ".join(f"'{s}'" for s in messages)
    raise SimsflowError(
        f"{len(messages)} stud{'y was' if len(messages) == 1 else 'ies were'} left out for a "
        f"problem in the configuration, sheet or mass list, the others are built: {names}",
        hint="each problem is printed at the start of the run and in "
        "logs/configuration_errors.log; fix them and run again",
    )
