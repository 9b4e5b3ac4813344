# Calibration: per sample, every spot's mass axis fitted to its reference ions.


rule calibrate:
    input:
        spectra="results/{study}/spectra/{sample}.parquet",
    output:
        calibration="results/{study}/calibration/{sample}.parquet",
    log:
        "logs/{study}/calibrate/{sample}.log",
    benchmark:
        "benchmarks/{study}/calibrate/{sample}.tsv"
    wildcard_constraints:
        sample=SPECTRUM_RE,
    conda:
        "../../envs/io.yaml"
    params:
        code=script_code("calibrate"),
        settings=calibration_settings,
    script:
        "../scripts/calibrate.py"
