"""Rule predict: class probabilities, composition and flags of the unknown samples."""
# ruff: noqa: F821 - Snakemake gives a rule script the `snakemake` object

from simsflow.runlog import logged

with logged(snakemake.log[0], inputs=snakemake.input) as log:
    from simsflow.classify import predict_unknowns
    from simsflow.io.model import read_model
    from simsflow.io.tables import read_peak_table, write_tsv

    spectra, samples = predict_unknowns(
        read_model(snakemake.input.model), read_peak_table(snakemake.input.peaks)
    )
    if samples.empty:
        log.info(
            "nothing to predict: no spectrum with role predict in the peak table; predictions.tsv "
            "has only its header"
        )
    write_tsv(samples, snakemake.output.samples)
    write_tsv(spectra, snakemake.output.spectra)
