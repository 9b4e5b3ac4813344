# simsflow: ToF-SIMS spectra of battery materials to peak tables, models and figures.
from snakemake.utils import min_version

min_version("9.0")


# refuses a config file whose YAML aliases expand hugely, before Snakemake loads it
include: "workflow/rules/preflight.smk"


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/demo.smk"
include: "workflow/rules/import.smk"
include: "workflow/rules/calibrate.smk"
include: "workflow/rules/integrate.smk"
include: "workflow/rules/peak_table_input.smk"
include: "workflow/rules/batch.smk"
include: "workflow/rules/imaging.smk"
include: "workflow/rules/scale.smk"
include: "workflow/rules/classify.smk"
include: "workflow/rules/degradation.smk"
include: "workflow/rules/pca.smk"
include: "workflow/rules/archive.smk"
include: "workflow/rules/targets.smk"


rule all:
    default_target: True
    input:
        PROJECT.all_targets(),
        CONFIGURATION_ERRORS,


# at the end of every run: the spectra calibration left out, how many it recovered, and the
# spectra whose mass-list intervals were narrower than their bins
onsuccess:
    warn_qc()


onerror:
    warn_qc()
