# Reads and validates the configuration, the sample sheets and the mass lists once, before any
# job runs, and holds the input functions of every rule.
import functools
import re
import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(workflow.basedir) / "workflow" / "scripts"))

from simsflow.calibrate import reference_ions_for
from simsflow.checks import check_studies, demo_dir, load_studies
from simsflow.errors import SimsflowError
from simsflow.io.batches import STAGES as BATCH_STAGES
from simsflow.provenance import code_hash
from simsflow.runlog import end_snakemake_run, freeze_startup
from simsflow.stats import important_ions

freeze_startup()  # what Snakemake and the imports hold now is never garbage: not walked again

SCHEMAS = Path(workflow.basedir) / "workflow" / "schemas"
NEVER = "(?!x)x"  # a wildcard pattern that matches nothing


try:
    CONFIG, SHEETS, MASS_LISTS = load_studies(config, SCHEMAS, workflow.configfiles)
    _STUDIES = check_studies(CONFIG, SHEETS, MASS_LISTS, workflow.configfiles[-1])
except SimsflowError as err:
    sys.exit(f"simsflow: configuration error: {err}")

STUDIES = sorted(CONFIG["studies"])
SIMULATED = sorted(s for s in STUDIES if "simulate" in CONFIG["studies"][s])
# each sample's sheet rows, in sheet order: grouped once, not filtered per job
ROWS_BY_SAMPLE = _STUDIES.rows_by_sample
SPECTRUM_SAMPLES = _STUDIES.spectrum_samples
IMAGE_SAMPLES = _STUDIES.image_samples
BATCHED_SAMPLES = _STUDIES.batched_samples
# samples whose spectra go through the per-sample rules (import_spectra, calibrate, integrate)
SPECTRUM_RE = "|".join(re.escape(s) for s in SPECTRUM_SAMPLES if s not in BATCHED_SAMPLES) or NEVER
IMAGE_RE = "|".join(re.escape(s) for s in IMAGE_SAMPLES) or NEVER


# studies entered as a peak table (rule import_peak_table) and those built from raw files
TABLE_STUDIES = sorted(s for s in STUDIES if CONFIG["studies"][s].get("peak_table") is not None)
TABLE_RE = "|".join(re.escape(s) for s in TABLE_STUDIES) or NEVER
RAW_RE = "|".join(re.escape(s) for s in STUDIES if s not in TABLE_STUDIES) or NEVER


wildcard_constraints:
    study="|".join(STUDIES),
    sample="[A-Za-z0-9][A-Za-z0-9_.-]*",
    simulated="|".join(SIMULATED) or NEVER,


def samples(study):
    """Sample names of a study, in sheet order."""
    return list(ROWS_BY_SAMPLE[study])


def sample_order(wildcards):
    return samples(wildcards.study)


@functools.cache  # asked by several input functions per study; the sheet does not change
def samples_of_kind(study, kind):
    """Sample names of one kind ('spectrum' or 'image') of a study, in sheet order."""
    return tuple(s for s, rows in ROWS_BY_SAMPLE[study].items() if rows["kind"].iloc[0] == kind)


def _sample_rows(wildcards):
    rows = ROWS_BY_SAMPLE[wildcards.study]
    return rows.get(wildcards.sample, SHEETS[wildcards.study].iloc[:0])


def as_list(value):
    return value if isinstance(value, list) else [value]


SPECTRUM_BATCHES = _STUDIES.batches
# study -> sample -> the key of its batch (batched samples only)
BATCH_OF = {study: _STUDIES.batch_keys(study) for study in STUDIES}

# a spectrum stage's per-sample file (rules import_spectra, calibrate, integrate); a batch's
# file of the same stage is results/{study}/batches/{key}/{stage}.{suffix}
STAGE_FILES = {
    "spectra": "results/{study}/spectra/{sample}.parquet",
    "calibration": "results/{study}/calibration/{sample}.parquet",
    "peaks": "results/{study}/peaks/{sample}.parquet",
    "summed": "results/{study}/summed/{sample}.parquet",
    "qc": "results/{study}/qc/integration/{sample}.tsv",
}


def batch_file(study, key, stage):
    return f"results/{study}/batches/{key}/{stage}.{BATCH_STAGES[stage]}"


def stage_file(study, sample, stage):
    """The file holding ``stage`` of a spectrum sample: its own, or its batch's."""
    key = BATCH_OF[study].get(sample)
    if key is not None:
        return batch_file(study, key, stage)
    return STAGE_FILES[stage].format(study=study, sample=sample)


def raw_inputs(wildcards):
    """The raw files of a sample, or the folder the simulator writes them to."""
    if wildcards.study in SIMULATED:
        return f"{demo_dir(wildcards.study)}/raw/{wildcards.sample}"
    return sample_files(wildcards)


def for_batch(study, batch_samples, function):
    """An input function of the per-sample rules, applied to every sample of a batch."""
    return {s: function(SimpleNamespace(study=study, sample=s)) for s in batch_samples}


