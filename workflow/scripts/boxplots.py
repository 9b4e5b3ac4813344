"""Rule boxplots: box plots of one scaled table (important ions, group overviews, extra)."""

from simsflow.runlog import logged

with logged(snakemake.log[0]):
    import pandas as pd

    from simsflow import plots

    plots.save_boxplots(
        snakemake.output.figures,
        pd.read_parquet(snakemake.input.scaled),
        snakemake.params.important["important"],
        snakemake.params.important["extra"],
        snakemake.params.groups,
        snakemake.wildcards.method,
        snakemake.params.reference,
        workers=snakemake.threads,
    )
