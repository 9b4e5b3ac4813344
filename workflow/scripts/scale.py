"""Rule scale: the study's peak table scaled by one configured chain of methods, the per sample x
ion statistics of the scaled table (relative to the reference sample) and its box plots."""
# ruff: noqa: F821 - Snakemake gives a rule script the `snakemake` object

from simsflow.runlog import logged

with logged(snakemake.log[0], inputs=snakemake.input) as log:
    from simsflow import plots
    from simsflow.io.tables import read_peak_table, write_parquet, write_tsv
    from simsflow.scaling import scale_table
    from simsflow.stats import boxplot_selection, sample_statistics

    params, output = snakemake.params, snakemake.output
    peaks = read_peak_table(snakemake.input.peaks)
    scaled = scale_table(peaks, params.ions, params.steps)
    write_parquet(scaled, output.scaled)
    log.info("scaled %d spectra with %s", len(scaled), params.steps)
    stats = sample_statistics(scaled, params.ions, params.groups, params.reference)
    write_tsv(stats, output.stats)
    chosen = boxplot_selection(params.ions, params.groups, **params.boxplots, peaks=peaks)
    if chosen["note"]:
        log.warning("%s", chosen["note"])
    plots.save_boxplots(
        output.figures,
        scaled,
        chosen["important"],
        chosen["extra"],
        params.groups,
        snakemake.wildcards.method,
        params.reference,
        workers=snakemake.threads,
        note=chosen["note"],
        overview=chosen["overview"],
    )
