"""Rule pca_views: PCA of the training spectra with projected unknowns; decision boundaries."""
# ruff: noqa: F821 - Snakemake gives a rule script the `snakemake` object

from simsflow.runlog import logged

with logged(snakemake.log[0], inputs=snakemake.input):
    from simsflow import plots
    from simsflow.classify import pca_views
    from simsflow.io.model import read_model
    from simsflow.io.tables import read_peak_table, write_parquet, write_tsv

    scores, variance, loadings, grids = pca_views(
        read_model(snakemake.input.model),
        read_peak_table(snakemake.input.peaks),
        snakemake.params.components,
        snakemake.params.boundaries,
    )
    write_parquet(scores, snakemake.output.scores)
    write_tsv(variance, snakemake.output.variance)
    write_tsv(loadings, snakemake.output.loadings)
    plots.save_pca_views(snakemake.output.figures, scores, variance, loadings, grids)
