"""Studies entered as peak tables (wide with m/z headers, transposed with a sample sheet) run
through the workflow to stats, classification and the PCA report, and into the report, where
headless Chromium shows every figure of theirs."""

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from simsflow.plots.boxplots import PANELS_PER_PAGE

from .browser import report_figures_rendered
from .conftest import ROOT, copy_workflow, snakemake
from .helpers import simulated_counts

pytestmark = pytest.mark.workflow
COMPOUNDS = ["Li2CO3", "Li2O", "Li3N", "LiH", "LiOH"]
N_IONS = len(pd.read_csv(ROOT / "config/lithium/mass_list.tsv", sep="\t"))
CONFIG = """\
studies:
  wide:
    peak_table: config/wide/peaks.csv
    mass_list: config/wide/mass_list.tsv
    classification: {folds: 5}
    pca: {colour_by: label, pairs: [[PC1, PC2], [PC1, PC3]]}
  transposed:
    peak_table: config/transposed/peaks.tsv
    sample_sheet: config/transposed/samples.tsv
    classification: {folds: 5}
    pca: {scaling: [{method: poisson}], colour_by: group}
"""


@pytest.fixture(scope="module")
def table_run(tmp_path_factory):
    workdir = copy_workflow(tmp_path_factory.mktemp("tables"))
    mass_list = pd.read_csv(ROOT / "config/lithium/mass_list.tsv", sep="\t")
    ions = mass_list["ion"].tolist()
    entries = {c: {"powders": {c: 1.0}, "spots": 6} for c in COMPOUNDS}
    entries["mix"] = {"powders": {"Li2CO3": 0.5, "LiOH": 0.5}, "spots": 3, "role": "predict"}
    entries["mix"]["label"] = ""
    peaks = simulated_counts("lithium", entries, ions, seed=4)
    peaks["group"] = peaks["role"]
    (workdir / "config/wide").mkdir()
    (workdir / "config/transposed").mkdir()
    (workdir / "config/wide/mass_list.tsv").write_text(
        (ROOT / "config/lithium/mass_list.tsv").read_text()
    )
    mz = dict(zip(mass_list["ion"], mass_list["mz"], strict=True))
    wide = peaks.drop(columns=["study"]).rename(columns={i: f"m/z {mz[i]:.3f}" for i in ions})
    wide.to_csv(workdir / "config/wide/peaks.csv", index=False)
    transposed = peaks.set_index(peaks["sample"] + "/" + peaks["spot"])[ions].T
    transposed.insert(0, "m/z", [f"{mz[i]:.4f}" for i in ions])
    transposed.to_csv(workdir / "config/transposed/peaks.tsv", sep="\t", index=False)
    sheet = peaks[["sample", "spot", "role", "label", "group"]]
    sheet.to_csv(workdir / "config/transposed/samples.tsv", sep="\t", index=False)
    (workdir / "config/config.yaml").write_text(CONFIG)
    snakemake(workdir, "--cores", "2")
    return workdir


@pytest.mark.parametrize(("study", "layout"), [("wide", "wide"), ("transposed", "transposed")])
def test_the_layout_is_detected_and_logged(table_run, study, layout):
    log = (table_run / f"logs/{study}/import_peak_table.log").read_text()
    assert f"{layout} layout, 33 spectra x {N_IONS} ions" in log


