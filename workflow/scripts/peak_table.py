"""Rule peak_table: the study's peak table (sheet columns + ion areas) and its QC tables."""

from simsflow.runlog import logged

with logged(snakemake.log[0]) as log:
    import pandas as pd

    from simsflow.integrate import study_peak_table
    from simsflow.io.tables import (
        concat_tables,
        read_parquet_metadata,
        read_text_tsv,
        write_parquet,
        write_tsv,
    )

    sheet = pd.DataFrame.from_records(snakemake.params.sheet)
    peaks = [pd.read_parquet(p) for p in snakemake.input.peaks]
    table = study_peak_table(sheet, peaks)
    write_parquet(table, snakemake.output.peaks)
    write_tsv(
        concat_tables(snakemake.input.calibration, pd.read_parquet), snakemake.output.calibration
    )
    write_tsv(concat_tables(snakemake.input.qc, read_text_tsv), snakemake.output.qc)
    write_tsv(concat_tables(snakemake.input.imaging_qc, read_text_tsv), snakemake.output.imaging_qc)
    skipped = [s for p in snakemake.input.spectra for s in read_parquet_metadata(p)["skipped"]]
    write_tsv(
        pd.DataFrame(skipped, columns=["study", "sample", "spot", "file", "reason"]),
        snakemake.output.skipped,
    )
    log.info("peak table: %d spectra x %d columns", *table.shape)
