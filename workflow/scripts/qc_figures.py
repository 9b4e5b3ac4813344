"""Rule qc_figures: calibration errors per spectrum and the summed spectrum with intervals."""

from simsflow.runlog import logged

with logged(snakemake.log[0]):
    import pandas as pd

    from simsflow import plots

    calibration = pd.read_csv(snakemake.input.calibration, sep="\t", dtype={"spot": str})
    plots.save(plots.calibration_errors(calibration), snakemake.output.ppm)
    summed = pd.read_parquet(snakemake.input.summed)
    mass_list = pd.DataFrame.from_records(snakemake.params.mass_list)
    plots.save(plots.summed_spectrum(summed, mass_list), snakemake.output.spectrum)
