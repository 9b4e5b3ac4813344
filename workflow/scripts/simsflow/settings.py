"""What the rules need to know of the validated studies: the sample index, every job's
parameters with their defaults and hashes, and the file lists and targets of each stage.

``workflow/rules/common.smk`` builds one :class:`Project` when the workflow starts and hands
its methods to the rules as input and params functions. A method that a rule calls takes the
rule's ``wildcards`` (any object with the attributes it reads, ``study`` and maybe
``sample``), so every decision here is unit-tested without Snakemake. The per-sample file of
each spectrum stage is written down once, in :data:`STAGE_FILES`: the rules' outputs and the
targets both come from it.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import json
import math
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path
from types import SimpleNamespace

import pandas as pd

from .calibrate import calibration_file_warning, reference_ions_for
from .config import load_schema
from .io.batches import STAGES as BATCH_STAGES
from .io.masslist import read_mass_list
from .io.spectra import STREAM_BYTES
from .provenance import code_hash
from .studies import AUTO, Studies, demo_dir, has_unknowns

NEVER = "(?!x)x"  # a wildcard pattern that matches nothing
# a {sample} wildcard: a sample's slug (simsflow.names.file_slug), never its id
SAMPLE_SLUG = r"[A-Za-z0-9_][A-Za-z0-9_.+-]*"

# a spectrum stage's per-sample file (rules import_spectra, calibrate, integrate); a batch's
# file of the same stage is BATCH_FILE
STAGE_FILES = {
    "spectra": "results/{study}/spectra/{sample}.parquet",
    "calibration": "results/{study}/calibration/{sample}.parquet",
    "peaks": "results/{study}/peaks/{sample}.parquet",
    "summed": "results/{study}/summed/{sample}.parquet",
    "qc": "results/{study}/qc/integration/{sample}.tsv",
}
BATCH_FILE = "results/{study}/batches/{key}/{stage}.{suffix}"
# the mass list a peak search proposes in the run (checkpoint propose_mass_list), integrated
# in the same run where the config's mass_list is auto
AUTO_MASS_LIST = "results/{study}/mass_list.auto.tsv"

CLASSIFIER_KEYS = (
    "scaling",
    "folds",
    "group_column",
    "C",
    "C_grid",
    "seed",
    "top_k",
    "n_bootstrap",
    "metric",
    "candidates",
)
DEGRADATION_KEYS = ("uncycled", "uncoated", "pathways", "scaling", "exclude_groups", "components")

# A job's peak memory (MB): the interpreter with the job's imports, plus a cost per MB of
# input. Measured: the demo's job logs (the import of a sample of 13 MB of exports peaked at
# 194 MB, the calibration of its 4 MB spectra table at 206 MB, the integration at 248 MB) and
# benchmark g (an export above STREAM_BYTES is streamed: 1.4 MB per MB; smaller ones are read
# whole, joined and parsed: up to 4 MB per MB, 6.5 for one 45 MB file when it was read whole).
# The estimate is what the SLURM profile requests (`mem_mb`), times the attempt on a retry.
JOB_MEMORY = {
    # stage: (MB with the imports, MB per MB of exports read whole, per MB streamed or Parquet)
    "import": (160, 4.0, 1.6),
    "calibrate": (200, 10.0, 10.0),
    "integrate": (200, 15.0, 15.0),
    "batch": (250, 4.0, 1.6),
    "images": (300, 4.0, 4.0),
}


def _status(path: str | Path) -> os.stat_result | None:
    """``os.stat`` of ``path``, None where Path.is_dir and Path.is_file say False (one stat
    answers both: a batch's memory estimate asks it of thousands of exports)."""
    try:
        return os.stat(path)
    except OSError as err:
        if err.errno in (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP):
            return None
        raise
    except ValueError:
        return None


def input_megabytes(paths: Iterable[str | Path]) -> tuple[float, float]:
    """MB of the files under ``paths`` (folders walked) read whole, and streamed (exports
    above the streaming size); files not there yet count nothing."""
    whole = streamed = 0
    for path in paths:
        status = _status(path)
        if status is not None and stat.S_ISDIR(status.st_mode):
            files = [(f, _status(f)) for f in sorted(Path(path).rglob("*"))]
        else:
            files = [(path, status)]
        for _, status in files:
            size = status.st_size if status is not None and stat.S_ISREG(status.st_mode) else 0
            if size > STREAM_BYTES:
                streamed += size
            else:
                whole += size
    return whole / 1e6, streamed / 1e6


def _copied(value):
    """A copy of JSON-like ``value`` (dicts and lists copied all the way down; strings and
    numbers are immutable): a cached parameter handed out without sharing its lists."""
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v) for v in value]
    return value


