# A target under results/ of a study the config does not define (a typo, a study removed from
# the config): instead of Snakemake's bare MissingRuleException, the run stops before any job
# with the studies that exist. Every other rule writes under results/{study}/ of a known study,
# so this one never competes with them; a new output elsewhere under results/ must not use a
# folder name this rule would take for a study. The rule has no action: its input function
# (common.smk) ends the run while the jobs are planned.


rule unknown_study:
    input:
        unknown_study_input,
    output:
        "results/{unknown_study}/{path}",
    wildcard_constraints:
        unknown_study=unknown_study_pattern(STUDIES),


# Runs last when a study was left out for a configuration problem (common.smk): it needs every
# output of the good studies, and fails with the left-out studies and their problems.
rule configuration_errors:
    input:
        every_good_study_target,
    output:
        "results/configuration_errors.txt",
    log:
        "logs/configuration_errors.log",
    conda:
        "../../envs/io.yaml"
    params:
        errors=BAD_STUDIES,
    script:
        "../scripts/configuration_errors.py"
