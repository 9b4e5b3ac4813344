# Ion images: pixel-by-pixel scaling of every region into the study's peak table, and figures.


rule pixel_scale:
    input:
        images="results/{study}/images/{sample}.parquet",
    output:
        peaks="results/{study}/peaks/{sample}.parquet",
        qc="results/{study}/qc/imaging/{sample}.tsv",
    log:
        "logs/{study}/pixel_scale/{sample}.log",
    benchmark:
        "benchmarks/{study}/pixel_scale/{sample}.tsv"
    wildcard_constraints:
        sample=IMAGE_RE,
    conda:
        "../../envs/io.yaml"
    params:
        code=script_code("pixel_scale"),
        ions=study_ions,
        settings=imaging_settings,
    script:
        "../scripts/pixel_scale.py"


rule image_figures:
    input:
        images="results/{study}/images/{sample}.parquet",
    output:
        figures=report(
            directory("results/{study}/figures/images/{sample}"),
            patterns=["{name}.png"],
            caption="../report/image_figures.rst",
            category="{study}",
            subcategory="1 images",
            labels=image_figure_labels,
        ),
    log:
        "logs/{study}/image_figures/{sample}.log",
    benchmark:
        "benchmarks/{study}/image_figures/{sample}.tsv"
    wildcard_constraints:
        sample=IMAGE_RE,
    conda:
        "../../envs/plot.yaml"
    params:
        code=script_code("image_figures"),
        settings=imaging_settings,
    script:
        "../scripts/image_figures.py"
