# PCA report (studies with a `pca:` section): the study's spectra scaled by a chosen chain,
# mean-centred and decomposed; tables and figures for the report.


rule pca_report:
    input:
        peaks="results/{study}/peaks.parquet",
    output:
        scores="results/{study}/pca/report/scores.parquet",
        loadings=report(
            "results/{study}/pca/report/loadings.tsv",
            caption="../report/pca_report_tables.rst",
            category="{study}",
            subcategory="5 PCA report",
            labels={"table": "loadings"},
        ),
        variance=report(
            "results/{study}/pca/report/explained_variance.tsv",
            caption="../report/pca_report_tables.rst",
            category="{study}",
            subcategory="5 PCA report",
            labels={"table": "explained variance"},
        ),
        figures=report(
            directory("results/{study}/figures/pca_report"),
            patterns=["{name}.png"],
            caption="../report/pca_report.rst",
            category="{study}",
            subcategory="5 PCA report",
            labels={"figure": "{name}"},
        ),
    log:
        "logs/{study}/pca_report.log",
    benchmark:
        "benchmarks/{study}/pca_report.tsv"
    conda:
        "../../envs/plot.yaml"
    params:
        code=script_code("pca_report"),
        settings=pca_settings,
        mass_list=mass_list_records,
    script:
        "../scripts/pca_report.py"
