"""Batch rule: import, calibrate and integrate every sample of one sheet batch."""
# ruff: noqa: F821 - Snakemake gives a rule script the `snakemake` object

from simsflow.runlog import logged

with logged(snakemake.log[0]) as log:
    import pandas as pd

    from simsflow.batch import SampleJob, process_samples
    from simsflow.calibrate import calibration_settings
    from simsflow.integrate import IntegrationSettings
    from simsflow.io.batches import write_batch
    from simsflow.io.importer import warn_skipped

    params = snakemake.params
    mass_list = pd.DataFrame.from_records(params.mass_list)
    jobs = [
        SampleJob(
            params.study,
            sample,
            params.spots[sample],
            params.files[sample],
            calibration_settings(params.calibration[sample]),
            params.on_error,
        )
        for sample in params.samples
    ]
    results = process_samples(jobs, IntegrationSettings(**params.integration), mass_list)
    for provenance in write_batch(results, snakemake.output):
        warn_skipped(log, provenance)
    log.info("processed %d samples", len(params.samples))
