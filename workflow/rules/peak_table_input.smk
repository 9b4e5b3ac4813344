# Studies entered as a peak table (`peak_table:` in the study): the table, checked when the
# workflow starts, becomes the study's peaks.parquet; every later stage runs on it unchanged.


rule import_peak_table:
    input:
        unpack(peak_table_files),
    output:
        peaks="results/{study}/peaks.parquet",
    log:
        "logs/{study}/import_peak_table.log",
    benchmark:
        "benchmarks/{study}/import_peak_table.tsv"
    wildcard_constraints:
        study=TABLE_RE,
    conda:
        "../../envs/io.yaml"
    params:
        code=script_code("import_peak_table"),
        settings=peak_table_settings,
    script:
        "../scripts/import_peak_table.py"
