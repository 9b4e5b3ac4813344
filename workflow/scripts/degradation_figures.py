"""Rule degradation_figures: score plots, loadings, scores and radar charts."""

from simsflow.runlog import logged

with logged(snakemake.log[0]):
    from pathlib import Path

    import pandas as pd

    from simsflow import plots
    from simsflow.degradation import radar_values

    out = Path(snakemake.output.figures)
    out.mkdir(parents=True, exist_ok=True)
    for name, title in (("anchors", "uncycled vs uncoated cycled"), ("all", "all samples")):
        scores = pd.read_parquet(snakemake.input[f"{name}_scores"])
        variance = pd.read_csv(snakemake.input[f"{name}_variance"], sep="\t")
        for x, y in snakemake.params.pairs:
            if y in scores and x in scores:
                fig = plots.pca_scores(
                    scores,
                    variance,
                    x,
                    y,
                    "sample",
                    ellipses=True,
                    title=f"PCA, {title} (95 % ellipses)",
                )
                plots.save(fig, out / f"pca_{name}_{x}_{y}.png")
        plots.save(plots.explained_variance(variance), out / f"pca_{name}_variance.png")
    loadings = pd.read_csv(snakemake.input.loadings, sep="\t", keep_default_na=False)
    plots.save(plots.top_loadings(loadings, "PC1"), out / "pca_anchors_loadings_PC1.png")
    table = pd.read_csv(snakemake.input.scores, sep="\t")
    ds = [c for c in table.columns if c.startswith("DS") and not c.endswith("_sd")]
    plots.save(plots.degradation_bars(table, ds), out / "degradation_scores.png")
    axes = [a for a in snakemake.params.radar if a in table.columns]
    values = radar_values(table.dropna(subset=axes), axes)
    plots.save(plots.radar(values, axes), out / "radar_overview.png")
    for sample in values["sample"]:
        plots.save(plots.radar(values, axes, sample), out / f"radar_{sample}.png")
