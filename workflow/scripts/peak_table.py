"""Rule peak_table: the study's peak table (sheet columns + ion areas) and its QC tables."""

from simsflow.runlog import logged

with logged(snakemake.log[0]) as log:
    import pandas as pd

    from simsflow.integrate import study_peak_table
    from simsflow.io.tables import write_parquet, write_tsv

    sheet = pd.DataFrame.from_records(snakemake.params.sheet)
    peaks = [pd.read_parquet(p) for p in snakemake.input.peaks]
    table = study_peak_table(sheet, peaks)
    write_parquet(table, snakemake.output.peaks)
    calibration = pd.concat([pd.read_parquet(p) for p in snakemake.input.calibration])
    write_tsv(calibration, snakemake.output.calibration)
    notes = pd.concat([pd.read_csv(p, sep="\t", dtype=str) for p in snakemake.input.qc])
    write_tsv(notes, snakemake.output.qc)
    log.info("peak table: %d spectra x %d columns", *table.shape)