def batch_raw_inputs(study, batch_samples):
    """The raw files (or simulator folders) of every sample of a batch."""
    raw = for_batch(study, batch_samples, raw_inputs).values()
    return [r for one in raw for r in as_list(one)]


def sample_spots(wildcards):
    return list(_sample_rows(wildcards)["spot"])


def sample_files(wildcards):
    return list(_sample_rows(wildcards)["path"])


def demo_design(wildcards):
    return CONFIG["studies"][wildcards.simulated]["simulate"]["design"]


def demo_seed(wildcards):
    return CONFIG["studies"][wildcards.simulated]["simulate"]["seed"]


def spectra_targets():
    """The imported spectra (or image stacks) of every sample (a batch's in one file)."""
    targets = []
    for study in STUDIES:
        targets += spectrum_files(study, "spectra")
        targets += [f"results/{study}/images/{s}.parquet" for s in samples_of_kind(study, "image")]
    return targets


def spectrum_files(study, stage):
    """The files holding ``stage`` of every spectrum sample of a study, in sheet order (a
    batch's file once, where its first sample stands)."""
    return list(
        dict.fromkeys(stage_file(study, s, stage) for s in samples_of_kind(study, "spectrum"))
    )


def spectrum_results(stage):
    """Input function: ``spectrum_files`` of the study."""

    def inputs(wildcards):
        return spectrum_files(wildcards.study, stage)

    return inputs


def per_sample(pattern, kind):
    """Input function: ``pattern`` expanded over the samples of one kind of the study."""

    def inputs(wildcards):
        names = samples_of_kind(wildcards.study, kind)
        return [pattern.format(study=wildcards.study, sample=s) for s in names]

    return inputs


def has_spectra(study):
    return bool((SHEETS[study]["kind"] == "spectrum").any())


def has_images(study):
    return bool((SHEETS[study]["kind"] == "image").any())


def study_polarity(wildcards):
    return CONFIG["studies"][wildcards.study]["polarity"]


def calibration_settings(wildcards):
    """Calibration settings of a sample, with the reference ions of its polarity."""
    settings = dict(CONFIG["studies"][wildcards.study]["calibration"])
    if CONFIG["studies"][wildcards.study]["on_error"] == "skip":
        settings["on_failure"] = "exclude"
    polarity = _sample_rows(wildcards)["polarity"].iloc[0]
    settings["reference_ions"] = list(
        reference_ions_for(
            polarity, settings.pop("reference_ions"), settings.pop("replace_defaults")
        )
    )
    return settings


def integration_settings(wildcards):
    return dict(CONFIG["studies"][wildcards.study]["integration"])


def peak_search_settings(wildcards):
    return dict(CONFIG["studies"][wildcards.study]["peak_search"])


def mass_list_file(wildcards):
    return CONFIG["studies"][wildcards.study]["mass_list"]


def mass_list_records(wildcards):
    """The validated mass list (ion, formula, mz, lower, upper, group) as plain records."""
    table = MASS_LISTS[wildcards.study].drop(columns=["line"])
    return table.to_dict(orient="records")


def sheet_records(wildcards):
    return SHEETS[wildcards.study].drop(columns=["path", "sheet_line"]).to_dict(orient="records")


def study_targets():
    targets = []
    for study in STUDIES:
        targets.append(f"results/{study}/peaks.parquet")
        if has_spectra(study):
            targets += [
                f"results/{study}/figures/calibration_ppm.png",
                f"results/{study}/figures/summed_spectrum.png",
                f"results/{study}/mass_list.proposed.tsv",
            ]
        sheet = SHEETS[study]
        for sample in dict.fromkeys(sheet.loc[sheet["kind"] == "image", "sample"]):
            targets.append(f"results/{study}/figures/images/{sample}")
        for method in scaling_methods(study):
            targets += [
                f"results/{study}/scaled/{method}.parquet",
                f"results/{study}/stats/{method}.tsv",
                f"results/{study}/figures/boxplots/{method}",
            ]
    return targets


def script_code(name):
    """Content hash of a rule script and the library code it reaches (a rerun trigger)."""
    return code_hash(Path(workflow.basedir) / "workflow" / "scripts" / f"{name}.py")


def scaling_methods(study):
    return sorted(CONFIG["studies"][study]["scaling"]["methods"])


def scaling_steps(wildcards):
    return CONFIG["studies"][wildcards.study]["scaling"]["methods"][wildcards.method]


def study_ions(wildcards):
    return MASS_LISTS[wildcards.study]["ion"].tolist()


def ion_groups(wildcards):
    table = MASS_LISTS[wildcards.study]
    return dict(zip(table["ion"], table["group"]))


def reference_sample(wildcards):
    return CONFIG["studies"][wildcards.study]["scaling"]["reference_sample"]


def important_and_extra(wildcards):
    settings = CONFIG["studies"][wildcards.study]["scaling"]
    important, extra = important_ions(
        study_ions(wildcards),
        ion_groups(wildcards),
        settings["important_ions"],
        settings["important_groups"],
    )
    return {"important": important, "extra": extra}


