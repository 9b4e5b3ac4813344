"""Calibration and integration in the workflow: the demo against its truth, and own data."""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from simsflow.names import read_index

from .conftest import FIXTURES, copy_workflow, snakemake

IMPORTANT_GROUPS = {"lithium": [], "cathode": ["polysulfide", "SO_y", "PO_y"]}

pytestmark = pytest.mark.workflow
CHANNEL_NS = 0.05  # the simulator's TDC channel


def _errors_vs_truth(workdir, study):
    """|ppm| error of the calibrated axis at every ion's true flight time, per spot and ion."""
    calibration = pd.read_csv(
        workdir / f"results/{study}/qc/calibration.tsv", sep="\t", dtype={"spot": str}
    )
    truth = pd.concat(
        pd.read_parquet(p) for p in sorted((workdir / f"data/demo/{study}/truth").glob("*.parquet"))
    )
    merged = truth.merge(calibration, on=["study", "sample", "spot"])
    channel = (merged["t0_ns"] + merged["k_ns"] * np.sqrt(merged["mz"])) / CHANNEL_NS
    after = ((merged["a"] * channel + merged["b"]) ** 2 / merged["mz"] - 1) * 1e6
    return merged.assign(after=after.abs(), before=merged["stored_error_ppm"].abs())


@pytest.mark.parametrize("study", ["lithium", "cathode"])
def test_demo_calibration_accuracy_against_truth(demo_run, study):
    errors = _errors_vs_truth(demo_run, study)
    assert errors["before"].between(20, 300).all()
    light = errors["ion"] == "H-"
    per_ion = errors[~light].groupby("ion")["after"]
    # every ion but H-, reference or not (issue 27; was: reference ions' median <= 10, the
    # others' <= 20). Measured, worst ion: median 4.2 ppm (lithium, Li3C2O6- at 141 u and Li-),
    # 2.6 (cathode, C-); 95th percentile 8.8 (lithium, Li3C2O6-), 6.1 (cathode, C-)
    assert per_ion.median().max() <= 10
    assert per_ion.quantile(0.95).max() <= 12
    # H- at 1 u: its peak is about one bin wide and its tail reaches the next bin, which
    # moves the apex; the low-mass limit, bounded in mDa (measured: median 23 / 14 ppm,
    # largest 0.05 mDa = 51 ppm)
    h_error_mda = errors.loc[light, "after"] * errors.loc[light, "mz"] * 1e-3
    assert h_error_mda.max() <= 0.1
    calibration = pd.read_csv(demo_run / f"results/{study}/qc/calibration.tsv", sep="\t")
    assert (calibration["status"] == "ok").all()
    # the study's own ions extend the calibration to the top of its mass list (measured: in
    # 100 % of the lithium spectra, 96 % of the cathode ones)
    top = {"lithium": "LiCO3-", "cathode": "LiP2S6-"}[study]
    assert calibration["reference_ions"].str.split(",").map(lambda ions: top in ions).mean() > 0.5


@pytest.mark.parametrize("study", ["lithium", "cathode"])
def test_demo_peak_table_and_qc_outputs(demo_run, study):
    peaks = pd.read_parquet(demo_run / f"results/{study}/peaks.parquet")
    sheet = pd.read_csv(demo_run / f"config/{study}/samples.tsv", sep="\t", dtype=str)
    mass_list = pd.read_csv(demo_run / f"config/{study}/mass_list.tsv", sep="\t")
    assert len(peaks) == len(sheet)
    assert (
        peaks[["sample", "spot"]].astype(str).to_numpy().tolist()
        == sheet[["sample", "spot"]].to_numpy().tolist()
    )
    assert set(mass_list["ion"]) <= set(peaks.columns)
    assert (peaks[mass_list["ion"]].to_numpy() >= 0).all()
    assert (peaks["total_counts"] > peaks[mass_list["ion"]].sum(axis=1)).all()
    for figure in ("calibration_ppm.png", "summed_spectrum.png"):
        assert (demo_run / f"results/{study}/figures/{figure}").stat().st_size > 10_000
    proposed = pd.read_csv(demo_run / f"results/{study}/mass_list.proposed.tsv", sep="\t")
    assert (proposed["lower"].to_numpy()[1:] >= proposed["upper"].to_numpy()[:-1]).all()
    covered = named = 0
    for ion, mz in mass_list[["ion", "mz"]].itertuples(index=False):
        hit = proposed[(proposed["lower"] <= mz) & (proposed["upper"] > mz)]
        if len(hit):
            covered += 1
            candidates = [c.split(" (")[0] for c in str(hit["candidates"].iloc[0]).split("; ")]
            named += ion in candidates
    # the peak search finds every ion of the study, and lists its formula for most of them
    assert covered == len(mass_list)
    assert named >= 0.75 * len(mass_list)


SURFACELAB_MASS_LIST = [
    ["No.", "Center Mass (u)", "Lower Mass (u)", "Upper Mass (u)", "Assignment", "Description"],
    ["total", "nan", "nan", "nan", "nan", "nan"],
    ["1", "12.000549", "11.95", "12.05", "C-", "hydrocarbon"],
    ["2", "15.995463", "15.95", "16.05", "O-", "oxide"],
    ["3", "17.003288", "16.95", "17.05", "OH-", "oxide"],
    ["4", "25.008374", "24.95", "25.07", "C_2H-", "hydrocarbon"],
    ["5", "26.003623", "25.95", "26.07", "CN-", "nitrogen"],
    ["6", "34.969401", "34.90", "35.05", "Cl-", "halide"],
]


