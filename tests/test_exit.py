"""A job's process exits as soon as its work is done (no last garbage collection over objects
the operating system frees anyway); Snakemake's own process and its internals are left alone."""

import ast
import os
import pkgutil
import re
import subprocess
import sys

import pytest
import snakemake

from .badinputs import build
from .conftest import ROOT, copy_workflow, snakemake_env

SCRIPTS = ROOT / "workflow" / "scripts"


def _freeze_count_at_exit(body: str, tmp_path) -> int:
    """Run ``body`` in a fresh interpreter; the number of objects frozen out of the garbage
    collector when the interpreter exits (an exit handler registered first runs last)."""
    script = (
        f"import atexit, gc, sys\natexit.register(lambda: print(gc.get_freeze_count()))\n{body}\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "job.log")],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(SCRIPTS)},
    )
    return int(result.stdout.split()[-1])


def test_a_job_exits_without_a_last_garbage_collection(tmp_path):
    job = "from simsflow.runlog import logged\nwith logged(sys.argv[1]):\n    import pandas"
    assert _freeze_count_at_exit(job, tmp_path) > 10_000
    # without logged() the interpreter collects at exit, as always
    assert _freeze_count_at_exit("import pandas", tmp_path) == 0


# Snakemake's modules the project may import: the documented public ones only
PUBLIC_SNAKEMAKE = {"snakemake", "snakemake.utils"}
IMPORT = re.compile(r"^\s*(?:from|import)\s+(snakemake(?:\.\w+)*)", re.M)


def _project_files():
    yield ROOT / "Snakefile"
    yield from (ROOT / "workflow" / "rules").glob("*.smk")
    for folder in ("workflow", "tests", "benchmarks", "bin"):
        yield from (p for p in (ROOT / folder).rglob("*.py") if "__pycache__" not in p.parts)


def test_the_project_uses_only_public_snakemake_modules():
    used = {
        (path.relative_to(ROOT).as_posix(), module)
        for path in _project_files()
        for module in IMPORT.findall(path.read_text())
    }
    assert used, "the Snakefile imports snakemake.utils"
    assert not {(f, m) for f, m in used if m not in PUBLIC_SNAKEMAKE}
    # nor a module named in a string (what importlib or a __module__ check would reach it by);
    # snakemake.input and the like in rule scripts are the object Snakemake injects, not modules
    modules = {m.name for m in pkgutil.iter_modules(snakemake.__path__)} - {"utils"}
    named = re.compile(r"[\"']snakemake\.(\w+)")
    assert not {
        (path.relative_to(ROOT).as_posix(), name)
        for path in _project_files()
        for name in named.findall(path.read_text())
        if name in modules
    }


# Snakemake run through a wrapper that records, as the interpreter exits, whether anything
# cancelled a timer or froze objects out of the garbage collector in Snakemake's process
WRAPPER = """
import atexit, runpy, sys, threading
cancelled = []
original = threading.Timer.cancel
def cancel(self):
    cancelled.append(getattr(self.function, "__module__", None))
    original(self)
threading.Timer.cancel = cancel
atexit.register(lambda: print("cancelled timers:", cancelled, file=sys.stderr))
atexit.register(lambda: print("frozen:", __import__("gc").get_freeze_count(), file=sys.stderr))
sys.argv = ["snakemake", *sys.argv[1:]]
runpy.run_module("snakemake", run_name="__main__")
"""


@pytest.mark.workflow
def test_the_workflow_leaves_snakemake_s_process_alone(tmp_path):
    workdir = copy_workflow(tmp_path / "wf")
    build(workdir)
    result = subprocess.run(
        [sys.executable, "-c", WRAPPER, "--cores", "1", "results/mini/spectra/A.parquet"],
        cwd=workdir,
        capture_output=True,
        text=True,
        env=snakemake_env(),
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (workdir / "results" / "mini" / "spectra" / "A.parquet").is_file()
    line = re.search(r"^cancelled timers: (.*)$", result.stderr, re.M)
    assert line, result.stderr[-3000:]
    assert ast.literal_eval(line.group(1)) == []
    assert int(re.search(r"^frozen: (\d+)$", result.stderr, re.M).group(1)) == 0
