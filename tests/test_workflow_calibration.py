"""A study with a few badly stored calibrations runs with the default config (issue 23)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simsflow.io.spectra import Spectrum, write_spectrum
from simsflow.io.tables import write_tsv
from simsflow.simulate.study import mass_list, simulate_entry, truth_tables

from .conftest import copy_workflow, snakemake

pytestmark = pytest.mark.workflow
CHANNEL_NS = 0.05  # the simulator's TDC channel

# 30 spectra: 27 stored 20-300 ppm off (as usual), 3 (sample "far") 1e4-6e4 ppm off
SAMPLES = [
    {"sample": "carbonate", "spots": 9, "powders": {"Li2CO3": 1.0}},
    {"sample": "hydroxide", "spots": 9, "powders": {"LiOH": 1.0}},
    {"sample": "oxide", "spots": 9, "powders": {"Li2O": 1.0}},
    {
        "sample": "far",
        "spots": 3,
        "powders": {"Li2CO3": 1.0},
        "calibration_error_ppm": [1e4, 6e4],
    },
]


def _write_study(workdir: Path) -> pd.DataFrame:
    """Raw exports, sheet and mass list of the study under data/far and config/far; truth."""
    rows, truths = [], []
    for entry in SAMPLES:
        simulated = simulate_entry("lithium", entry, seed=3)
        for spot, spectrum, _, _ in simulated:
            file = f"{entry['sample']}_{spot}.txt"
            write_spectrum(
                workdir / "data" / "far" / file,
                Spectrum(spectrum.mz, spectrum.intensity, spectrum.channel, spectrum.header),
            )
            rows.append({"sample": entry["sample"], "spot": spot, "file": file})
        spots, ions = truth_tables("lithium", entry["sample"], simulated)
        truths.append(ions.merge(spots, on=["study", "sample", "spot"]))
    write_tsv(pd.DataFrame(rows), workdir / "config" / "far" / "samples.tsv")
    write_tsv(
        mass_list("lithium"), workdir / "config" / "far" / "mass_list.tsv", float_format="%.6f"
    )
    with open(workdir / "config" / "config.yaml", "a") as config:
        config.write(
            "  far:\n"
            "    sample_sheet: config/far/samples.tsv\n"
            "    mass_list: config/far/mass_list.tsv\n"
            "    data_dir: data/far\n"
        )
    return pd.concat(truths, ignore_index=True).drop(columns="study")


def test_a_few_badly_stored_calibrations_are_recovered_with_the_default_config(tmp_path):
    workdir = copy_workflow(tmp_path / "wf")
    truth = _write_study(workdir)
    result = snakemake(workdir, "--cores", "2", "results/far/peaks.parquet")
    calibration = pd.read_csv(
        workdir / "results/far/qc/calibration.tsv", sep="\t", dtype={"spot": str}
    )
    assert len(calibration) == 30
    status = calibration.set_index("sample")["status"]
    assert (status.loc["far"] == "recovered").all()
    assert (status.drop(index="far") == "ok").all()
    # stored 1e4-6e4 ppm off at the ends of the mass range, as found by the calibration
    assert calibration.loc[calibration["sample"] == "far", "ppm_before"].between(9e3, 6.1e4).all()
    merged = truth.merge(calibration, on=["sample", "spot"])
    channel = (merged["t0_ns"] + merged["k_ns"] * np.sqrt(merged["mz"])) / CHANNEL_NS
    error = (((merged["a"] * channel + merged["b"]) ** 2 / merged["mz"] - 1) * 1e6).abs()
    # the simulator's peaks span several bins (bin limit 0): <= 10 ppm against the truth, median
    # over each spectrum's ions; measured 0.7-3.6 ppm, the recovered ones 2.8-3.1
    assert (calibration["bin_limit_ppm"] == 0).all()
    per_spectrum = error.groupby([merged["sample"], merged["spot"]]).median()
    assert (per_spectrum <= 10).all()
    peaks = pd.read_parquet(workdir / "results/far/peaks.parquet")
    assert len(peaks) == 30
    assert "3 spectra had a stored calibration beyond search_ppm and were recovered" in (
        result.stderr
    )
