"""integration.method auto through the workflow: the fit's QC columns, the figure, and isolated
ions exactly as interval integration gives them."""

import pandas as pd
import pytest

from simsflow.calibrate import calibrated_spots
from simsflow.integrate import FIT_NOTE_COLUMNS, IntegrationSettings, integrate_sample
from simsflow.io.batches import sample_provenance
from simsflow.spots import read_spectra

from .conftest import copy_demo_stages, snakemake

pytestmark = pytest.mark.workflow


def test_lithium_demo_with_method_auto(demo_run, tmp_path):
    # the demo run's imported and calibrated spectra (the integration method changes neither):
    # every integration job, the peak table and the figure run again with method auto
    workdir = copy_demo_stages(demo_run, tmp_path / "wf", "lithium", ("spectra", "calibration"))
    overlay = workdir / "fit.yaml"
    overlay.write_text("studies:\n  lithium:\n    integration:\n      method: auto\n")
    targets = ["results/lithium/peaks.parquet", "results/lithium/figures/fitted_clusters.png"]
    snakemake(workdir, "--cores", "2", *targets, "--configfile", str(overlay))
    assert (workdir / targets[1]).stat().st_size > 10_000
    qc = pd.read_csv(workdir / "results/lithium/qc/integration.tsv", sep="\t", dtype=str)
    assert list(qc.columns) == FIT_NOTE_COLUMNS
    fitted = qc[qc["issue"] == "fitted"]
    assert set(fitted["cluster"]) == {"O-|NH2-", "C2-|LiOH-"}
    assert (fitted["se"].astype(float) > 0).all()
    # isolated ions: the interval areas, to the bit
    peaks = pd.read_parquet(workdir / targets[0])
    sample = peaks["sample"].iloc[0]
    spectra_file = workdir / f"results/lithium/spectra/{sample}.parquet"
    calibration = pd.read_parquet(workdir / f"results/lithium/calibration/{sample}.parquet")
    assert list(calibrated_spots(read_spectra(spectra_file), calibration))
    provenance = sample_provenance(spectra_file)[0]
    mass_list = pd.read_csv(workdir / "config/lithium/mass_list.tsv", sep="\t")
    interval, _ = integrate_sample(
        read_spectra(spectra_file),
        calibration,
        mass_list,
        provenance,
        IntegrationSettings(deadtime_shots=1_500_000),
    )
    mine = peaks[peaks["sample"] == sample].reset_index(drop=True)
    isolated = [i for i in mass_list["ion"] if i not in {"O-", "NH2-", "C2-", "LiOH-"}]
    pd.testing.assert_frame_equal(mine[isolated], interval[isolated])
