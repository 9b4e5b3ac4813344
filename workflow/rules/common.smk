# Loads and checks the configuration, the sample sheets and the mass lists once, before any job
# runs, and names the input and params functions of the rules. Every decision (defaults,
# hashes, file lists, targets) is made in the library, simsflow.settings, which has unit tests.
import sys
from pathlib import Path
from types import SimpleNamespace

# the project's folder, found from this file: workflow.basedir is the folder of the main
# Snakefile, which is the user's own when simsflow is used as a module (snakedeploy)
HOME = Path(workflow.current_basedir).parents[1]
sys.path.insert(0, str(HOME / "workflow" / "scripts"))

from simsflow.studies import load_and_check_studies, unknown_study_message, unknown_study_pattern
from simsflow.errors import SimsflowError
from simsflow.settings import NEVER, SAMPLE_SLUG, STAGE_FILES, Project

SCHEMAS = HOME / "workflow" / "schemas"

try:
    CONFIG, SHEETS, MASS_LISTS, _INDEX, BAD_STUDIES = load_and_check_studies(
        config, SCHEMAS, workflow.configfiles
    )
except SimsflowError as err:
    sys.exit(f"simsflow: configuration error: {err}")
# a study with a configuration problem is left out; the others run, and rule
# configuration_errors (targets.smk) ends the run non-zero with the problems
for _message in BAD_STUDIES.values():
    print(f"simsflow: configuration error: {_message} (left out)", file=sys.stderr)


def proposed_mass_list(study):
    """The mass list proposed in the run; a job asking for it waits for the checkpoint."""
    return checkpoints.propose_mass_list.get(study=study).output.mass_list


PROJECT = Project(CONFIG, SHEETS, MASS_LISTS, _INDEX, HOME, proposed_mass_list)
STUDIES = PROJECT.studies
SPECTRUM_BATCHES = PROJECT.batches
# samples whose spectra go through the per-sample rules (import_spectra, calibrate, integrate)
SPECTRUM_RE = PROJECT.sample_patterns()["spectrum"]
IMAGE_RE = PROJECT.sample_patterns()["image"]
AUTO_STUDIES = "|".join(PROJECT.auto_studies()) or NEVER
# studies entered as a peak table (rule import_peak_table) and those built from raw files
TABLE_RE = PROJECT.study_patterns()["table"]
RAW_RE = PROJECT.study_patterns()["raw"]


wildcard_constraints:
    study="|".join(STUDIES),
    sample=SAMPLE_SLUG,
    simulated="|".join(PROJECT.simulated) or NEVER,


# the input and params functions of the rules (simsflow.settings.Project)
script_code = PROJECT.script_code
mem_mb = PROJECT.mem_mb
batch_mem_mb = PROJECT.batch_mem_mb
sample_order = PROJECT.sample_order
sample_id = PROJECT.sample_id
sample_slugs = PROJECT.sample_slugs
image_figure_labels = PROJECT.image_figure_labels
sample_spots = PROJECT.sample_spots
sample_files = PROJECT.sample_files
raw_inputs = PROJECT.raw_inputs
batch_file = PROJECT.batch_file
for_batch = PROJECT.for_batch
batch_raw_inputs = PROJECT.batch_raw_inputs
spectrum_results = PROJECT.spectrum_results
per_sample = PROJECT.per_sample
first_spectrum_sample = PROJECT.first_spectrum_sample
first_spectrum_file = PROJECT.first_spectrum_file
demo_design = PROJECT.demo_design
demo_seed = PROJECT.demo_seed
study_polarity = PROJECT.study_polarity
on_error = PROJECT.on_error
calibration_settings = PROJECT.calibration_settings
integration_settings = PROJECT.integration_settings
peak_search_settings = PROJECT.peak_search_settings
mass_list_file = PROJECT.mass_list_file
mass_list_records = PROJECT.mass_list_records
sheet_records = PROJECT.sheet_records
scaling_steps = PROJECT.scaling_steps
study_ions = PROJECT.study_ions
ion_groups = PROJECT.ion_groups
reference_sample = PROJECT.reference_sample
boxplot_settings = PROJECT.boxplot_settings
classifier_settings = PROJECT.classifier_settings
compared_scalings = PROJECT.compared_scalings
classification_config_hash = PROJECT.classification_config_hash
pca_components = PROJECT.pca_components
decision_boundaries = PROJECT.decision_boundaries
degradation_settings = PROJECT.degradation_settings
pca_settings = PROJECT.pca_settings
peak_table_files = PROJECT.peak_table_files
peak_table_settings = PROJECT.peak_table_settings
rate_test_input = PROJECT.rate_test_input
score_pairs = PROJECT.score_pairs
radar_axes = PROJECT.radar_axes
imaging_settings = PROJECT.imaging_settings
study_results = PROJECT.study_results
archive_files = PROJECT.archive_files
raw_files = PROJECT.raw_files


def unknown_study_input(wildcards):
    """Input function of the unknown_study rule, which stops the run naming the studies (it is
    asked while the jobs are planned, so a dry run stops too)."""
    target = f"results/{wildcards.unknown_study}/{wildcards.path}"
    message = unknown_study_message(
        target, wildcards.unknown_study, STUDIES, workflow.configfiles[-1], BAD_STUDIES
    )
    sys.exit(f"simsflow: error: {message}")


def every_good_study_target(wildcards):
    """Input function of the configuration_errors rule: every final output of the studies
    that are fine, so it runs after them."""
    return PROJECT.all_targets()


# the target that ends a run non-zero when a study was left out (none otherwise)
CONFIGURATION_ERRORS = ["results/configuration_errors.txt"] if BAD_STUDIES else []


def warn_qc():
    """At the end of a run (onsuccess, onerror): spectra left out or recovered by calibration,
    spectra whose mass-list intervals were narrower than their bins."""
    for warning in PROJECT.qc_warnings():
        print(warning, file=sys.stderr)
