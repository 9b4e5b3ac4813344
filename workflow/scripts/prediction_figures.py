"""Rule prediction_figures: class probabilities and composition of the unknown samples."""
# ruff: noqa: F821 - Snakemake gives a rule script the `snakemake` object

from simsflow.runlog import logged

with logged(snakemake.log[0], inputs=snakemake.input):
    import pandas as pd

    from simsflow import plots
    from simsflow.io.model import read_model

    predictions = pd.read_csv(snakemake.input.predictions, sep="\t", keep_default_na=False)
    classes = read_model(snakemake.input.model)["classes"]
    plots.save(plots.prediction_heatmap(predictions, classes), snakemake.output.heatmap)
