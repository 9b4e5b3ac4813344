"""Rule peak_search: a proposed mass list from the study's summed spectrum."""

from simsflow.runlog import logged

with logged(snakemake.log[0]) as log:
    import pandas as pd

    from simsflow.io.tables import write_tsv
    from simsflow.peaksearch import propose_mass_list

    summed = pd.read_parquet(snakemake.input.summed)
    proposed = propose_mass_list(
        summed["mz"].to_numpy(),
        summed["counts"].to_numpy(),
        polarity=snakemake.params.polarity,
        **snakemake.params.settings,
    )
    write_tsv(proposed, snakemake.output.proposed, float_format="%.6f")
    log.info("proposed %d intervals", len(proposed))
