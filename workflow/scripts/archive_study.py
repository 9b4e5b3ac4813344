"""Rule archive_study: one study's archive with manifest, provenance and RO-Crate metadata."""
# ruff: noqa: F821 - Snakemake gives a rule script the `snakemake` object

from simsflow.runlog import logged

with logged(snakemake.log[0]) as log:
    from pathlib import Path

    from simsflow.archive import collect, write_tar

    if not Path("results/report.html").is_file() and not Path("results/report.zip").is_file():
        log.warning("no results/report.html: run `snakemake --report results/report.html` first")
    members = collect(
        Path.cwd(),
        snakemake.wildcards.study,
        snakemake.params.files,
        snakemake.params.raw,
        snakemake.params.include_raw,
        snakemake.wildcards.tag,
    )
    write_tar(snakemake.output.archive, members)
    log.info("archived %d files", len(members))
