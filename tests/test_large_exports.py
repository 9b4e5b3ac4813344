"""Large exports are streamed: the same spectrum as a whole-file read, in bounded memory."""

import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest

import simsflow.io.spectra as spectra_io
from simsflow.errors import InputFileError
from simsflow.io.importer import import_sample
from simsflow.io.spectra import read_spectrum
from simsflow.io.tables import write_parquet
from simsflow.settings import estimate_mem_mb

from .conftest import FIXTURES, ROOT

REAL = sorted((FIXTURES / "iontof-ascii").glob("*.txt"))


def _export(path, rows, channel=True, bom=False, newline="\r\n"):
    """A SurfaceLab-like export of ``rows`` data lines (mz strictly increasing)."""
    rng = np.random.default_rng(rows)
    mz = (1.0 + np.arange(rows) * 1e-5) ** 2
    counts = rng.poisson(3, rows)
    header = ["# Deadtime Correction: on", "# Binning: 1 channels"]
    head = "Channel\tm/z\tIntensity" if channel else "m/z\tIntensity"
    lines = [
        (f"{c}\t{m:.6f}\t{i}" if channel else f"{m:.6f}\t{i}")
        for c, m, i in zip(range(1000, 1000 + rows), mz.tolist(), counts.tolist(), strict=True)
    ]
    text = newline.join([*header, head, *lines]) + newline
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return path


def _copy(source, path):
    path.write_bytes(source.read_bytes())
    return path


@pytest.mark.parametrize(
    "make",
    [
        lambda p: _export(p, 5000),
        lambda p: _export(p, 5000, channel=False, newline="\n"),
        lambda p: _export(p, 5000, bom=True),
        *[lambda p, real=real: _copy(real, p) for real in REAL],
    ],
    ids=["crlf", "lf-no-channel", "bom", *[p.stem for p in REAL]],
)
def test_streamed_read_equals_whole_read(tmp_path, monkeypatch, make):
    path = make(tmp_path / "x.txt")
    whole = read_spectrum(path)
    monkeypatch.setattr(spectra_io, "STREAM_BYTES", 1024)
    monkeypatch.setattr(spectra_io, "STREAM_BLOCK_BYTES", 4096)  # many blocks
    streamed = read_spectrum(path)
    assert spectra_io._read_streamed(path) is not None  # it did not fall back
    for name in ("mz", "intensity", "channel"):
        a, b = getattr(whole, name), getattr(streamed, name)
        assert (a is None and b is None) or (a.dtype == b.dtype and np.array_equal(a, b))
    assert (streamed.header, streamed.sha256) == (whole.header, whole.sha256)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda t: t.replace("\r\n1100\t", "\r\n1100.5\t", 1), "line 104, column 'Channel'"),
        (lambda t: t.replace("\t3\r\n", "\t3,5\r\n", 1), "decimal comma"),
        (lambda t: t[: t.rindex("\t")], "expected 3 values"),
    ],
    ids=["fractional-channel", "decimal-comma", "truncated"],
)
def test_damaged_large_export_is_explained_by_line(tmp_path, monkeypatch, damage, message):
    path = _export(tmp_path / "x.txt", 5000)
    path.write_bytes(damage(path.read_bytes().decode()).encode())
    monkeypatch.setattr(spectra_io, "STREAM_BYTES", 1024)
    with pytest.raises(InputFileError, match=message):
        read_spectrum(path)


def test_large_table_written_by_row_group_reads_back(tmp_path, monkeypatch):
    import simsflow.io.tables as tables

    path = _export(tmp_path / "x.txt", 3000)
    table, provenance = import_sample("s", "x", ["1"], [path])
    monkeypatch.setattr(tables, "ROW_GROUP_ROWS", 1000)
    monkeypatch.setattr(tables, "STREAMED_ROW_GROUP_ROWS", 700)
    write_parquet(table, tmp_path / "x.parquet", metadata=provenance)
    back = pq.read_table(tmp_path / "x.parquet")
    assert pq.ParquetFile(tmp_path / "x.parquet").metadata.num_row_groups == 5
    assert back.column("spot").type == "string"
    assert back.equals(table.cast(back.schema))


@pytest.fixture(scope="module")
def export_50_mb(tmp_path_factory):
    path = _export(tmp_path_factory.mktemp("large") / "big.txt", 2_300_000)
    assert path.stat().st_size > 45e6
    return path


def _import_in_child(path, out, limit_mb=None) -> subprocess.CompletedProcess:
    """Import one export as the import job does, in a fresh process; prints its peak RSS (MB)."""
    limit = (
        f"resource.setrlimit(resource.RLIMIT_DATA, ({limit_mb << 20}, {limit_mb << 20}))\n"
        if limit_mb
        else ""
    )
    code = (
        f"import resource, sys\n{limit}"
        f"sys.path.insert(0, {str(ROOT / 'workflow' / 'scripts')!r})\n"
        "from simsflow.io.importer import import_sample\n"
        "from simsflow.io.tables import write_parquet\n"
        f"table, meta = import_sample('s', 'x', ['1'], [{str(path)!r}])\n"
        f"write_parquet(table, {str(out)!r}, metadata=meta)\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]\n"
        "print(int(hwm.split()[1]) / 1024)\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_50_mb_export_imports_under_a_300_mb_data_limit(export_50_mb, tmp_path):
    # Read whole, this export needed more than 400 MB of data segment (peak RSS 404 MB, 6.5
    # bytes per byte of file); streamed its peak RSS is 235 MB, so the child passes at 300 MB.
    out = tmp_path / "big.parquet"
    result = _import_in_child(export_50_mb, out, limit_mb=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert pq.ParquetFile(out).metadata.num_rows == 2_300_000


def test_the_import_job_s_memory_request_covers_its_peak(export_50_mb, tmp_path):
    result = _import_in_child(export_50_mb, tmp_path / "big.parquet")
    assert result.returncode == 0, result.stderr[-2000:]
    peak_mb = float(result.stdout.split()[-1])
    # what the import rule requests for this sample (SLURM's mem_mb): 160 + 1.6 x 48 MB = 237;
    # measured 180-235 MB
    assert estimate_mem_mb("import", [export_50_mb]) >= peak_mb
