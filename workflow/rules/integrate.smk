# Integration: per sample, peak areas over the mass list; then the study's peak table, and its
# summed spectrum with QC figures and a proposed mass list from a peak search.


rule integrate:
    input:
        spectra="results/{study}/spectra/{sample}.parquet",
        calibration="results/{study}/calibration/{sample}.parquet",
        mass_list=mass_list_file,
    output:
        peaks="results/{study}/peaks/{sample}.parquet",
        summed="results/{study}/summed/{sample}.parquet",
        qc="results/{study}/qc/integration/{sample}.tsv",
    log:
        "logs/{study}/integrate/{sample}.log",
    wildcard_constraints:
        sample=SPECTRUM_RE,
    conda:
        "../../envs/io.yaml"
    params:
        code=script_code("integrate"),
        mass_list=mass_list_records,
        settings=integration_settings,
    script:
        "../scripts/integrate.py"


rule peak_table:
    input:
        peaks=spectrum_results("peaks"),
        image_peaks=per_sample("results/{study}/peaks/{sample}.parquet", "image"),
        spectra=spectrum_results("spectra"),
        calibration=spectrum_results("calibration"),
        qc=spectrum_results("qc"),
        imaging_qc=per_sample("results/{study}/qc/imaging/{sample}.tsv", "image"),
    output:
        peaks="results/{study}/peaks.parquet",
        calibration=report(
            "results/{study}/qc/calibration.tsv",
            caption="../report/calibration_table.rst",
            category="{study}",
            subcategory="1 calibration and integration",
        ),
        qc="results/{study}/qc/integration.tsv",
        imaging_qc="results/{study}/qc/imaging.tsv",
        skipped="results/{study}/qc/skipped.tsv",
    log:
        "logs/{study}/peak_table.log",
    wildcard_constraints:
        study=RAW_RE,
    conda:
        "../../envs/io.yaml"
    params:
        code=script_code("peak_table"),
        sheet=sheet_records,
        samples=sample_order,
    script:
        "../scripts/peak_table.py"


# One job for the summed spectrum, the peak search on it and the two QC figures: each is too
# small to be worth a job of its own (Python, Snakemake's script preamble and the imports cost
# more than summing, the peak search or one figure), and no analysis stage reads these outputs
# (only the archive packs them), so a change to one of them reruns only this job.
rule spectrum_qc:
    input:
        summed=spectrum_results("summed"),
        calibration="results/{study}/qc/calibration.tsv",
    output:
        summed="results/{study}/summed.parquet",
        proposed="results/{study}/mass_list.proposed.tsv",
        ppm=report(
            "results/{study}/figures/calibration_ppm.png",
            caption="../report/calibration_ppm.rst",
            category="{study}",
            subcategory="1 calibration and integration",
        ),
        spectrum=report(
            "results/{study}/figures/summed_spectrum.png",
            caption="../report/summed_spectrum.rst",
            category="{study}",
            subcategory="1 calibration and integration",
        ),
    log:
        "logs/{study}/spectrum_qc.log",
    conda:
        "../../envs/plot.yaml"
    params:
        code=script_code("spectrum_qc"),
        samples=sample_order,
        mass_list=mass_list_records,
        polarity=study_polarity,
        settings=peak_search_settings,
    script:
        "../scripts/spectrum_qc.py"
