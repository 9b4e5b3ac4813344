"""Rule degradation: PCA of the anchors and of all samples, degradation and rate scores."""
# ruff: noqa: F821 - Snakemake gives a rule script the `snakemake` object

from simsflow.runlog import logged

with logged(snakemake.log[0], inputs=snakemake.input) as log:
    from simsflow.degradation import DegradationSettings, degradation_scores
    from simsflow.io.ratetest import read_rate_test
    from simsflow.io.tables import read_peak_table, write_parquet, write_tsv

    settings = {
        k: tuple(v) if isinstance(v, list) else v for k, v in snakemake.params.settings.items()
    }
    rate_test = read_rate_test(snakemake.input.rate_test) if snakemake.input.rate_test else None
    out = degradation_scores(
        read_peak_table(snakemake.input.peaks),
        snakemake.params.ions,
        snakemake.params.groups,
        DegradationSettings(**settings),
        rate_test,
    )
    write_tsv(out["scores"], snakemake.output.scores)
    write_tsv(out["spot_scores"], snakemake.output.spot_scores)
    write_tsv(out["loadings"], snakemake.output.loadings)
    for name in ("anchors", "all"):
        write_parquet(out["pca"][name]["scores"], snakemake.output[f"{name}_scores"])
        write_tsv(out["pca"][name]["variance"], snakemake.output[f"{name}_variance"])
    log.info("degradation scores:\n%s", out["scores"].to_string())
