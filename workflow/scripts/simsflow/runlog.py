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
import traceback
from collections.abc import Iterable, Iterator
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


PARQUET_HINT = "delete it and rerun: Snakemake then makes it again"


def damaged_parquet(paths: Iterable[str | Path], whole: bool = False) -> SimsflowError | None:
    """The error for the first of ``paths`` that is a Parquet file not readable as one.

    A job killed by the system while it wrote, a full disk or a copy cut short can leave an
    intermediate file shorter than written (simsflow renames a file into place only once it is
    complete, but other tools may not). Snakemake then takes the newer file as a fresh input, so
    a job reading it must say which file it is. The footer is checked (a truncated file has
    none); with ``whole`` every page is read too (after a job has failed on an Arrow error).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    for path in paths:
        if not str(path).endswith(".parquet") or not Path(path).is_file():
            continue
        try:
            if whole:
                pq.read_table(path)
            else:
                pq.read_metadata(path)
        except (pa.ArrowException, OSError) as err:
            reason = str(err).split(". ")[0].strip().rstrip(".")
            return SimsflowError(
                f"damaged or truncated Parquet file ({reason})", file=str(path), hint=PARQUET_HINT
            )
    return None


def _damaged_input(err: Exception, inputs: list[str]) -> SimsflowError | None:
    """The damaged Parquet input that ``err`` (raised by a job's work) came from, if any."""
    import pyarrow as pa

    if isinstance(err, (pa.ArrowException, OSError)):
        return damaged_parquet(inputs, whole=True)
    return None


@contextlib.contextmanager
def logged(log_path: str | Path, inputs: Iterable[str | Path] = ()) -> Iterator[logging.Logger]:
    """Send stderr and logging to ``log_path``; turn a SimsflowError into a one-line exit.

    The one line goes to the log and to the terminal, where Snakemake's user is looking. Any
    other exception writes its traceback to the log before it ends the job. A damaged Parquet
    file among ``inputs`` (the job's input files) is such a one-line error, found before the
    work starts or, when the work fails on one, after it (``damaged_parquet``). The
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
        inputs = [str(i) for i in inputs]
        try:
            damaged = damaged_parquet(inputs)
            if damaged is not None:
                raise damaged
            yield logging.getLogger("simsflow")
            logging.getLogger("simsflow.runlog").info(
                "%s: imports %.3f s, work %.3f s (CPU %.3f s), peak memory %.0f MB",
                TIMING,
                imported - started,
                time.perf_counter() - imported,
                _cpu_seconds() - cpu_imported,
                peak_memory_mb(),
            )
        except Exception as err:
            problem = err if isinstance(err, SimsflowError) else _damaged_input(err, inputs)
            if problem is None:  # not the user's input: the traceback is for the log
                traceback.print_exc(file=log)
                raise
            line = f"simsflow: error: {problem}"
            print(line, file=log)
            print(line, file=terminal)
            raise SystemExit(1) from None
        finally:
            root.removeHandler(handler)
            sys.stderr = terminal
