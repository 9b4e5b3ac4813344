# Calibration: per sample, every spot's mass axis fitted to its reference ions.


rule calibrate:
    input:
        spectra=STAGE_FILES["spectra"],
    output:
        calibration=STAGE_FILES["calibration"],
    log:
        "logs/{study}/calibrate/{sample}.log",
    benchmark:
        "benchmarks/{study}/calibrate/{sample}.tsv"
    wildcard_constraints:
        sample=SPECTRUM_RE,
    conda:
        "../../envs/io.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb("calibrate"),
    params:
        code=script_code("calibrate"),
        settings=calibration_settings,
    script:
        "../scripts/calibrate.py"
