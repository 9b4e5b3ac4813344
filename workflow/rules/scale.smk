# Scaling: each scaling method of a study gives a scaled peak table, per-sample statistics and
# box plots.


rule scale:
    input:
        peaks="results/{study}/peaks.parquet",
    output:
        scaled="results/{study}/scaled/{method}.parquet",
    log:
        "logs/{study}/scale/{method}.log",
    conda:
        "../../envs/ml.yaml"
    params:
        code=script_code("scale"),
        steps=scaling_steps,
        ions=study_ions,
    script:
        "../scripts/scale.py"


rule stats:
    input:
        scaled="results/{study}/scaled/{method}.parquet",
    output:
        stats=report(
            "results/{study}/stats/{method}.tsv",
            caption="../report/stats.rst",
            category="{study}",
            subcategory="2 scaling and statistics",
            labels={"table": "statistics", "scaling": "{method}"},
        ),
    log:
        "logs/{study}/stats/{method}.log",
    conda:
        "../../envs/ml.yaml"
    params:
        code=script_code("stats"),
        ions=study_ions,
        groups=ion_groups,
        reference=reference_sample,
    script:
        "../scripts/stats.py"


rule boxplots:
    input:
        scaled="results/{study}/scaled/{method}.parquet",
    output:
        figures=report(
            directory("results/{study}/figures/boxplots/{method}"),
            patterns=["{name}.png"],
            caption="../report/boxplots.rst",
            category="{study}",
            subcategory="2 scaling and statistics",
            labels={"figure": "{name}", "scaling": "{method}"},
        ),
    log:
        "logs/{study}/boxplots/{method}.log",
    conda:
        "../../envs/plot.yaml"
    threads: 2  # figures drawn in parallel processes
    params:
        code=script_code("boxplots"),
        important=important_and_extra,
        groups=ion_groups,
        reference=reference_sample,
    script:
        "../scripts/boxplots.py"