CLASSIFIED = sorted(s for s in STUDIES if CONFIG["studies"][s]["classification"] is not None)


def _classification(wildcards):
    return CONFIG["studies"][wildcards.study]["classification"]


def classifier_settings(wildcards):
    c = _classification(wildcards)
    keys = ("scaling", "folds", "group_column", "C", "C_grid", "seed", "top_k", "n_bootstrap")
    return {k: c[k] for k in (*keys, "metric", "candidates")}


def compared_scalings(wildcards):
    methods = CONFIG["studies"][wildcards.study]["scaling"]["methods"]
    names = _classification(wildcards)["compare"]
    return {n: methods[n] for n in (sorted(methods) if names is None else names)}


def classification_config_hash(wildcards):
    import hashlib
    import json

    blob = json.dumps(
        {
            "classification": _classification(wildcards),
            "compare": compared_scalings(wildcards),
            "ions": study_ions(wildcards),
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def pca_components(wildcards):
    return _classification(wildcards)["pca_components"]


def decision_boundaries(wildcards):
    return _classification(wildcards)["decision_boundaries"]


def classification_targets():
    targets = []
    for study in CLASSIFIED:
        targets += [
            f"results/{study}/model/model.json",
            f"results/{study}/predictions.tsv",
            f"results/{study}/pca/scores.parquet",
            f"results/{study}/figures/pca",
            f"results/{study}/figures/confusion.png",
        ]
    return targets


PCA_REPORTED = sorted(s for s in STUDIES if CONFIG["studies"][s].get("pca") is not None)


def pca_settings(wildcards):
    return CONFIG["studies"][wildcards.study]["pca"]


def pca_report_targets():
    targets = []
    for study in PCA_REPORTED:
        targets += [
            f"results/{study}/pca/report/scores.parquet",
            f"results/{study}/figures/pca_report",
        ]
    return targets


DEGRADED = sorted(s for s in STUDIES if CONFIG["studies"][s]["degradation"] is not None)


def _degradation(wildcards):
    return CONFIG["studies"][wildcards.study]["degradation"]


def degradation_settings(wildcards):
    d = _degradation(wildcards)
    keys = ("uncycled", "uncoated", "pathways", "scaling", "exclude_groups", "components")
    return {k: d[k] for k in keys}


def rate_test_input(wildcards):
    path = _degradation(wildcards)["rate_test"]
    return [] if path is None else path


def score_pairs(wildcards):
    return _degradation(wildcards)["score_pairs"]


def radar_axes(wildcards):
    d = _degradation(wildcards)
    if d["radar"] is not None:
        return d["radar"]
    axes = ["DS", *[f"DS_{p}" for p in d["pathways"]]]
    return axes + (["QS_0", "QS_ret"] if d["rate_test"] is not None else [])


def degradation_targets():
    targets = []
    for study in DEGRADED:
        targets += [
            f"results/{study}/degradation/scores.tsv",
            f"results/{study}/figures/degradation",
        ]
    return targets


def imaging_settings(wildcards):
    settings = dict(CONFIG["studies"][wildcards.study]["imaging"])
    settings["maps"] = settings["maps"] or study_ions(wildcards)
    return settings


def study_results(wildcards):
    """Every final output of one study (what an archive of it must hold)."""
    prefix = f"results/{wildcards.study}/"
    every = spectra_targets() + study_targets() + classification_targets() + degradation_targets()
    every += pca_report_targets()
    return [t for t in every if t.startswith(prefix)]


def peak_table_files(wildcards):
    """A peak-table study's table, and its sheet and mass list when it names them."""
    settings = CONFIG["studies"][wildcards.study]
    keys = ("peak_table", "sample_sheet", "mass_list")
    return {k: settings[k] for k in keys if settings.get(k)}


def peak_table_settings(wildcards):
    """What reading a peak table depends on (so another change of the study reruns nothing)."""
    settings = CONFIG["studies"][wildcards.study]
    keys = ("peak_table", "sample_sheet", "mass_list", "mass_window", "peak_table_tolerance")
    return {k: settings[k] for k in (*keys, "polarity") if k in settings}


def archive_files(wildcards):
    settings = CONFIG["studies"][wildcards.study]
    keys = ("sample_sheet", "mass_list", "peak_table")
    files = ["config/config.yaml", *[settings[k] for k in keys if settings.get(k)]]
    degradation = settings["degradation"]
    if degradation is not None and degradation["rate_test"] is not None:
        files.append(degradation["rate_test"])
    return files + ["results/report.html", "results/report.zip"]


def raw_files(wildcards):
    paths = []
    for path in dict.fromkeys(SHEETS[wildcards.study]["path"]):  # a peak table: every row
        p = Path(path)
        paths += [str(f) for f in sorted(p.glob("*"))] if p.is_dir() else [path]
    return paths


def on_error(wildcards):
    return CONFIG["studies"][wildcards.study]["on_error"]
