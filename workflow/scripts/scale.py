"""Rule scale: the study's peak table scaled by one configured chain of methods."""

from simsflow.runlog import logged

with logged(snakemake.log[0]) as log:
    import pandas as pd

    from simsflow.io.tables import write_parquet
    from simsflow.scaling import scale_table

    peaks = pd.read_parquet(snakemake.input.peaks)
    scaled = scale_table(peaks, snakemake.params.ions, snakemake.params.steps)
    write_parquet(scaled, snakemake.output.scaled)
    log.info("scaled %d spectra with %s", len(scaled), snakemake.params.steps)
