"""Rule calibrate: every spot of one sample calibrated against its reference ions."""
# ruff: noqa: F821 - Snakemake gives a rule script the `snakemake` object

from simsflow.runlog import logged

with logged(snakemake.log[0], inputs=snakemake.input) as log:
    from simsflow.calibrate import calibrate_sample, calibration_settings
    from simsflow.io.tables import write_parquet
    from simsflow.spots import read_spectra

    table = calibrate_sample(
        read_spectra(snakemake.input.spectra), calibration_settings(snakemake.params.settings)
    )
    write_parquet(table, snakemake.output.calibration)
    log.info("calibrated %d spots:\n%s", len(table), table.to_string())
