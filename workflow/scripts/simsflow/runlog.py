"""How a rule script runs a library call: log to the rule's log, fail with one clear line; and
how a job's process ends without a last garbage collection that frees nothing.

Only the job's own process is touched: Snakemake's process and its internals are left alone."""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import logging
import os
import sys
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
