"""Interrupted runs resume to identical outputs; runs are byte-for-byte deterministic whatever
the number of cores; nothing loads pickles or unsafe YAML."""

import ast
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from .conftest import ROOT, copy_demo_stages, copy_workflow, snakemake, snakemake_env

LITHIUM = [
    "results/lithium/predictions.tsv",
    "results/lithium/pca/scores.parquet",
    "results/lithium/stats/tic_minmax.tsv",
    "results/lithium/stats/total_ion.tsv",
    "results/lithium/figures/boxplots/total_ion",
]
IMAGES = [
    "results/cathode_images/peaks.parquet",
    "results/cathode_images/stats/max_relative.tsv",
    "results/cathode_images/figures/images/img_cycled_uncoated",
]


def _tables(workdir, study):
    root = workdir / "results" / study
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.suffix in {".tsv", ".parquet", ".json", ".png"}
    }


def _assert_same(a: dict, b: dict):
    assert sorted(a) == sorted(b)
    different = [name for name in a if a[name] != b[name]]
    assert different == []


@pytest.mark.workflow
def test_killed_during_the_aggregates_resumes_to_identical_outputs(demo_run, tmp_path):
    # the kill falls in the aggregates, when every per-sample job has ended: the run starts from
    # the demo run's per-sample results instead of making them again
    workdir = copy_demo_stages(demo_run, tmp_path / "wf", "lithium")
    proc = subprocess.Popen(
        [sys.executable, "-m", "snakemake", "--directory", str(workdir), "--cores", "2", *LITHIUM],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=snakemake_env(),
        start_new_session=True,
    )
    marker = workdir / "logs" / "lithium" / "train_classifier.log"
    deadline = time.monotonic() + 900
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before the aggregates started"
    time.sleep(1.0)  # well inside the aggregate jobs
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    snakemake(workdir, "--unlock")
    result = snakemake(workdir, "--cores", "2", "--rerun-incomplete", *LITHIUM)
    assert "Nothing to be done" not in result.stdout + result.stderr
    resumed = _tables(workdir, "lithium")
    reference = {k: v for k, v in _tables(demo_run, "lithium").items() if k in resumed}
    _assert_same(resumed, reference)


@pytest.mark.workflow
def test_outputs_do_not_depend_on_the_number_of_cores(demo_run, tmp_path):
    def run(cores):
        workdir = copy_workflow(tmp_path / f"cores{cores}")
        snakemake(workdir, "--cores", cores, *IMAGES)
        return cores, _tables(workdir, "cathode_images")

    # both runs at once: each Snakemake keeps to its own --cores (one job at a time with 1), and
    # the run with one job at a time no longer leaves the machine's second core idle
    with ThreadPoolExecutor(2) as pool:
        runs = dict(pool.map(run, ("1", "8")))
    _assert_same(runs["1"], runs["8"])
    reference = {k: v for k, v in _tables(demo_run, "cathode_images").items() if k in runs["1"]}
    _assert_same(runs["1"], reference)


UNSAFE_MODULES = {"pickle", "joblib", "cloudpickle", "dill", "shelve", "marshal"}
UNSAFE_CALLS = {"load", "unsafe_load", "full_load", "read_pickle"}  # yaml.*, pandas.read_pickle


def _sources():
    for base in ("workflow", "tests", "benchmarks"):
        yield from sorted(p for p in (ROOT / base).rglob("*") if p.suffix in {".py", ".smk"})
    yield ROOT / "Snakefile"


def _unsafe(tree) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in UNSAFE_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in UNSAFE_MODULES:
                found.append(node.module)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else ""
            if node.func.attr in UNSAFE_CALLS and name in {"yaml", "pd", "pandas"}:
                found.append(f"{name}.{node.func.attr}")
            if (
                node.func.attr == "load"
                and name in {"np", "numpy"}
                and any(k.arg == "allow_pickle" for k in node.keywords)
            ):
                found.append("np.load(allow_pickle=...)")
    return found


def test_no_pickle_no_unsafe_yaml_no_shell_rules():
    checked = 0
    for path in _sources():
        text = path.read_text()
        if path.suffix == ".py":
            assert _unsafe(ast.parse(text)) == [], path
            checked += 1
        else:  # Snakemake files: no shell or run blocks, no unsafe imports
            assert not re.search(r"^\s+(shell|run):", text, re.M), path
            assert not re.search(r"^\s*(import|from)\s+(pickle|joblib|dill)", text, re.M), path
    assert checked > 40
    # the checker itself finds what it must refuse
    assert _unsafe(ast.parse("import pickle\nyaml.load(x)\npd.read_pickle(p)")) == [
        "pickle",
        "yaml.load",
        "pd.read_pickle",
    ]
