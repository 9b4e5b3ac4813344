"""Rule summed_spectrum: the study's summed calibrated spectrum."""

from simsflow.runlog import logged

with logged(snakemake.log[0]):
    import pandas as pd

    from simsflow.io.tables import write_parquet
    from simsflow.summed import combine, in_sheet_order

    frames = [pd.read_parquet(p) for p in snakemake.input.summed]  # per sample or per batch
    write_parquet(
        combine(in_sheet_order(frames, snakemake.params.samples)), snakemake.output.summed
    )
