"""Rule simulate_demo_sample: raw SurfaceLab exports and ground truth of one demo sample."""
# ruff: noqa: F821 - Snakemake gives a rule script the `snakemake` object

from simsflow.runlog import logged

with logged(snakemake.log[0]):
    from simsflow.simulate.demo import write_sample

    write_sample(
        snakemake.params.design,
        snakemake.wildcards.sample,
        snakemake.params.seed,
        snakemake.output.raw,
        snakemake.output.truth,
    )
