# Archive for papers: `snakemake --cores 1 archive` packs each study's results, configuration,
# inputs' checksums, report and provenance into archive/<study>-<tag>.tar.gz.


rule archive_study:
    input:
        results=study_results,
    output:
        archive="archive/{study}-{tag}.tar.gz",
    log:
        "logs/{study}/archive-{tag}.log",
    conda:
        "../../envs/io.yaml"
    params:
        code=script_code("archive_study"),
        files=archive_files,
        raw=raw_files,
        include_raw=CONFIG["archive"]["include_raw"],
    script:
        "../scripts/archive_study.py"


rule archive:
    input:
        expand("archive/{study}-{tag}.tar.gz", study=STUDIES, tag=CONFIG["archive"]["tag"]),
