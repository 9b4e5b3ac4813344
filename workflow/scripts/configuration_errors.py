"""Rule configuration_errors: ends a run in which some studies were left out for a problem in
their configuration, sheet or mass list, after every other study is built, listing them."""
# ruff: noqa: F821 - Snakemake gives a rule script the `snakemake` object

from simsflow.runlog import logged

with logged(snakemake.log[0]):
    from simsflow.studies import report_left_out_studies

    report_left_out_studies(snakemake.params.errors)