def test_own_data_from_folder_to_peak_table_with_the_readme_steps(tmp_path):
    """A new user: a folder of SurfaceLab exports, a SurfaceLab mass list, three steps."""
    workdir = copy_workflow(tmp_path / "wf")
    data = workdir / "data" / "rupt"
    data.mkdir(parents=True)
    for polarity in ("N", "P"):
        raw = (FIXTURES / "iontof-ascii" / f"{polarity}_Ru-Pt_Bi3_1.txt").read_bytes()
        for spot in (1, 2):
            (data / f"{polarity}_RuPt_{spot}.txt").write_bytes(raw)
    # step 1: the sheet from the folder
    env = {**os.environ, "PYTHON": sys.executable}
    subprocess.run(
        [
            str(workdir / "bin" / "simsflow"),
            "sheet",
            "data/rupt",
            "--out",
            "config/rupt/samples.tsv",
            "--polarity",
            "negative",
            "--pattern",
            r"(?P<polarity>[PN])_(?P<sample>.+)_(?P<spot>\d+)",
        ],
        cwd=workdir,
        check=True,
        env=env,
        capture_output=True,
    )
    # step 2: the mass list (as SurfaceLab exports it) and the study in the config
    (workdir / "config/rupt/mass_list.tsv").write_text(
        "\r\n".join("\t".join(row) for row in SURFACELAB_MASS_LIST) + "\r\n"
    )
    with open(workdir / "config" / "config.yaml", "a") as config:
        config.write(
            "  rupt:\n"
            "    sample_sheet: config/rupt/samples.tsv\n"
            "    mass_list: config/rupt/mass_list.tsv\n"
            "    data_dir: data/rupt\n"
        )
    # step 3: run
    snakemake(workdir, "--cores", "2", "results/rupt/peaks.parquet")
    peaks = pd.read_parquet(workdir / "results/rupt/peaks.parquet")
    assert peaks["spot"].tolist() == ["1", "2"]
    assert peaks["polarity"].unique().tolist() == ["negative"]
    for ion in ("C-", "O-", "OH-", "C2H-", "CN-", "Cl-"):
        assert (peaks[ion] > 1000).all(), ion
    calibration = pd.read_csv(workdir / "results/rupt/qc/calibration.tsv", sep="\t")
    assert (calibration["status"] == "ok").all()
    assert calibration["ppm_after"].notna().all()


@pytest.mark.parametrize(
    ("study", "methods"),
    [("lithium", ["tic_minmax", "total_ion"]), ("cathode", ["NiO2", "tic_maxrel", "total_ion"])],
)
def test_demo_scaled_tables_statistics_and_boxplots(demo_run, study, methods):
    mass_list = pd.read_csv(demo_run / f"config/{study}/mass_list.tsv", sep="\t")
    peaks = pd.read_parquet(demo_run / f"results/{study}/peaks.parquet")
    for method in methods:
        scaled = pd.read_parquet(demo_run / f"results/{study}/scaled/{method}.parquet")
        assert len(scaled) == len(peaks)
        assert not scaled[mass_list["ion"]].isna().any().any()
        stats = pd.read_csv(demo_run / f"results/{study}/stats/{method}.tsv", sep="\t")
        assert len(stats) == peaks["sample"].nunique() * len(mass_list)
        figures = demo_run / f"results/{study}/figures/boxplots/{method}"
        # by default: a figure per important ion (cathode: the ions of its important groups;
        # lithium, 29 ions: every ion but contamination), none in extra/, and a figure per
        # group of the mass list holding every ion
        main = sorted(p.stem for p in figures.glob("*.png") if not p.stem.startswith("group_"))
        groups = mass_list["group"].fillna("")
        important = mass_list.loc[
            groups.isin(IMPORTANT_GROUPS[study])
            if IMPORTANT_GROUPS[study]
            else groups != "contamination",
            "ion",
        ]
        assert main == sorted(important)
        assert not (figures / "extra").exists()
        index = read_index(figures / "names.tsv")
        drawn = set(index.loc[index["kind"] == "group", "name"])
        assert drawn == {g or "ungrouped" for g in groups}
    if study == "cathode":
        stats = pd.read_csv(demo_run / "results/cathode/stats/tic_maxrel.tsv", sep="\t")
        assert (stats.loc[stats["sample"] == "uncycled", "rel_diff_pct"] == 0).all()
        # oxygenated fragments grow on cycling: SO3- of the uncoated cycled cathode is far up
        so3 = stats[(stats["ion"] == "SO3-") & (stats["sample"] == "cycled_uncoated")]
        assert so3["rel_diff_pct"].iloc[0] > 200


def test_scaling_config_errors_stop_before_any_job(tmp_path):
    workdir = copy_workflow(tmp_path / "wf")
    overlay = workdir / "bad.yaml"
    overlay.write_text(
        "studies:\n  cathode:\n    scaling:\n      methods:\n"
        "        ref: [{method: reference_ion, ion: Xx-}]\n"
    )
    result = snakemake(workdir, "-n", "--configfile", str(overlay), check=False)
    assert (
        "column 'studies.cathode.scaling.methods.ref': reference ion 'Xx-' is not in the mass list"
        " (left out)" in result.stderr
    )
    # the study is left out before any job (none of its jobs is planned); the others are, and
    # rule configuration_errors, planned last, ends a real run non-zero naming it
    assert "results/cathode/" not in result.stdout
    assert "results/lithium/peaks.parquet" in result.stdout
    assert "results/configuration_errors.txt" in result.stdout
