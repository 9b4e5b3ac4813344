"""Batch rule: import, calibrate and integrate every sample of one sheet batch."""

from simsflow.runlog import logged

with logged(snakemake.log[0]) as log:
    import pandas as pd

    from simsflow.batch import SampleJob, process_samples
    from simsflow.calibrate import calibration_settings
    from simsflow.integrate import IntegrationSettings
    from simsflow.io.importer import warn_skipped
    from simsflow.io.tables import write_parquet, write_tsv

    params = snakemake.params
    mass_list = pd.DataFrame.from_records(params.mass_list)
    integration = IntegrationSettings(**params.integration)
    out = snakemake.output
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
    for k, result in enumerate(process_samples(jobs, integration, mass_list)):
        write_parquet(result.spectra, out.spectra[k], metadata=result.provenance)
        write_parquet(result.calibration, out.calibration[k])
        write_parquet(result.peaks, out.peaks[k])
        write_tsv(result.notes, out.qc[k])
        write_parquet(result.summed, out.summed[k])
        warn_skipped(log, result.provenance)
    log.info("processed %d samples", len(params.samples))
