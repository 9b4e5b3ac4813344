"""Batch rule: import, calibrate and integrate every sample of one sheet batch."""

from simsflow.runlog import logged

with logged(snakemake.log[0]) as log:
    import pandas as pd

    from simsflow.batch import process_sample
    from simsflow.calibrate import CalibrationSettings
    from simsflow.integrate import IntegrationSettings
    from simsflow.io.tables import write_parquet, write_tsv

    params = snakemake.params
    mass_list = pd.DataFrame.from_records(params.mass_list)
    integration = IntegrationSettings(**params.integration)
    out = snakemake.output
    for k, sample in enumerate(params.samples):
        one = params.per_sample[sample]
        calibration = dict(
            one["calibration"], reference_ions=tuple(one["calibration"]["reference_ions"])
        )
        result = process_sample(
            params.study,
            sample,
            one["spots"],
            one["files"],
            CalibrationSettings(**calibration),
            integration,
            mass_list,
            params.on_error,
        )
        write_parquet(result.spectra, out.spectra[k], metadata=result.provenance)
        write_parquet(result.calibration, out.calibration[k])
        write_parquet(result.peaks, out.peaks[k])
        write_tsv(result.notes, out.qc[k])
        write_parquet(result.summed, out.summed[k])
        for skipped in result.provenance["skipped"]:
            log.warning("skipped %s: %s", skipped["file"], skipped["reason"])
    log.info("processed %d samples", len(params.samples))
