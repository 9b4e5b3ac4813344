"""How a rule script runs a library call: log to the rule's log, fail with one clear line."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

from .errors import SimsflowError


@contextlib.contextmanager
def logged(log_path: str | Path) -> Iterator[logging.Logger]:
    """Send stderr and logging to ``log_path``; turn a SimsflowError into a one-line exit.

    The one line goes to the log and to the terminal, where Snakemake's user is looking.
    """
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
        except SimsflowError as err:
            line = f"simsflow: error: {err}"
            print(line, file=log)
            print(line, file=terminal)
            raise SystemExit(1) from None
        finally:
            root.removeHandler(handler)
            sys.stderr = terminal
