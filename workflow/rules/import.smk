# Import: raw exports of one sample into one Parquet table (spot x data point).


rule import_spectra:
    input:
        raw=raw_inputs,
    output:
        spectra="results/{study}/spectra/{sample}.parquet",
    log:
        "logs/{study}/import/{sample}.log",
    conda:
        "../../envs/io.yaml"
    params:
        code=script_code("import_spectra"),
        spots=sample_spots,
        files=sample_files,
    script:
        "../scripts/import_spectra.py"
