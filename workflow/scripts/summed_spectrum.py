"""Rule summed_spectrum: the study's summed calibrated spectrum."""

from simsflow.runlog import logged

with logged(snakemake.log[0]):
    import pandas as pd

    from simsflow.io.batches import read_in_sheet_order
    from simsflow.io.tables import write_parquet
    from simsflow.summed import by_sample, combine

    # per-sample and per-batch files alike, in sheet order
    summed = read_in_sheet_order(snakemake.input.summed, pd.read_parquet, snakemake.params.samples)
    write_parquet(combine(by_sample(summed)), snakemake.output.summed)
