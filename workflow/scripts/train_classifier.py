"""Rule train_classifier: CV, scaling comparison, final model (JSON) and its tables."""
# ruff: noqa: F821 - Snakemake gives a rule script the `snakemake` object

from simsflow.runlog import logged

with logged(snakemake.log[0], inputs=snakemake.input) as log:
    from simsflow.classify import ClassifierSettings, train_study
    from simsflow.io.model import write_model
    from simsflow.io.tables import read_peak_table, write_tsv

    settings = dict(snakemake.params.settings)
    if settings["scaling"] != "auto":
        settings["scaling"] = tuple(settings["scaling"])
    settings["C_grid"] = tuple(settings["C_grid"])
    settings["candidates"] = tuple(settings["candidates"])
    out = train_study(
        read_peak_table(snakemake.input.peaks),
        snakemake.params.ions,
        ClassifierSettings(**settings),
        snakemake.params.compare,
        snakemake.params.config_hash,
    )
    write_model(snakemake.output.model, out["document"])
    write_tsv(out["metrics"], snakemake.output.metrics)
    write_tsv(out["comparison"], snakemake.output.comparison)
    write_tsv(out["scaling_choice"], snakemake.output.scaling_choice)
    if "scaling_choice" in out["document"]:
        log.info("scaling auto chose %s", out["document"]["scaling_choice"]["chosen"])
    write_tsv(out["confusion"].reset_index(), snakemake.output.confusion)
    write_tsv(out["oof"], snakemake.output.oof)
    write_tsv(out["characteristic"], snakemake.output.characteristic)
    log.info("cross-validation, %s", out["document"]["cv"]["grouping"])
    log.info("cross-validation:\n%s", out["metrics"].to_string())
