"""Rule image_figures: ion maps, scaled maps, products and overlays of one sample's regions."""
# ruff: noqa: F821 - Snakemake gives a rule script the `snakemake` object

from simsflow.runlog import logged

with logged(snakemake.log[0], inputs=snakemake.input):
    import pandas as pd

    from simsflow import plots

    settings = snakemake.params.settings
    plots.save_image_figures(
        snakemake.output.figures,
        pd.read_parquet(snakemake.input.images),
        settings["maps"],
        settings["products"],
        settings["overlays"],
        settings["denominator"],
    )
