"""The SLURM profile on a real one-node SLURM cluster (started on localhost for the test).

Runs the cathode_images demo study through `--profile profiles/slurm` and compares its tables
with the local run's (the session's demo run, `--cores 2`), byte for byte.
"""

import os
import shutil
import subprocess

import pytest

from .conftest import ROOT, copy_workflow, snakemake

pytestmark = [pytest.mark.slurm, pytest.mark.workflow]
RECIPE = ROOT.parent / "shared" / "recipes" / "slurm-localhost.sh"
TARGETS = [
    "results/cathode_images/peaks.parquet",
    "results/cathode_images/scaled/max_relative.parquet",
    "results/cathode_images/stats/max_relative.tsv",
]


def _controller_answers() -> bool:
    if shutil.which("sinfo") is None:
        return False
    try:
        return subprocess.run(["sinfo"], capture_output=True, timeout=60).returncode == 0
    except subprocess.TimeoutExpired:
        return False


@pytest.fixture(scope="module")
def cluster():
    if os.geteuid() != 0 or not RECIPE.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the SLURM test: needs root and {RECIPE}")
        pytest.skip("needs root and ../shared/recipes/slurm-localhost.sh")
    # a cluster that was running stays running: with SLURM's client tools installed and no
    # controller, every Snakemake start waits about 10 s (the SLURM plugin asks scontrol)
    was_running = _controller_answers()
    started = subprocess.run(
        ["bash", str(RECIPE), "start"], capture_output=True, text=True, timeout=900
    )
    assert started.returncode == 0, started.stdout[-2000:] + started.stderr[-2000:]
    assert "debug" in started.stdout
    yield
    if not was_running:
        subprocess.run(["bash", str(RECIPE), "stop"], capture_output=True, timeout=120)


def test_slurm_profile_gives_the_local_results(cluster, demo_run, tmp_path):
    # the local results: the demo run's (tests/test_reliability.py holds these targets, run on
    # their own, to the demo run's bytes)
    local = demo_run
    remote = copy_workflow(tmp_path / "slurm")
    result = snakemake(
        remote,
        "--profile",
        "profiles/slurm",
        "--slurm-init-seconds-before-status-checks",
        "1",
        "--seconds-between-status-checks",
        "1",
        *TARGETS,
    )
    assert "submitted with SLURM jobid" in result.stdout + result.stderr
    for target in TARGETS:
        assert (remote / target).read_bytes() == (local / target).read_bytes(), target
    assert shutil.which("sacct")
