"""Rule degradation_figures: score plots, loadings, scores and radar charts."""
# ruff: noqa: F821 - Snakemake gives a rule script the `snakemake` object

from simsflow.runlog import logged

with logged(snakemake.log[0], inputs=snakemake.input):
    import pandas as pd

    from simsflow import plots

    pcas = {
        name: (
            pd.read_parquet(snakemake.input[f"{name}_scores"]),
            pd.read_csv(snakemake.input[f"{name}_variance"], sep="\t"),
        )
        for name in ("anchors", "all")
    }
    plots.save_degradation_figures(
        snakemake.output.figures,
        pcas,
        pd.read_csv(snakemake.input.loadings, sep="\t", keep_default_na=False),
        pd.read_csv(snakemake.input.scores, sep="\t"),
        snakemake.params.pairs,
        snakemake.params.radar,
    )
