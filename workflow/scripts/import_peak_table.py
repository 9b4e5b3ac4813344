"""Rule import_peak_table: a study's peak table (any layout) as its peaks.parquet."""
# ruff: noqa: F821 - Snakemake gives a rule script the `snakemake` object

from simsflow.runlog import logged

with logged(snakemake.log[0]) as log:
    from pathlib import Path

    from simsflow.io.peaktable import load_peak_table_study, peaks_frame
    from simsflow.io.tables import write_parquet

    table = load_peak_table_study(
        snakemake.params.settings, Path(snakemake.scriptdir).parent / "schemas"
    )
    frame = peaks_frame(table, snakemake.wildcards.study)
    write_parquet(frame, snakemake.output.peaks)
    log.info(
        "%s: %s layout, %d spectra x %d ions",
        snakemake.input.peak_table,
        table.layout,
        len(table.areas),
        len(table.mass_list),
    )
