"""Rule pixel_scale: each region's peak-table row from pixel-by-pixel scaled ion images."""
# ruff: noqa: F821 - Snakemake gives a rule script the `snakemake` object

from simsflow.runlog import logged

with logged(snakemake.log[0], inputs=snakemake.input):
    import pandas as pd

    from simsflow.imaging import sample_rows
    from simsflow.io.tables import write_parquet, write_tsv

    settings = snakemake.params.settings
    peaks, qc = sample_rows(
        pd.read_parquet(snakemake.input.images),
        snakemake.params.ions,
        settings["denominator"],
        settings["binning"],
    )
    write_parquet(peaks, snakemake.output.peaks)
    write_tsv(qc, snakemake.output.qc)