def estimate_mem_mb(stage: str, paths: Iterable[str | Path], attempt: int = 1) -> int:
    """Peak memory (MB) to request for a job of ``stage`` reading ``paths`` (JOB_MEMORY)."""
    base, per_whole, per_streamed = JOB_MEMORY[stage]
    whole, streamed = input_megabytes(paths)
    return math.ceil((base + per_whole * whole + per_streamed * streamed) * attempt)


def as_list(value) -> list:
    """``value`` itself if it is a list, else a list of it."""
    return value if isinstance(value, list) else [value]


class Project:
    """The validated configuration, sheets and mass lists of every study, as the rules ask."""

    def __init__(
        self,
        config: dict,
        sheets: dict[str, pd.DataFrame],
        mass_lists: dict[str, pd.DataFrame],
        studies: Studies,
        basedir: str | Path = ".",
        proposed_mass_list=None,
    ):
        """``proposed_mass_list(study)`` gives the path of the list proposed in the run once
        it is there (common.smk asks the checkpoint, which defers a job until it has run);
        by default the path, as it is when the list has been written."""
        self.config = config
        self.sheets = sheets
        self.mass_lists = mass_lists
        self.index = studies
        self.basedir = Path(basedir)
        self.studies = sorted(config["studies"])
        self.simulated = sorted(s for s in self.studies if "simulate" in self._study(s))
        self.classified = sorted(
            s for s in self.studies if self._study(s)["classification"] is not None
        )
        self.degraded = sorted(s for s in self.studies if self._study(s)["degradation"] is not None)
        self.pca_reported = sorted(s for s in self.studies if self._study(s).get("pca") is not None)
        self.batches = studies.batches
        self.proposed_mass_list = proposed_mass_list or (
            lambda study: AUTO_MASS_LIST.format(study=study)
        )
        # study -> sample -> the key of its batch (batched samples only)
        self.batch_of = {study: studies.batch_keys(study) for study in self.studies}
        # study -> slug (a sample's name in files and wildcards) -> the sample's id
        self.id_of = {
            study: {slug: sample for sample, slug in studies.slugs[study].items()}
            for study in self.studies
        }
        # study -> (its mass list, the list's records): mass_list_records
        self._mass_list_records: dict[str, tuple[pd.DataFrame, list[dict]]] = {}

    def _study(self, study: str) -> dict:
        return self.config["studies"][study]

    # -- the sample index ---------------------------------------------------------------------

    def sample_patterns(self) -> dict[str, str]:
        """Wildcard patterns: ``spectrum`` samples of the per-sample rules (not batched),
        ``image`` samples."""
        index = self.index
        spectra = [s for s in index.spectrum_samples if s not in index.batched_samples]
        return {
            "spectrum": "|".join(re.escape(s) for s in spectra) or NEVER,
            "image": "|".join(re.escape(s) for s in index.image_samples) or NEVER,
        }

    def sample_slug(self, study: str, sample: str) -> str:
        """The file name (and wildcard value) of a sample of ``study``: a slug of its id."""
        return self.index.slugs[study][sample]

    def sample_id(self, wildcards) -> str:
        """The id of the sample whose slug is ``wildcards.sample`` (as the sheet writes it;
        the rules hand it to their scripts, whose tables hold ids, never slugs)."""
        return self.id_of[wildcards.study].get(wildcards.sample, wildcards.sample)

    def sample_slugs(self, wildcards) -> dict[str, str]:
        """Each sample id of the study -> its slug, in sheet order (results/{study}/names.tsv)."""
        return dict(self.index.slugs[wildcards.study])

    def image_figure_labels(self, wildcards) -> dict[str, str]:
        """The report's labels of an image figure (rule image_figures): the sample's id, not its
        slug, and the figure's file name (``wildcards.name``)."""
        return {"sample": self.sample_id(wildcards), "figure": getattr(wildcards, "name", "")}

    def samples(self, study: str) -> list[str]:
        """Sample names of a study, in sheet order."""
        return list(self.index.rows_by_sample[study])

    def sample_order(self, wildcards) -> list[str]:
        """Sample names of the study of ``wildcards``, in sheet order."""
        return self.samples(wildcards.study)

    @functools.cache  # noqa: B019 - one Project per run; asked by several input functions
    def samples_of_kind(self, study: str, kind: str) -> tuple[str, ...]:
        """Sample names of one kind ('spectrum' or 'image') of a study, in sheet order."""
        kinds = self._sheet_column(study, "kind")
        return tuple(s for s, first in kinds.items() if first[0] == kind)

    def sample_rows(self, wildcards) -> pd.DataFrame:
        """The sheet rows of the sample whose slug is ``wildcards.sample`` (none for an
        unknown sample)."""
        rows = self.index.rows_by_sample[wildcards.study]
        sample = self.id_of[wildcards.study].get(wildcards.sample)
        return rows.get(sample, self.sheets[wildcards.study].iloc[:0])

    @functools.cache  # noqa: B019 - one Project per run; asked for every sample of a batch
    def _sheet_column(self, study: str, column: str) -> dict[str, list]:
        """Each sample id of ``study`` -> its rows' values of ``column`` in sheet order (the
        column of ``sample_rows``), without a frame per sample."""
        return self.index.rows_by_sample[study].column(column)

    def _sample_column(self, wildcards, column: str) -> list:
        """``list(self.sample_rows(wildcards)[column])``, from ``_sheet_column``."""
        sample = self.id_of[wildcards.study].get(wildcards.sample)
        return list(self._sheet_column(wildcards.study, column).get(sample, ()))

    def sample_spots(self, wildcards) -> list[str]:
        """The spots of a sample, in sheet order."""
        return self._sample_column(wildcards, "spot")

    def sample_files(self, wildcards) -> list[str]:
        """The raw files of a sample's spots (paths from the working directory)."""
        return self._sample_column(wildcards, "path")

    def has_spectra(self, study: str) -> bool:
        """Whether a study has spectrum samples."""
        return bool((self.sheets[study]["kind"] == "spectrum").any())

    # -- files of the spectrum stages ----------------------------------------------------------

    def batch_file(self, study: str, key: str, stage: str) -> str:
        """A batch's file of one spectrum stage."""
        return BATCH_FILE.format(study=study, key=key, stage=stage, suffix=BATCH_STAGES[stage])

    def stage_file(self, study: str, sample: str, stage: str) -> str:
        """The file holding ``stage`` of a spectrum sample: its own, or its batch's."""
        key = self.batch_of[study].get(sample)
        if key is not None:
            return self.batch_file(study, key, stage)
        return STAGE_FILES[stage].format(study=study, sample=self.sample_slug(study, sample))

    def spectrum_files(self, study: str, stage: str) -> list[str]:
        """The files holding ``stage`` of every spectrum sample of a study, in sheet order (a
        batch's file once, where its first sample stands)."""
        names = self.samples_of_kind(study, "spectrum")
        return list(dict.fromkeys(self.stage_file(study, s, stage) for s in names))

    def spectrum_results(self, stage: str):
        """Input function: ``spectrum_files`` of the study."""

        def inputs(wildcards):
            return self.spectrum_files(wildcards.study, stage)

        return inputs

    def first_spectrum_sample(self, wildcards) -> str:
        """The study's first spectrum sample in sheet order (its spectra are drawn as examples)."""
        return self.samples_of_kind(wildcards.study, "spectrum")[0]

    def first_spectrum_file(self, stage: str):
        """Input function: the file holding ``stage`` of the study's first spectrum sample."""

        def inputs(wildcards):
            return self.stage_file(wildcards.study, self.first_spectrum_sample(wildcards), stage)

        return inputs

    def per_sample(self, pattern: str, kind: str):
        """Input function: ``pattern`` expanded over the samples of one kind of the study."""

        def inputs(wildcards):
            names = self.samples_of_kind(wildcards.study, kind)
            slugs = [self.sample_slug(wildcards.study, s) for s in names]
            return [pattern.format(study=wildcards.study, sample=s) for s in slugs]

        return inputs

    def raw_inputs(self, wildcards):
        """The raw files of a sample, or the folder the simulator writes them to (named as
        the simulator names its samples: letters, digits and '_', so their own slugs)."""
        if wildcards.study in self.simulated:
            return f"{demo_dir(wildcards.study)}/raw/{self.sample_id(wildcards)}"
        return self.sample_files(wildcards)

    def for_batch(self, study: str, batch_samples, function) -> dict:
        """An input function of the per-sample rules, applied to every sample of a batch
        (keyed by sample id)."""
        return {
            s: function(SimpleNamespace(study=study, sample=self.sample_slug(study, s)))
            for s in batch_samples
        }

    def batch_raw_inputs(self, study: str, batch_samples) -> list[str]:
        """The raw files (or simulator folders) of every sample of a batch."""
        raw = self.for_batch(study, batch_samples, self.raw_inputs).values()
        return [r for one in raw for r in as_list(one)]

    def mem_mb(self, stage: str):
        """Resource function: the memory estimate of a job of ``stage`` from its inputs."""

        def mem_mb(wildcards, input, attempt):
            return estimate_mem_mb(stage, list(input), attempt)

        return mem_mb

    def batch_mem_mb(self, study: str, batch_samples) -> int:
        """Memory estimate of a batch job: it holds one sample and reads the next ahead, so
        its two largest samples count, not the whole batch."""
        raw = self.for_batch(study, batch_samples, self.raw_inputs).values()
        sizes = sorted(sum(input_megabytes(as_list(one))) for one in raw)
        base, per_whole, _ = JOB_MEMORY["batch"]
        return math.ceil(base + per_whole * sum(sizes[-2:]))

    # -- parameters of the jobs ----------------------------------------------------------------

    def script_code(self, name: str) -> str:
        """Content hash of a rule script and the library code it reaches (a rerun trigger)."""
        return code_hash(self.basedir / "workflow" / "scripts" / f"{name}.py")

    def demo_design(self, wildcards) -> str:
        """The simulated study's design (demo studies)."""
        return self._study(wildcards.simulated)["simulate"]["design"]

    def demo_seed(self, wildcards) -> int:
        """The simulated study's seed (demo studies)."""
        return self._study(wildcards.simulated)["simulate"]["seed"]

    def study_polarity(self, wildcards) -> str:
        """The study's polarity (for sheet rows without one)."""
        return self._study(wildcards.study)["polarity"]

    def on_error(self, wildcards) -> str:
        """What the import does with an unreadable file: 'stop' or 'skip'."""
        return self._study(wildcards.study)["on_error"]

    def calibration_settings(self, wildcards) -> dict:
        """Calibration settings of a sample, with the reference ions of its polarity."""
        polarities = self._sample_column(wildcards, "polarity")
        # not a sample of the study: the IndexError of its empty rows, as ever
        polarity = polarities[0] if polarities else self.sample_rows(wildcards)["polarity"].iloc[0]
        return _copied(self._calibration_settings(wildcards.study, polarity))

    @functools.cache  # noqa: B019 - one Project per run; the same for every sample of a batch
    def _calibration_settings(self, study: str, polarity: str) -> dict:
        settings = dict(self._study(study)["calibration"])
        if self._study(study)["on_error"] == "skip":
            settings["on_failure"] = "exclude"
        settings["reference_ions"] = list(
            reference_ions_for(
                polarity, settings.pop("reference_ions"), settings.pop("replace_defaults")
            )
        )
        # the ions that may extend the calibration (their intervals do not matter to it); a
        # list proposed in the run is made from calibrated spectra, so it extends none
        masses = self.mass_lists[study]
        if masses is None:
            masses = pd.DataFrame({"ion": [], "mz": []})
        settings["mass_list"] = [[i, m] for i, m in zip(masses["ion"], masses["mz"], strict=True)]
        return settings

    def qc_warnings(self) -> list[str]:
        """At the end of a run: the spectra left out by calibration and the count of recovered
        ones, and the spectra whose mass-list intervals were narrower than their bins, for each
        study whose QC tables exist."""
        from .io.tables import read_text_tsv

        warnings = []
        for study in self.studies:
            if not self.has_spectra(study):
                continue
            warning = calibration_file_warning(f"results/{study}/qc/calibration.tsv")
            if warning:
                warnings.append(warning)
            path = f"results/{study}/qc/integration.tsv"
            if os.path.exists(path) and os.path.getsize(path):
                from .integrate import integration_warning

                warning = integration_warning(read_text_tsv(path), path)
                if warning:
                    warnings.append(warning)
        return warnings

    def integration_settings(self, wildcards) -> dict:
        """The study's integration settings."""
        return dict(self._study(wildcards.study)["integration"])

    def peak_search_settings(self, wildcards) -> dict:
        """The study's peak-search settings."""
        return dict(self._study(wildcards.study)["peak_search"])

    def auto_mass_list(self, study: str) -> bool:
        """Whether the study's mass list is proposed by a peak search in the run."""
        return self.mass_lists[study] is None

    def auto_studies(self) -> list[str]:
        """The studies whose mass list is proposed in the run (wildcard constraint)."""
        return [s for s in self.studies if self.auto_mass_list(s)]

    def mass_list_file(self, wildcards) -> str:
        """The study's mass-list file: the config's, or the one proposed in the run."""
        if self.auto_mass_list(wildcards.study):
            return str(self.proposed_mass_list(wildcards.study))
        path = self._study(wildcards.study)["mass_list"]
        return [] if path == AUTO else path  # a peak-table study without a mass list

    def mass_list(self, study: str) -> pd.DataFrame:
        """The validated mass list of a study (the proposed one read and checked as a user's
        once the run has written it)."""
        table = self.mass_lists[study]
        if table is None:
            path = str(self.proposed_mass_list(study))
            table = self._read_proposed(path, Path(path).stat().st_mtime_ns)
        return table

    @functools.cache  # noqa: B019 - one Project per run; a rewritten list has a new mtime
    def _read_proposed(self, path: str, mtime_ns: int) -> pd.DataFrame:
        schema = load_schema(self.basedir / "workflow" / "schemas" / "mass_list.schema.yaml")
        return read_mass_list(path, schema)

    def mass_list_records(self, wildcards) -> list[dict]:
        """The validated mass list (ion, formula, mz, lower, upper, group) as plain records."""
        table = self.mass_list(wildcards.study)
        # made once per table (every batch rule of a study asks), handed out as copies
        made = self._mass_list_records.get(wildcards.study)
        if made is None or made[0] is not table:
            records = table.drop(columns=["line"]).to_dict(orient="records")
            made = self._mass_list_records[wildcards.study] = (table, records)
        return _copied(made[1])

    def sheet_records(self, wildcards) -> list[dict]:
        """The study's sheet rows as plain records (without paths and line numbers)."""
        sheet = self.sheets[wildcards.study]
        return sheet.drop(columns=["path", "sheet_line"]).to_dict(orient="records")

    def scaling_methods(self, study: str) -> list[str]:
        """The names of a study's scaling chains, sorted."""
        return sorted(self._study(study)["scaling"]["methods"])

    def statistics_scalings(self, study: str) -> list[str]:
        """The scalings with a scaled table, statistics and box plots (``scaling.statistics``;
        default: all), sorted; the others are only cross-validated by the classification."""
        scaling = self._study(study)["scaling"]
        names = scaling.get("statistics")
        return sorted(scaling["methods"] if names is None else set(names))

    def scaling_steps(self, wildcards) -> list[dict]:
        """The steps of the scaling chain ``wildcards.method``."""
        return self._study(wildcards.study)["scaling"]["methods"][wildcards.method]

    def study_ions(self, wildcards) -> list[str]:
        """The study's ions, in mass-list order."""
        return self.mass_list(wildcards.study)["ion"].tolist()

    def ion_groups(self, wildcards) -> dict[str, str]:
        """Each ion's mass-list group."""
        table = self.mass_list(wildcards.study)
        return dict(zip(table["ion"], table["group"], strict=True))

    def reference_sample(self, wildcards) -> str | None:
        """The sample the differences (%) of the statistics refer to."""
        return self._study(wildcards.study)["scaling"]["reference_sample"]

    def boxplot_settings(self, wildcards) -> dict:
        """What the box plots of a scaling are chosen by (``stats.boxplot_selection``, in the
        job: by default the most intense ions of a long mass list, read from its peak table)."""
        settings = self._study(wildcards.study)["scaling"]
        return {
            "names": settings["important_ions"],
            "group_names": settings["important_groups"],
            "boxplots": settings["boxplots"],
        }

    def _classification(self, wildcards) -> dict:
        return self._study(wildcards.study)["classification"]

    def classifier_settings(self, wildcards) -> dict:
        """The classifier's settings (scaling, folds, groups, C, seed...)."""
        c = self._classification(wildcards)
        return {k: c[k] for k in CLASSIFIER_KEYS}

    def compared_scalings(self, wildcards) -> dict[str, list[dict]]:
        """The scaling chains cross-validated side by side (default: all of the study's)."""
        methods = self._study(wildcards.study)["scaling"]["methods"]
        names = self._classification(wildcards)["compare"]
        return {n: methods[n] for n in (sorted(methods) if names is None else names)}

    def classification_config_hash(self, wildcards) -> str:
        """SHA-256 of everything the model depends on in the config (a rerun trigger)."""
        blob = json.dumps(
            {
                "classification": self._classification(wildcards),
                "compare": self.compared_scalings(wildcards),
                "ions": self.study_ions(wildcards),
            },
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()

    def pca_components(self, wildcards) -> int:
        """Number of principal components of the classification's PCA views."""
        return self._classification(wildcards)["pca_components"]

    def decision_boundaries(self, wildcards):
        """The PC pairs whose decision boundaries are drawn."""
        return self._classification(wildcards)["decision_boundaries"]

    def pca_settings(self, wildcards) -> dict:
        """The study's PCA report settings (scaling chain, components, colours, pairs)."""
        return self._study(wildcards.study)["pca"]

    def peak_table_files(self, wildcards) -> dict[str, str]:
        """A peak-table study's table, and its sheet and mass list when it names them."""
        settings = self._study(wildcards.study)
        keys = ("peak_table", "sample_sheet", "mass_list")
        return {k: settings[k] for k in keys if settings.get(k) and settings[k] != AUTO}

    def peak_table_settings(self, wildcards) -> dict:
        """What reading a peak table depends on (so another change of the study reruns nothing)."""
        settings = self._study(wildcards.study)
        keys = ("peak_table", "sample_sheet", "mass_list", "mass_window", "peak_table_tolerance")
        return {k: settings[k] for k in (*keys, "polarity") if k in settings}

    def study_patterns(self) -> dict[str, str]:
        """Wildcard patterns of the studies entered as a peak table and of those from raw files."""
        tables = [s for s in self.studies if self._study(s).get("peak_table") is not None]
        raw = [s for s in self.studies if s not in tables]
        return {
            "table": "|".join(re.escape(s) for s in tables) or NEVER,
            "raw": "|".join(re.escape(s) for s in raw) or NEVER,
        }

    def _degradation(self, wildcards) -> dict:
        return self._study(wildcards.study)["degradation"]

    def degradation_settings(self, wildcards) -> dict:
        """The degradation score's settings (anchors, pathways, scaling...)."""
        d = self._degradation(wildcards)
        return {k: d[k] for k in DEGRADATION_KEYS}

    def rate_test_input(self, wildcards) -> list[str] | str:
        """The rate-test table, if the study has one."""
        path = self._degradation(wildcards)["rate_test"]
        return [] if path is None else path

    def score_pairs(self, wildcards):
        """The PC pairs of the degradation score plots."""
        return self._degradation(wildcards)["score_pairs"]

    def radar_axes(self, wildcards) -> list[str]:
        """The radar chart's axes: configured, else DS, each pathway's DS, and QS if rated."""
        d = self._degradation(wildcards)
        if d["radar"] is not None:
            return d["radar"]
        axes = ["DS", *[f"DS_{p}" for p in d["pathways"]]]
        return axes + (["QS_0", "QS_ret"] if d["rate_test"] is not None else [])

    def imaging_settings(self, wildcards) -> dict:
        """The study's imaging settings; ``maps`` defaults to every ion."""
        settings = dict(self._study(wildcards.study)["imaging"])
        settings["maps"] = settings["maps"] or self.study_ions(wildcards)
        return settings

    # -- targets -------------------------------------------------------------------------------

    def spectra_targets(self) -> list[str]:
        """The imported spectra (or image stacks) of every sample (a batch's in one file)."""
        targets = []
        for study in self.studies:
            targets += self.spectrum_files(study, "spectra")
            images = [self.sample_slug(study, s) for s in self.samples_of_kind(study, "image")]
            targets += [f"results/{study}/images/{s}.parquet" for s in images]
        return targets

    def study_targets(self) -> list[str]:
        """Peak tables, QC figures, scaled tables, statistics and box plots of every study."""
        targets = []
        for study in self.studies:
            targets.append(f"results/{study}/peaks.parquet")
            if self._study(study).get("peak_table") is None:  # per-sample files: their names
                targets.append(f"results/{study}/names.tsv")
            if self.auto_mass_list(study):
                targets.append(AUTO_MASS_LIST.format(study=study))
            if self.has_spectra(study):
                targets += [
                    f"results/{study}/figures/calibration_ppm.png",
                    f"results/{study}/figures/summed_spectrum.png",
                    f"results/{study}/mass_list.proposed.tsv",
                ]
                if self._study(study)["integration"]["method"] != "interval":
                    targets.append(f"results/{study}/figures/fitted_clusters.png")
            for sample in self.samples_of_kind(study, "image"):
                slug = self.sample_slug(study, sample)
                targets.append(f"results/{study}/figures/images/{slug}")
            for method in self.statistics_scalings(study):
                targets += [
                    f"results/{study}/scaled/{method}.parquet",
                    f"results/{study}/stats/{method}.tsv",
                    f"results/{study}/figures/boxplots/{method}",
                ]
        return targets

    def classification_targets(self) -> list[str]:
        """Model, predictions and figures of every study with a classification."""
        targets = []
        for study in self.classified:
            targets += [
                f"results/{study}/model/model.json",
                f"results/{study}/predictions.tsv",
                f"results/{study}/pca/scores.parquet",
                f"results/{study}/figures/pca",
                f"results/{study}/figures/confusion.png",
            ]
            if has_unknowns(self.sheets[study]):  # no heat map of nothing to predict
                targets.append(f"results/{study}/figures/predictions_heatmap.png")
        return targets

    def degradation_targets(self) -> list[str]:
        """Scores and figures of every study with a degradation analysis."""
        targets = []
        for study in self.degraded:
            targets += [
                f"results/{study}/degradation/scores.tsv",
                f"results/{study}/figures/degradation",
            ]
        return targets

    def pca_report_targets(self) -> list[str]:
        """Scores and figures of every study with a PCA report (``pca:``)."""
        targets = []
        for study in self.pca_reported:
            targets += [
                f"results/{study}/pca/report/scores.parquet",
                f"results/{study}/figures/pca_report",
            ]
        return targets

    def all_targets(self) -> list[str]:
        """Every final output of every study (rule all)."""
        return (
            self.spectra_targets()
            + self.study_targets()
            + self.classification_targets()
            + self.degradation_targets()
            + self.pca_report_targets()
        )

    def study_results(self, wildcards) -> list[str]:
        """Every final output of one study (what an archive of it must hold)."""
        prefix = f"results/{wildcards.study}/"
        return [t for t in self.all_targets() if t.startswith(prefix)]

    def archive_files(self, wildcards) -> list[str]:
        """Config, sheet, mass list, rate test and report: the archive's inputs besides results."""
        settings = self._study(wildcards.study)
        # a mass list proposed in the run is among the results
        files = ["config/config.yaml"]
        for key in ("sample_sheet", "mass_list", "peak_table"):
            if settings.get(key) and settings[key] != AUTO:  # a proposed list is a result
                files.append(settings[key])
        degradation = settings["degradation"]
        if degradation is not None and degradation["rate_test"] is not None:
            files.append(degradation["rate_test"])
        return [*files, "results/report.html", "results/report.zip"]

    def raw_files(self, wildcards) -> list[str]:
        """Every raw file of a study (the files of image folders one by one)."""
        paths = []
        for path in dict.fromkeys(self.sheets[wildcards.study]["path"]):  # a table: every row
            p = Path(path)
            paths += [str(f) for f in sorted(p.glob("*"))] if p.is_dir() else [path]
        return paths
