"""Rule calibrate: every spot of one sample calibrated against its reference ions."""

from simsflow.runlog import logged

with logged(snakemake.log[0]) as log:
    import pandas as pd

    from simsflow.calibrate import CalibrationSettings, calibrate_sample
    from simsflow.io.tables import write_parquet

    settings = dict(snakemake.params.settings)
    settings["reference_ions"] = tuple(settings["reference_ions"])
    table = calibrate_sample(
        pd.read_parquet(snakemake.input.spectra), CalibrationSettings(**settings)
    )
    write_parquet(table, snakemake.output.calibration)
    log.info("calibrated %d spots:\n%s", len(table), table.to_string())
