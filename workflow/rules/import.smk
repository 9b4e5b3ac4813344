# Import: raw exports of one sample into one Parquet table (spot x data point). {sample} is the
# sample's slug (its file name); the script gets the sample's id, which the tables hold.


rule import_spectra:
    input:
        raw=raw_inputs,
    output:
        spectra=STAGE_FILES["spectra"],
    log:
        "logs/{study}/import/{sample}.log",
    benchmark:
        "benchmarks/{study}/import/{sample}.tsv"
    wildcard_constraints:
        sample=SPECTRUM_RE,
    conda:
        "../../envs/io.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb("import"),
    params:
        code=script_code("import_spectra"),
        sample=sample_id,
        spots=sample_spots,
        files=sample_files,
        on_error=on_error,
    script:
        "../scripts/import_spectra.py"


rule import_images:
    input:
        raw=raw_inputs,
        mass_list=mass_list_file,
    output:
        images="results/{study}/images/{sample}.parquet",
    log:
        "logs/{study}/import/{sample}.log",
    benchmark:
        "benchmarks/{study}/import_images/{sample}.tsv"
    wildcard_constraints:
        sample=IMAGE_RE,
    conda:
        "../../envs/io.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb("images"),
    params:
        code=script_code("import_images"),
        sample=sample_id,
        spots=sample_spots,
        files=sample_files,
        mass_list=mass_list_records,
    script:
        "../scripts/import_images.py"
