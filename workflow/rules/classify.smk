# Classification (studies with a `classification:` section): cross-validated logistic
# regression, the model as JSON, prediction of unknowns, PCA views and figures.


rule train_classifier:
    input:
        peaks="results/{study}/peaks.parquet",
        mass_list=mass_list_file,
    output:
        model="results/{study}/model/model.json",
        metrics=report(
            "results/{study}/model/cv_metrics.tsv",
            caption="../report/cv_metrics.rst",
            category="{study}",
            subcategory="3 classification",
        ),
        comparison=report(
            "results/{study}/model/scaling_comparison.tsv",
            caption="../report/scaling_comparison.rst",
            category="{study}",
            subcategory="3 classification",
        ),
        scaling_choice=report(
            "results/{study}/model/scaling_choice.tsv",
            caption="../report/scaling_choice.rst",
            category="{study}",
            subcategory="3 classification",
        ),
        confusion="results/{study}/model/confusion.tsv",
        oof="results/{study}/model/oof_predictions.tsv",
        characteristic=report(
            "results/{study}/model/characteristic_ions.tsv",
            caption="../report/characteristic_ions.rst",
            category="{study}",
            subcategory="3 classification",
        ),
    log:
        "logs/{study}/train_classifier.log",
    benchmark:
        "benchmarks/{study}/train_classifier.tsv"
    conda:
        "../../envs/ml.yaml"
    params:
        code=script_code("train_classifier"),
        ions=study_ions,
        settings=classifier_settings,
        compare=compared_scalings,
        config_hash=classification_config_hash,
    script:
        "../scripts/train_classifier.py"


rule predict:
    input:
        model="results/{study}/model/model.json",
        peaks="results/{study}/peaks.parquet",
    output:
        samples=report(
            "results/{study}/predictions.tsv",
            caption="../report/predictions.rst",
            category="{study}",
            subcategory="3 classification",
        ),
        spectra="results/{study}/predictions_spectra.tsv",
    log:
        "logs/{study}/predict.log",
    benchmark:
        "benchmarks/{study}/predict.tsv"
    conda:
        "../../envs/ml.yaml"
    params:
        code=script_code("predict"),
    script:
        "../scripts/predict.py"


rule pca_views:
    input:
        model="results/{study}/model/model.json",
        peaks="results/{study}/peaks.parquet",
    output:
        scores="results/{study}/pca/scores.parquet",
        variance="results/{study}/pca/explained_variance.tsv",
        loadings=report(
            "results/{study}/pca/loadings.tsv",
            caption="../report/loadings.rst",
            category="{study}",
            subcategory="4 PCA",
        ),
        figures=report(
            directory("results/{study}/figures/pca"),
            patterns=["{name}.png"],
            caption="../report/pca_views.rst",
            category="{study}",
            subcategory="4 PCA",
            labels={"figure": "{name}"},
        ),
    log:
        "logs/{study}/pca_views.log",
    benchmark:
        "benchmarks/{study}/pca_views.tsv"
    conda:
        "../../envs/plot.yaml"
    params:
        code=script_code("pca_views"),
        components=pca_components,
        boundaries=decision_boundaries,
    script:
        "../scripts/pca_views.py"


rule classification_figures:
    input:
        confusion="results/{study}/model/confusion.tsv",
        comparison="results/{study}/model/scaling_comparison.tsv",
        characteristic="results/{study}/model/characteristic_ions.tsv",
    output:
        confusion=report(
            "results/{study}/figures/confusion.png",
            caption="../report/confusion.rst",
            category="{study}",
            subcategory="3 classification",
        ),
        comparison=report(
            "results/{study}/figures/scaling_comparison.png",
            caption="../report/scaling_comparison.rst",
            category="{study}",
            subcategory="3 classification",
        ),
        characteristic=report(
            "results/{study}/figures/characteristic_ions.png",
            caption="../report/characteristic_ions.rst",
            category="{study}",
            subcategory="3 classification",
        ),
    log:
        "logs/{study}/classification_figures.log",
    benchmark:
        "benchmarks/{study}/classification_figures.tsv"
    conda:
        "../../envs/plot.yaml"
    params:
        code=script_code("classification_figures"),
    script:
        "../scripts/classification_figures.py"


# drawn only for a study with samples to predict (classification_targets)
rule prediction_figures:
    input:
        predictions="results/{study}/predictions.tsv",
        model="results/{study}/model/model.json",
    output:
        heatmap=report(
            "results/{study}/figures/predictions_heatmap.png",
            caption="../report/predictions.rst",
            category="{study}",
            subcategory="3 classification",
        ),
    log:
        "logs/{study}/prediction_figures.log",
    benchmark:
        "benchmarks/{study}/prediction_figures.tsv"
    conda:
        "../../envs/plot.yaml"
    params:
        code=script_code("prediction_figures"),
    script:
        "../scripts/prediction_figures.py"
