"""How a rule script runs a library call: log to the rule's log, fail with one clear line; and
how a process (a job, or Snakemake itself) ends without waiting on work that frees nothing."""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import SimsflowError

STARTUP_MODULES = ("numpy", "pandas", "pyarrow", "pyarrow.parquet")
TIMING = "timing"


def peak_memory_mb() -> float:
    """This process's peak resident memory since it started its program (VmHWM; unlike
    ru_maxrss it does not inherit the size of the process that forked it). NaN where
    /proc is not available."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _cpu_seconds() -> float:
    """User and system CPU time of this process and its finished child processes."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def skip_collection_at_exit() -> None:
    """Leave the objects of this process out of the garbage collection the interpreter runs as
    it exits.

    That last collection walks every object the process still holds (about 0.25 s in a job that
    drew figures: as long as importing pandas takes) only to free memory that the operating
    system takes back anyway. Everything a job writes is closed, and renamed into place, before
    it ends; what the freeze gives up is only the finalizers of reference cycles still alive at
    exit. Registered once however often it is asked for; it runs after the other exit handlers
    registered before it.
    """
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)


def freeze_startup() -> None:
    """For Snakemake's process, as it reads the workflow: leave every object it holds by then
    out of the garbage collector's passes, and out of the last collection at exit.

    Those objects are the modules it has imported (Snakemake, its plugins, pandas) and their
    data; none of them becomes garbage while Snakemake runs, yet each full collection walked
    them all again, and the interpreter walked them once more as it exited: about 0.3 s of every
    Snakemake start and end, even with nothing to do. Objects made later are collected as usual.
    """
    gc.freeze()
    skip_collection_at_exit()


# the module of Snakemake's scheduler, whose rate limiter starts the timers end_snakemake_run ends
SCHEDULER_MODULE = "snakemake.scheduling.job_scheduler"


def end_snakemake_run() -> int:
    """Let Snakemake's process exit as soon as its run is over (its onsuccess/onerror handler).

    Snakemake's job rate limiter (the default ``--max-jobs-per-timespan 100/1s``) starts a
    one-second ``threading.Timer`` after every scheduling pass that selects a job, to wake the
    scheduler once the timespan is over. The timer is not a daemon thread, so the interpreter
    waits for the last one before it exits, and the last pass selects the target rule ``all``,
    which takes no time: every run ended about a second after its last job. Once the scheduler
    has returned, such a timer can only wake a loop that has ended, so it is cancelled here;
    timers of anyone else are left alone. Returns how many were cancelled.
    """
    cancelled = 0
    for thread in threading.enumerate():
        function = getattr(thread, "function", None)
        if isinstance(thread, threading.Timer) and getattr(function, "__module__", None) == (
            SCHEDULER_MODULE
        ):
            thread.cancel()
            cancelled += 1
    return cancelled


@contextlib.contextmanager
def logged(log_path: str | Path) -> Iterator[logging.Logger]:
    """Send stderr and logging to ``log_path``; turn a SimsflowError into a one-line exit.

    The one line goes to the log and to the terminal, where Snakemake's user is looking. The
    log's last line times the job: the imports every rule needs (numpy, pandas, pyarrow), the
    work after them (wall time, and CPU time of this process and of the worker processes it
    waited for: a job drawing figures in two processes does two cores' work) and the peak
    memory (the benchmark sums and compares these). The job's process then exits without a last
    garbage collection (``skip_collection_at_exit``).
    """
    started = time.perf_counter()
    skip_collection_at_exit()
    for module in STARTUP_MODULES:  # what every rule needs: timed as start-up, not as work
        importlib.import_module(module)
    imported = time.perf_counter()
    cpu_imported = _cpu_seconds()
    terminal = sys.stderr
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", encoding="utf-8") as log:
        sys.stderr = log
        handler = logging.StreamHandler(log)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        try:
            yield logging.getLogger("simsflow")
            logging.getLogger("simsflow.runlog").info(
                "%s: imports %.3f s, work %.3f s (CPU %.3f s), peak memory %.0f MB",
                TIMING,
                imported - started,
                time.perf_counter() - imported,
                _cpu_seconds() - cpu_imported,
                peak_memory_mb(),
            )
        except SimsflowError as err:
            line = f"simsflow: error: {err}"
            print(line, file=log)
            print(line, file=terminal)
            raise SystemExit(1) from None
        finally:
            root.removeHandler(handler)
            sys.stderr = terminal
