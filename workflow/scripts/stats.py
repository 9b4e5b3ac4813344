"""Rule stats: per sample x ion statistics of one scaled table, relative to the reference."""

from simsflow.runlog import logged

with logged(snakemake.log[0]):
    import pandas as pd

    from simsflow.io.tables import write_tsv
    from simsflow.stats import sample_statistics

    table = sample_statistics(
        pd.read_parquet(snakemake.input.scaled),
        snakemake.params.ions,
        snakemake.params.groups,
        snakemake.params.reference,
    )
    write_tsv(table, snakemake.output.stats)
