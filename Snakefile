# simsflow: ToF-SIMS spectra of battery materials to peak tables, models and figures.
from snakemake.utils import min_version

min_version("9.0")


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


rule all:
    default_target: True
    input:
        spectra_targets(),
        study_targets(),
        classification_targets(),
        degradation_targets(),
        pca_report_targets(),


# Once the run is over, Snakemake's process exits without waiting a second for its scheduler's
# last timer (simsflow.runlog.end_snakemake_run).
onsuccess:
    end_snakemake_run()


onerror:
    end_snakemake_run()
