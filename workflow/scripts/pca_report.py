"""Rule pca_report: the study's PCA (chosen scaling, mean-centred), its tables and figures."""
# ruff: noqa: F821 - Snakemake gives a rule script the `snakemake` object

from simsflow.runlog import logged

with logged(snakemake.log[0]) as log:
    import pandas as pd

    from simsflow.io.tables import read_peak_table, write_parquet, write_tsv
    from simsflow.pca_report import PCAReportSettings, chain_title, pca_report
    from simsflow.plots.pca import save_pca_report

    given = snakemake.params.settings
    settings = PCAReportSettings(
        scaling=tuple(given["scaling"]),
        components=given["components"],
        colour_by=given["colour_by"],
        pairs=tuple(tuple(p) for p in given["pairs"]),
        top_ions=given["top_ions"],
    )
    mass_list = pd.DataFrame.from_records(snakemake.params.mass_list)
    tables = pca_report(read_peak_table(snakemake.input.peaks), mass_list, settings)
    write_parquet(tables["scores"], snakemake.output.scores)
    write_tsv(tables["loadings"], snakemake.output.loadings)
    write_tsv(tables["variance"], snakemake.output.variance)
    pairs = [p for p in settings.pairs if p[0] in tables["scores"] and p[1] in tables["scores"]]
    save_pca_report(
        snakemake.output.figures,
        tables,
        snakemake.wildcards.study,
        chain_title(settings.scaling),
        settings.colour_by,
        pairs,
        settings.top_ions,
    )
    log.info("PCA report:\n%s", tables["variance"].to_string())
