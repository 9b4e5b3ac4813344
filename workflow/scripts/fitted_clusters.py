"""Rule fitted_clusters: the fitted clusters of overlapping peaks of a study's first spectra."""
# ruff: noqa: F821 - Snakemake gives a rule script the `snakemake` object

from simsflow.runlog import logged

with logged(snakemake.log[0], inputs=snakemake.input) as log:
    import pandas as pd

    from simsflow import plots
    from simsflow.integrate import IntegrationSettings, integrate_sample
    from simsflow.io.batches import sample_provenance
    from simsflow.spots import iter_spots, read_spectra

    inputs, params = snakemake.input, snakemake.params
    sample, count = params.sample, params.spectra
    spots = [s for s in iter_spots(read_spectra(inputs.spectra)) if s.sample == sample][:count]
    calibration = pd.read_parquet(inputs.calibration)
    calibration = calibration[calibration["sample"] == sample]
    provenance = next(p for p in sample_provenance(inputs.spectra) if p["sample"] == sample)
    mass_list = pd.DataFrame.from_records(params.mass_list)
    settings = IntegrationSettings(**params.settings)
    fits = []
    integrate_sample(spots, calibration, mass_list, provenance, settings, fits=fits)
    plots.save(plots.fitted_clusters(fits, sample, spectra=count), snakemake.output.figure)
    log.info("%d cluster fits drawn", len(fits))
