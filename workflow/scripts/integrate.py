"""Rule integrate: peak areas of one sample's calibrated spectra over the mass list."""
# ruff: noqa: F821 - Snakemake gives a rule script the `snakemake` object

from simsflow.runlog import logged

with logged(snakemake.log[0], inputs=snakemake.input) as log:
    import pandas as pd

    from simsflow.integrate import IntegrationSettings, integrate_sample
    from simsflow.io.tables import read_parquet_metadata, write_parquet, write_tsv
    from simsflow.spots import iter_spots, read_spectra
    from simsflow.summed import sample_summed

    spectra = list(iter_spots(read_spectra(snakemake.input.spectra)))  # split once, used twice
    calibration = pd.read_parquet(snakemake.input.calibration)
    mass_list = pd.DataFrame.from_records(snakemake.params.mass_list)
    settings = IntegrationSettings(**snakemake.params.settings)
    provenance = read_parquet_metadata(snakemake.input.spectra)
    peaks, notes = integrate_sample(spectra, calibration, mass_list, provenance, settings)
    write_parquet(peaks, snakemake.output.peaks)
    write_tsv(notes, snakemake.output.qc)
    write_parquet(sample_summed(spectra, calibration), snakemake.output.summed)
    log.info("integrated %d spots over %d ions", len(peaks), len(mass_list))
