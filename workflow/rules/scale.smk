# Scaling: each scaling method of a study (those in scaling.statistics, by default all) gives a
# scaled peak table, per-sample statistics and box plots. One job per method does all three: the
# statistics take less time than starting a job, and no other analysis stage reads the scaled
# table (only the archive packs it), so a change to the statistics or the box plots reruns
# nothing else. A method only cross-validated by the classification gets no job.


rule scale:
    input:
        peaks="results/{study}/peaks.parquet",
        mass_list=mass_list_file,
    output:
        scaled="results/{study}/scaled/{method}.parquet",
        stats=report(
            "results/{study}/stats/{method}.tsv",
            caption="../report/stats.rst",
            category="{study}",
            subcategory="2 scaling and statistics",
            labels={"table": "statistics", "scaling": "{method}"},
        ),
        figures=report(
            directory("results/{study}/figures/boxplots/{method}"),
            patterns=["{name}.png"],
            caption="../report/boxplots.rst",
            category="{study}",
            subcategory="2 scaling and statistics",
            labels={"figure": "{name}", "scaling": "{method}"},
        ),
    log:
        "logs/{study}/scale/{method}.log",
    benchmark:
        "benchmarks/{study}/scale/{method}.tsv"
    # The longest job of a study (the box plots): started first, the short ones fill the other
    # cores. One thread packs best on a small machine; with cores to spare
    # `--set-threads scale=4` draws the box plots in 4 processes.
    priority: 1
    conda:
        "../../envs/plot.yaml"
    threads: 1
    params:
        code=script_code("scale"),
        steps=scaling_steps,
        ions=study_ions,
        groups=ion_groups,
        reference=reference_sample,
        boxplots=boxplot_settings,
    script:
        "../scripts/scale.py"
