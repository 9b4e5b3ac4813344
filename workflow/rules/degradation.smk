# Degradation (studies with a `degradation:` section): PCA, degradation, pathway and
# electrochemical scores, radar charts.


rule degradation:
    input:
        peaks="results/{study}/peaks.parquet",
        rate_test=rate_test_input,
    output:
        scores=report(
            "results/{study}/degradation/scores.tsv",
            caption="../report/degradation_scores.rst",
            category="{study}",
            subcategory="5 degradation",
        ),
        spot_scores="results/{study}/degradation/spot_scores.tsv",
        anchors_scores="results/{study}/pca/anchors/scores.parquet",
        anchors_variance="results/{study}/pca/anchors/explained_variance.tsv",
        loadings=report(
            "results/{study}/pca/anchors/loadings.tsv",
            caption="../report/degradation_loadings.rst",
            category="{study}",
            subcategory="5 degradation",
        ),
        all_scores="results/{study}/pca/all/scores.parquet",
        all_variance="results/{study}/pca/all/explained_variance.tsv",
    log:
        "logs/{study}/degradation.log",
    benchmark:
        "benchmarks/{study}/degradation.tsv"
    conda:
        "../../envs/ml.yaml"
    params:
        code=script_code("degradation"),
        ions=study_ions,
        groups=ion_groups,
        settings=degradation_settings,
    script:
        "../scripts/degradation.py"


rule degradation_figures:
    input:
        scores="results/{study}/degradation/scores.tsv",
        anchors_scores="results/{study}/pca/anchors/scores.parquet",
        anchors_variance="results/{study}/pca/anchors/explained_variance.tsv",
        loadings="results/{study}/pca/anchors/loadings.tsv",
        all_scores="results/{study}/pca/all/scores.parquet",
        all_variance="results/{study}/pca/all/explained_variance.tsv",
    output:
        figures=report(
            directory("results/{study}/figures/degradation"),
            patterns=["{name}.png"],
            caption="../report/degradation_figures.rst",
            category="{study}",
            subcategory="5 degradation",
            labels={"figure": "{name}"},
        ),
    log:
        "logs/{study}/degradation_figures.log",
    benchmark:
        "benchmarks/{study}/degradation_figures.tsv"
    conda:
        "../../envs/plot.yaml"
    params:
        code=script_code("degradation_figures"),
        pairs=score_pairs,
        radar=radar_axes,
    script:
        "../scripts/degradation_figures.py"
