"""Rule pca_views: PCA of the training spectra with projected unknowns; decision boundaries."""

from simsflow.runlog import logged

with logged(snakemake.log[0]):
    from pathlib import Path

    import pandas as pd

    from simsflow import plots
    from simsflow.classify import pca_views
    from simsflow.io.model import read_model
    from simsflow.io.tables import write_parquet, write_tsv

    scores, variance, loadings, grids = pca_views(
        read_model(snakemake.input.model),
        pd.read_parquet(snakemake.input.peaks),
        snakemake.params.components,
        snakemake.params.boundaries,
    )
    write_parquet(scores, snakemake.output.scores)
    write_tsv(variance, snakemake.output.variance)
    write_tsv(loadings, snakemake.output.loadings)
    out = Path(snakemake.output.figures)
    out.mkdir(parents=True, exist_ok=True)
    for y in ("PC2", "PC3"):
        fig = plots.pca_scores(
            scores,
            variance,
            "PC1",
            y,
            "group",
            title="PCA of the training spectra; unknowns projected",
        )
        plots.save(fig, out / f"scores_PC1_{y}.png")
    plots.save(plots.explained_variance(variance), out / "explained_variance.png")
    for pc in ("PC1", "PC2"):
        plots.save(plots.top_loadings(loadings, pc), out / f"loadings_{pc}.png")
    for g in grids:
        fig = plots.decision_boundary(
            g["grid_x"],
            g["grid_y"],
            g["proba"],
            g["train"],
            g["mixture"],
            g["class"],
            g["versus"],
            g["variance"],
        )
        plots.save(fig, out / f"decision_{g['class']}_vs_{g['versus']}.png")
