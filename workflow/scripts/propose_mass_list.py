"""Checkpoint propose_mass_list: a mass list from a peak search on the study's summed
calibrated spectrum, for a study with `mass_list: auto` (integrated in the same run)."""
# ruff: noqa: F821 - Snakemake gives a rule script the `snakemake` object

from simsflow.runlog import logged

with logged(snakemake.log[0]) as log:
    import pandas as pd

    from simsflow.io.tables import write_tsv
    from simsflow.peaksearch import propose_for_study
    from simsflow.spots import read_spectra
    from simsflow.summed import study_summed

    inputs, output = snakemake.input, snakemake.output
    samples = (
        (read_spectra(spectra), pd.read_parquet(calibration))
        for spectra, calibration in zip(inputs.spectra, inputs.calibration, strict=True)
    )
    summed = study_summed(samples, source=inputs.calibration[0])
    proposed = propose_for_study(
        summed,
        source=output.mass_list,
        polarity=snakemake.params.polarity,
        **snakemake.params.settings,
    )
    write_tsv(proposed, output.mass_list, float_format="%.6f")
    log.info(
        "proposed %d ions, %d named by a formula", len(proposed), (proposed.formula != "").sum()
    )