@pytest.mark.parametrize("study", ["wide", "transposed"])
def test_a_peak_table_study_runs_to_stats_classification_and_pca_report(table_run, study):
    results = table_run / "results" / study
    assert not (results / "spectra").exists()  # no raw-file stage ran
    peaks = pd.read_parquet(results / "peaks.parquet")
    assert len(peaks) == 33
    stats = pd.read_csv(results / "stats/total_ion.tsv", sep="\t")
    assert len(stats) == 6 * N_IONS  # samples x ions
    model = json.loads((results / "model/model.json").read_text())
    choice = pd.read_csv(results / "model/scaling_choice.tsv", sep="\t")
    assert model["scaling_choice"]["chosen"] == choice.loc[choice["chosen"], "scaling"].item()
    predictions = pd.read_csv(results / "predictions.tsv", sep="\t").set_index("sample")
    top = predictions.loc["mix", [f"p_{c}" for c in COMPOUNDS]].nlargest(2).index
    assert set(top) == {"p_Li2CO3", "p_LiOH"}
    variance = pd.read_csv(results / "pca/report/explained_variance.tsv", sep="\t")
    assert variance["component"].tolist() == ["PC1", "PC2", "PC3", "PC4", "PC5"]
    loadings = pd.read_csv(results / "pca/report/loadings.tsv", sep="\t")
    assert loadings.columns[:3].tolist() == ["ion", "mz", "group"]
    figures = {p.name for p in (results / "figures/pca_report").glob("*")}
    assert {"scree.png", "scores_PC1_PC2.png", "loading_spectrum_PC1.png"} <= figures


@pytest.fixture(scope="module")
def table_report(table_run):
    snakemake(table_run, "--report", "results/report.html")
    return table_run / "results/report.html"


def test_every_figure_of_the_table_studies_is_in_the_report(table_run, table_report):
    embedded = set(re.findall(r"filename=([^;]+);base64", table_report.read_text()))
    produced = {p.name for p in (table_run / "results").glob("*/figures/**/*.png")}
    assert {"scree.png", "biplot_PC1_PC3.png"} <= produced <= embedded


# (subcategory, figure path under results/<study>/figures) the browser must show for each study
PCA_REPORT = ["scree", "scores_PC1_PC2", "loading_spectrum_PC1", "loadings_PC1", "biplot_PC1_PC2"]
CLASSIFICATION = ["confusion", "characteristic_ions", "scaling_comparison", "predictions_heatmap"]
SHOWN = [("5 PCA report", f"pca_report/{name}.png") for name in PCA_REPORT] + [
    ("3 classification", f"{name}.png") for name in CLASSIFICATION
]


def test_the_table_studies_figures_open_in_the_browser_tested_report(
    chromium, table_run, table_report, tmp_path
):
    shown = report_figures_rendered(chromium, table_report, ["wide", "transposed"], tmp_path)
    assert [f["path"] for f in shown if f["error"] or not f["png"] or not f["width"]] == []
    for study in ("wide", "transposed"):
        figures = table_run / "results" / study / "figures"
        produced = {str(p.relative_to(table_run)) for p in figures.glob("**/*.png")}
        subcategory = {f["path"]: f["subcategory"] for f in shown if f["category"] == study}
        assert set(subcategory) == produced  # each figure, under the study's own category
        for sub, name in SHOWN:
            assert subcategory[f"results/{study}/figures/{name}"] == sub
        boxplots = [p for p in subcategory if p.startswith(f"results/{study}/figures/boxplots/")]
        # the defaults for a list of at most 30 ions: a figure per group and one per ion
        # outside the group 'contamination'; the transposed study has no mass list, so its
        # ions are named by their m/z and are all in one group
        masses = pd.read_csv(ROOT / "config/lithium/mass_list.tsv", sep="\t")
        if study == "transposed":
            masses = masses.assign(ion=[f"m{m:.4f}" for m in masses["mz"]], group="ungrouped")
        ions = masses.loc[masses["group"] != "contamination", "ion"]
        pages = {  # PANELS_PER_PAGE panels a page: 'group_g.png', 'group_g_2.png'...
            f"group_{g}{'' if k == 0 else f'_{k + 1}'}.png"
            for g, n in masses["group"].value_counts().items()
            for k in range(-(-n // PANELS_PER_PAGE))
        }
        expected = pages | {f"{i}.png" for i in ions}
        assert {Path(p).name for p in boxplots} == expected
        assert {subcategory[p] for p in boxplots} == {"2 scaling and statistics"}
