# Integration: per sample, peak areas over the mass list; then the study's peak table, and its
# summed spectrum with QC figures and a proposed mass list from a peak search. A study with
# `mass_list: auto` (or none) first has its list proposed from its calibrated spectra
# (checkpoint propose_mass_list); the jobs that read the list wait for it.


checkpoint propose_mass_list:
    input:
        spectra=spectrum_results("spectra"),
        calibration=spectrum_results("calibration"),
    output:
        mass_list="results/{study}/mass_list.auto.tsv",
    log:
        "logs/{study}/propose_mass_list.log",
    benchmark:
        "benchmarks/{study}/propose_mass_list.tsv"
    wildcard_constraints:
        study=AUTO_STUDIES,
    conda:
        "../../envs/io.yaml"
    params:
        code=script_code("propose_mass_list"),
        polarity=study_polarity,
        settings=peak_search_settings,
    script:
        "../scripts/propose_mass_list.py"


rule integrate:
    input:
        spectra=STAGE_FILES["spectra"],
        calibration=STAGE_FILES["calibration"],
        mass_list=mass_list_file,
    output:
        peaks=STAGE_FILES["peaks"],
        summed=STAGE_FILES["summed"],
        qc=STAGE_FILES["qc"],
    log:
        "logs/{study}/integrate/{sample}.log",
    benchmark:
        "benchmarks/{study}/integrate/{sample}.tsv"
    wildcard_constraints:
        sample=SPECTRUM_RE,
    conda:
        "../../envs/io.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb("integrate"),
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
        names="results/{study}/names.tsv",
    log:
        "logs/{study}/peak_table.log",
    benchmark:
        "benchmarks/{study}/peak_table.tsv"
    wildcard_constraints:
        study=RAW_RE,
    conda:
        "../../envs/io.yaml"
    params:
        code=script_code("peak_table"),
        sheet=sheet_records,
        samples=sample_order,
        slugs=sample_slugs,
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
        mass_list=mass_list_file,
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
    benchmark:
        "benchmarks/{study}/spectrum_qc.tsv"
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


# With integration method fit or auto: one figure of the fitted clusters of overlapping peaks
# (the first spectra of the study's first spectrum sample), refitted here as the integration did.
rule fitted_clusters:
    input:
        spectra=first_spectrum_file("spectra"),
        calibration=first_spectrum_file("calibration"),
        mass_list=mass_list_file,
    output:
        figure=report(
            "results/{study}/figures/fitted_clusters.png",
            caption="../report/fitted_clusters.rst",
            category="{study}",
            subcategory="1 calibration and integration",
        ),
    log:
        "logs/{study}/fitted_clusters.log",
    benchmark:
        "benchmarks/{study}/fitted_clusters.tsv"
    conda:
        "../../envs/plot.yaml"
    params:
        code=script_code("fitted_clusters"),
        sample=first_spectrum_sample,
        spectra=3,
        mass_list=mass_list_records,
        settings=integration_settings,
    script:
        "../scripts/fitted_clusters.py"
