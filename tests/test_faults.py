"""Faults outside the user's data: a full disk, a damaged intermediate file, a job that fails
on a bug. Each gives one line naming the file or folder, and leaves no output behind."""

import errno
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from simsflow import plots
from simsflow.errors import SimsflowError
from simsflow.io import atomic
from simsflow.io.tables import write_parquet, write_tsv
from simsflow.plots.style import _pyplot
from simsflow.runlog import damaged_parquet, logged

from .conftest import ROOT

TABLE = pd.DataFrame({"spot": ["1", "2"] * 500, "mz": np.linspace(1, 100, 1000)})


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("writer", ["parquet", "tsv", "figure"])
def test_a_full_disk_is_named_and_leaves_nothing(writer, tmp_path, monkeypatch):
    target = tmp_path / "results" / "s" / f"out.{writer}"
    target.parent.mkdir(parents=True)
    # the disk fills while the file is written: simulated at the rename that ends every write,
    # after the writer itself (pyarrow, pandas, matplotlib) has run
    monkeypatch.setattr(atomic.os, "replace", _disk_full)
    with pytest.raises(SimsflowError) as caught:
        if writer == "parquet":
            write_parquet(TABLE, target)
        elif writer == "tsv":
            write_tsv(TABLE, target)
        else:
            fig = _pyplot().figure()
            plots.save(fig, target)
    assert str(caught.value).startswith(f"no space left on {target.parent} (writing {target.name})")
    assert list(target.parent.iterdir()) == []  # no output, no temporary file


def test_a_full_disk_keeps_the_previous_complete_file(tmp_path, monkeypatch):
    target = tmp_path / "peaks.parquet"
    write_parquet(TABLE, target)
    before = target.read_bytes()
    monkeypatch.setattr(atomic.os, "replace", _disk_full)
    with pytest.raises(SimsflowError, match="no space left on"):
        write_parquet(TABLE.iloc[:10], target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["peaks.parquet"]


def test_other_write_errors_are_not_called_a_full_disk(tmp_path, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(atomic.os, "replace", denied)
    with pytest.raises(PermissionError):
        write_tsv(TABLE, tmp_path / "x.tsv")
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 KiB tmpfs (as root, where mounting is allowed), unmounted afterwards."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root): the monkeypatched tests cover it")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


@pytest.mark.parametrize("writer", ["parquet", "figure"])
def test_a_really_full_disk_is_named_and_leaves_nothing(writer, tiny_disk):
    # pyarrow and matplotlib meet ENOSPC while writing, before the rename
    noise = np.random.default_rng(1).random((300, 300))  # incompressible: 700 KB as Parquet
    target = tiny_disk / "results" / f"out.{writer}"
    with pytest.raises(SimsflowError, match=rf"^no space left on {tiny_disk / 'results'} "):
        if writer == "parquet":
            write_parquet(pd.DataFrame(noise), target)
        else:
            fig = _pyplot().figure(figsize=(6, 6), dpi=100)
            fig.gca().imshow(noise)
            plots.save(fig, target)
    assert list((tiny_disk / "results").iterdir()) == []


def _truncate(path, keep):
    path.write_bytes(path.read_bytes()[:keep])


@pytest.mark.parametrize("keep", [0, 3, 100, -1])
def test_a_truncated_parquet_input_is_named_with_what_to_do(keep, tmp_path, capsys):
    good = tmp_path / "results" / "s" / "spectra" / "A.parquet"
    write_parquet(TABLE, good)
    _truncate(good, keep)
    log = tmp_path / "logs" / "job.log"
    ran = []
    with pytest.raises(SystemExit) as exit_, logged(log, inputs=[str(tmp_path / "x.txt"), good]):
        ran.append(True)
    assert exit_.value.code == 1
    assert ran == []  # the work never started on the damaged file
    line = f"simsflow: error: {good}: damaged or truncated Parquet file ("
    assert capsys.readouterr().err.startswith(line)
    assert line in log.read_text()
    assert "delete it and rerun" in log.read_text()


def test_a_parquet_damaged_inside_is_named_when_the_job_fails_on_it(tmp_path, capsys):
    path = tmp_path / "peaks.parquet"
    write_parquet(pd.DataFrame({"x": np.arange(50_000, dtype=float)}), path)
    data = bytearray(path.read_bytes())
    data[4:100] = bytes(96)  # the first page's header, not the footer
    path.write_bytes(bytes(data))
    assert damaged_parquet([path]) is None  # the footer is intact
    log = tmp_path / "job.log"
    with pytest.raises(SystemExit), logged(log, inputs=[path]):
        pd.read_parquet(path)
    err = capsys.readouterr().err
    assert err.startswith(f"simsflow: error: {path}: damaged or truncated Parquet file")
    assert "delete it and rerun" in err


def test_a_complete_parquet_input_passes(tmp_path):
    path = tmp_path / "peaks.parquet"
    write_parquet(TABLE, path)
    assert damaged_parquet([path, tmp_path / "missing.parquet", tmp_path]) is None


def _run_job(job: str, log):
    """Run ``job`` (Python source that gets the log's path as sys.argv[1]) as a job runs."""
    return subprocess.run(
        [sys.executable, "-c", job, str(log)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT / "workflow" / "scripts")},
    )


def test_a_job_that_fails_on_a_bug_writes_its_traceback_to_its_log(tmp_path):
    log = tmp_path / "logs" / "job.log"
    job = (
        "import sys\nfrom simsflow.runlog import logged\n"
        "with logged(sys.argv[1]):\n    print('working', file=sys.stderr)\n    {}['flag']\n"
    )
    result = _run_job(job, log)
    assert result.returncode == 1
    text = log.read_text()
    assert text.startswith("working\nTraceback (most recent call last):")
    assert text.rstrip().endswith("KeyError: 'flag'")
    assert "KeyError: 'flag'" in result.stderr  # and the terminal still sees it


def test_a_job_s_warnings_go_to_its_log_where_the_tests_look_for_them(tmp_path):
    # tests/conftest.py fails a workflow run whose job logs show a ConvergenceWarning
    log = tmp_path / "logs" / "job.log"
    job = (
        "import sys, warnings\nfrom sklearn.exceptions import ConvergenceWarning\n"
        "from simsflow.runlog import logged\nwith logged(sys.argv[1]):\n"
        "    warnings.warn('lbfgs failed to converge', ConvergenceWarning, stacklevel=1)\n"
    )
    result = _run_job(job, log)
    assert result.returncode == 0, result.stderr
    assert "ConvergenceWarning: lbfgs failed to converge" in log.read_text()
    assert "ConvergenceWarning" not in result.stderr
