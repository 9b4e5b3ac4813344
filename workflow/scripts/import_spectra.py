"""Rule import_spectra: every spot of one sample into results/{study}/spectra/{sample}.parquet."""
# ruff: noqa: F821 - Snakemake gives a rule script the `snakemake` object

from simsflow.runlog import logged

with logged(snakemake.log[0]) as log:
    from simsflow.io.importer import import_sample, warn_skipped
    from simsflow.io.tables import write_parquet

    table, provenance = import_sample(
        snakemake.wildcards.study,
        snakemake.params.sample,
        snakemake.params.spots,
        snakemake.params.files,
        snakemake.params.on_error,
    )
    write_parquet(table, snakemake.output.spectra, metadata=provenance)
    warn_skipped(log, provenance)
    log.info("imported %d spots, %d data points", len(provenance["spots"]), table.num_rows)
