"""Rule spectrum_qc: the study's summed calibrated spectrum, a proposed mass list from a peak
search on it, and the QC figures (calibration errors per spectrum, summed spectrum with the
mass list's intervals)."""
# ruff: noqa: F821 - Snakemake gives a rule script the `snakemake` object

from simsflow.runlog import logged

with logged(snakemake.log[0], inputs=snakemake.input) as log:
    import pandas as pd

    from simsflow import plots
    from simsflow.io.batches import read_in_sheet_order
    from simsflow.io.tables import write_parquet, write_tsv
    from simsflow.peaksearch import propose_mass_list
    from simsflow.summed import by_sample, combine

    inputs, params, output = snakemake.input, snakemake.params, snakemake.output
    # per-sample and per-batch files alike, in sheet order
    parts = by_sample(read_in_sheet_order(inputs.summed, pd.read_parquet, params.samples))
    summed = combine(parts, source=inputs.calibration)
    write_parquet(summed, output.summed)
    proposed = propose_mass_list(
        summed["mz"].to_numpy(),
        summed["counts"].to_numpy(),
        polarity=params.polarity,
        **params.settings,
    )
    write_tsv(proposed, output.proposed, float_format="%.6f")
    log.info("proposed %d intervals", len(proposed))
    calibration = pd.read_csv(inputs.calibration, sep="\t", dtype={"spot": str})
    plots.save(plots.calibration_errors(calibration), output.ppm)
    mass_list = pd.DataFrame.from_records(params.mass_list)
    plots.save(plots.summed_spectrum(summed, mass_list), output.spectrum)
