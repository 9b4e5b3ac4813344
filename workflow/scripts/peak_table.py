"""Rule peak_table: the study's peak table (sheet columns + ion areas), its QC tables and the
index of its per-sample file names (names.tsv: each sample's slug and id)."""
# ruff: noqa: F821 - Snakemake gives a rule script the `snakemake` object

from simsflow.runlog import logged

with logged(snakemake.log[0], inputs=snakemake.input) as log:
    from pathlib import Path

    import pandas as pd

    from simsflow.integrate import study_peak_table
    from simsflow.io.batches import read_in_sheet_order, skipped_spectra
    from simsflow.io.tables import read_text_tsv, write_parquet, write_tsv
    from simsflow.names import write_index

    sheet = pd.DataFrame.from_records(snakemake.params.sheet)
    samples = snakemake.params.samples  # sheet order
    inputs = snakemake.input  # spectrum samples' files: one per sample or one per batch
    peaks = [pd.read_parquet(p) for p in [*inputs.peaks, *inputs.image_peaks]]
    table = study_peak_table(sheet, peaks)
    write_parquet(table, snakemake.output.peaks)
    calibration = read_in_sheet_order(inputs.calibration, pd.read_parquet, samples)
    write_tsv(calibration, snakemake.output.calibration)
    write_tsv(read_in_sheet_order(inputs.qc, read_text_tsv, samples), snakemake.output.qc)
    write_tsv(
        read_in_sheet_order(inputs.imaging_qc, read_text_tsv, samples), snakemake.output.imaging_qc
    )
    write_tsv(skipped_spectra(inputs.spectra, samples), snakemake.output.skipped)
    slugs = snakemake.params.slugs  # sample id -> its file name
    write_index(Path(snakemake.output.names).parent, [(v, k, "sample") for k, v in slugs.items()])
    log.info("peak table: %d spectra x %d columns", *table.shape)
