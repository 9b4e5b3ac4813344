"""Rule classification_figures: confusion matrix, scaling comparison, characteristic ions."""
# ruff: noqa: F821 - Snakemake gives a rule script the `snakemake` object

from simsflow.runlog import logged

with logged(snakemake.log[0], inputs=snakemake.input):
    import pandas as pd

    from simsflow import plots

    confusion = pd.read_csv(snakemake.input.confusion, sep="\t", index_col=0)
    plots.save(plots.confusion(confusion), snakemake.output.confusion)
    comparison = pd.read_csv(snakemake.input.comparison, sep="\t")
    plots.save(plots.scaling_comparison(comparison), snakemake.output.comparison)
    characteristic = pd.read_csv(snakemake.input.characteristic, sep="\t")
    plots.save(plots.characteristic_ions_figure(characteristic), snakemake.output.characteristic)
