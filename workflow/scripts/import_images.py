"""Rule import_images: every region of one sample into one image stack (pixel x ion)."""
# ruff: noqa: F821 - Snakemake gives a rule script the `snakemake` object

from simsflow.runlog import logged

with logged(snakemake.log[0]) as log:
    import pandas as pd

    from simsflow.image_regions import import_image_sample
    from simsflow.io.tables import write_parquet

    table, provenance = import_image_sample(
        snakemake.wildcards.study,
        snakemake.params.sample,
        snakemake.params.spots,
        snakemake.params.files,
        pd.DataFrame.from_records(snakemake.params.mass_list),
    )
    write_parquet(table, snakemake.output.images, metadata=provenance)
    log.info("imported %d regions, %d pixels", len(snakemake.params.spots), len(table))
