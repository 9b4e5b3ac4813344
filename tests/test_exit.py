"""A job's process, and Snakemake's, exit as soon as their work is done: no last garbage
collection over objects the operating system frees anyway, no wait for the scheduler's timer."""

import ast
import os
import re
import subprocess
import sys
import threading
from types import SimpleNamespace

import pytest

from simsflow.runlog import SCHEDULER_MODULE, end_snakemake_run

from .badinputs import CASES, build
from .conftest import ROOT, copy_workflow

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


def test_end_snakemake_run_cancels_the_scheduler_timers_and_no_other():
    from snakemake.scheduling.job_scheduler import JobScheduler  # heavy: only for this test

    scheduler = SimpleNamespace(_open_jobs=threading.Semaphore(0))
    before = set(threading.enumerate())
    JobScheduler._schedule_reevalutation(scheduler, 60)  # what Snakemake's rate limiter starts
    (timer,) = set(threading.enumerate()) - before
    assert timer.function.__module__ == SCHEDULER_MODULE
    assert not timer.daemon  # why the interpreter would wait for it
    other = threading.Timer(60, print)
    other.start()
    try:
        assert end_snakemake_run() == 1
        timer.join(10)
        assert not timer.is_alive()
        assert not scheduler._open_jobs.acquire(blocking=False)  # the scheduler was not woken
        assert other.is_alive()
    finally:
        other.cancel()


# Snakemake run through a wrapper that records which timers are cancelled by the time the
# interpreter exits, and how many objects are frozen out of the garbage collector then
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
@pytest.mark.parametrize("outcome", ["success", "error", "dry-run"])
def test_the_workflow_ends_its_run_whatever_the_outcome(outcome, tmp_path):
    workdir = copy_workflow(tmp_path / "wf")
    build(workdir)
    if outcome == "error":
        (workdir / "data" / "mini" / "A" / "2.txt").write_bytes(CASES[5].spectrum)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNAKEMAKE")}
    # timers of 5 min: still pending when the run ends however slow the machine (without the
    # handlers the run would wait for them and then fail here)
    args = ["--cores", "1", "--max-jobs-per-timespan", "100/5m", "results/mini/spectra/A.parquet"]
    if outcome == "dry-run":
        args.append("--dry-run")
    result = subprocess.run(
        [sys.executable, "-c", WRAPPER, *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert (result.returncode == 0) == (outcome != "error"), result.stderr[-3000:]
    line = re.search(r"^cancelled timers: (.*)$", result.stderr, re.M)
    assert line, result.stderr[-3000:]
    # a dry run starts no timer and runs no handler
    expected = set() if outcome == "dry-run" else {SCHEDULER_MODULE}
    assert set(ast.literal_eval(line.group(1))) == expected
    # frozen as the workflow was read (freeze_startup), whatever the outcome: Snakemake,
    # pandas and the plugins are far more than 100,000 objects
    assert int(re.search(r"^frozen: (\d+)$", result.stderr, re.M).group(1)) > 100_000
