"""Shared test helpers: project paths, schemas, and a fresh copy of the workflow to run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from simsflow.config import load_schema

from .browser import find_chromium

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SCHEMAS = ROOT / "workflow" / "schemas"
WORKFLOW_FILES = ("Snakefile", "config", "workflow", "envs", "profiles", "bin")


def pytest_collection_modifyitems(config, items):
    """The SLURM test last: it leaves the SLURM client tools installed and stops the controller,
    and from then on every Snakemake start waits about 9 s for it (the SLURM executor plugin
    runs ``scontrol show config`` when Snakemake loads its plugins)."""
    items.sort(key=lambda item: item.get_closest_marker("slurm") is not None)


@pytest.fixture(scope="session")
def config_schema():
    return load_schema(SCHEMAS / "config.schema.yaml")


@pytest.fixture(scope="session")
def sheet_schema():
    return load_schema(SCHEMAS / "samples.schema.yaml")


@pytest.fixture(scope="session")
def mass_schema():
    return load_schema(SCHEMAS / "mass_list.schema.yaml")


def copy_workflow(dest: Path) -> Path:
    """A copy of the workflow (code, config, envs, profiles) without data or results."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / name)
    return dest


# a study's per-sample stages (import, calibration, integration: one file per sample each, in a
# folder of results/<study> each); the aggregates (peak table, scaling, model, predictions, PCA,
# figures) write everything else
PER_SAMPLE_STAGES = ("spectra", "calibration", "peaks", "summed", "qc/integration")


def copy_demo_stages(demo_run: Path, dest: Path, study: str, stages=PER_SAMPLE_STAGES) -> Path:
    """A fresh copy of the workflow (``copy_workflow``) holding what the session's demo run made
    for ``study`` that a test would otherwise make again: the simulated exports, the per-sample
    ``stages`` and Snakemake's records of them (so that Snakemake takes them as up to date and
    reruns a stage only where the test's config changes it). No aggregate output, no log."""
    workdir = copy_workflow(dest)
    shutil.copytree(demo_run / "data" / "demo" / study, workdir / "data" / "demo" / study)
    shutil.copytree(demo_run / ".snakemake" / "metadata", workdir / ".snakemake" / "metadata")
    for stage in stages:
        src = demo_run / "results" / study / stage
        if src.is_dir():
            shutil.copytree(src, workdir / "results" / study / stage)
    return workdir


def snakemake_env() -> dict[str, str]:
    """The environment a test gives the Snakemake it starts: this one without the
    ``SNAKEMAKE_*`` variables (a caller's SNAKEMAKE_PROFILE, or the variables of a Snakemake job
    the tests themselves run in, would change how the run behaves)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SNAKEMAKE")}


# what a Python warning printed by a job says; pyproject.toml makes it an error in-process
UNWANTED_WARNINGS = ("ConvergenceWarning",)


def logs_with_unwanted_warnings(workdir: Path) -> list[str]:
    """``file: line`` of each line of the job logs under ``workdir``/logs that names one of
    ``UNWANTED_WARNINGS`` (a rule script's warnings go to its log: simsflow.runlog.logged)."""
    found = []
    for log in sorted((workdir / "logs").rglob("*.log")):
        for line in log.read_text(errors="replace").splitlines():
            if any(warning in line for warning in UNWANTED_WARNINGS):
                found.append(f"{log.relative_to(workdir)}: {line.strip()}")
    return found


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run Snakemake in a subprocess in ``workdir`` (as a user would, with its profile).

    Whatever ``check`` says, the run fails the test when a job's log or Snakemake's own output
    shows one of ``UNWANTED_WARNINGS``."""
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--directory", str(workdir), *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        env=snakemake_env(),
        timeout=1800,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    found = logs_with_unwanted_warnings(workdir)
    found += [
        f"snakemake's output: {line.strip()}"
        for line in (result.stdout + result.stderr).splitlines()
        if any(warning in line for warning in UNWANTED_WARNINGS)
    ]
    if found:
        raise AssertionError(f"snakemake {' '.join(args)} warned:\n" + "\n".join(found))
    return result


@pytest.fixture(scope="session")
def chromium():
    """Debian's headless chromium, for the tests that open a report in a browser
    (tests/browser.py)."""
    path = find_chromium()
    if path is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """The shipped demo, run once for the session on a fresh copy: `snakemake --cores 2`."""
    workdir = copy_workflow(tmp_path_factory.mktemp("demo"))
    snakemake(workdir, "--cores", "2")
    return workdir


# A Snakefile that reads the project's and writes down the rules Snakemake made of it. Asking
# Snakemake (not a regex over the rule files) also finds the rules made in a loop without a
# `rule <name>:` line, such as one batch rule per sheet batch.
LIST_RULES = """
include: {snakefile!r}


import json

with open("rules.json", "w") as out:
    json.dump(
        [[r.name, r.script, r.conda_env, r.benchmark and str(r.benchmark)] for r in workflow.rules],
        out,
    )
"""


@pytest.fixture(scope="session")
def project_rules(tmp_path_factory):
    """(rule, script file name, env file name, benchmark path) of every rule Snakemake makes of
    the project with the .test configuration (whose sheet has two batches); None where a rule has
    none (the target rule `all` has neither script nor env)."""
    workdir = tmp_path_factory.mktemp("rules")
    shutil.copytree(ROOT / ".test" / "config", workdir / "config")
    (workdir / "Snakefile").write_text(LIST_RULES.format(snakefile=str(ROOT / "Snakefile")))
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--list-rules"],
        cwd=workdir,
        capture_output=True,
        text=True,
        env=snakemake_env(),
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return [
        (name, script and Path(script).name, conda and Path(conda).name, benchmark)
        for name, script, conda, benchmark in json.loads((workdir / "rules.json").read_text())
    ]
