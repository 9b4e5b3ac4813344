"""Archive round trip: create, verify, tamper with one byte, verify names the file."""

import io
import subprocess
import tarfile

import pytest

from simsflow.archive import collect, verify_archive, write_tar

from .conftest import ROOT


@pytest.fixture
def project(tmp_path):
    (tmp_path / "results" / "s" / "stats").mkdir(parents=True)
    (tmp_path / "results" / "s" / "peaks.parquet").write_bytes(b"PAR1 fake table")
    (tmp_path / "results" / "s" / "stats" / "x.tsv").write_text("a\tb\n1\t2\n")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text("studies: {}\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "raw.txt").write_text("1\t2\n")
    return tmp_path


def _members(path):
    with tarfile.open(path, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}


def test_round_trip_and_tamper(project, tmp_path):
    members = collect(project, "s", ["config/config.yaml"], ["data/raw.txt"], False, "v1")
    archive = tmp_path / "s-v1.tar.gz"
    write_tar(archive, members)
    assert verify_archive(archive) == []
    contents = _members(archive)
    assert {
        "results/s/peaks.parquet",
        "results/s/stats/x.tsv",
        "config/config.yaml",
        "raw_checksums.sha256",
        "provenance.json",
        "ro-crate-metadata.json",
        "MANIFEST.sha256",
    } <= set(contents)
    assert "data/raw.txt" not in contents  # raw files only when asked
    assert b"data/raw.txt" in contents["raw_checksums.sha256"]
    assert b'"@graph"' in contents["ro-crate-metadata.json"]
    # tamper: flip one byte of one member, keep the manifest
    tampered = dict(contents)
    blob = bytearray(tampered["results/s/stats/x.tsv"])
    blob[0] ^= 1
    tampered["results/s/stats/x.tsv"] = bytes(blob)
    bad = tmp_path / "bad.tar.gz"
    with tarfile.open(bad, "w:gz") as tar:
        for name, data in tampered.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    assert verify_archive(bad) == ["differs: results/s/stats/x.tsv"]


def test_raw_files_included_when_asked(project, tmp_path):
    members = collect(project, "s", [], ["data/raw.txt"], True, "v1")
    assert members["data/raw.txt"] == b"1\t2\n"


def test_archive_is_byte_identical_when_rewritten(project, tmp_path):
    members = collect(project, "s", [], [], False, "v1")
    write_tar(tmp_path / "a.tar.gz", members)
    write_tar(tmp_path / "b.tar.gz", members)
    assert (tmp_path / "a.tar.gz").read_bytes() == (tmp_path / "b.tar.gz").read_bytes()


def test_verify_command_exit_codes(project, tmp_path):
    members = collect(project, "s", [], [], False, "v1")
    write_tar(tmp_path / "a.tar.gz", members)
    good = subprocess.run(
        [str(ROOT / "bin" / "simsflow"), "verify", str(tmp_path / "a.tar.gz")],
        capture_output=True,
        text=True,
    )
    assert good.returncode == 0 and "every file matches" in good.stdout
    (tmp_path / "broken.tar.gz").write_bytes(b"not an archive")
    bad = subprocess.run(
        [str(ROOT / "bin" / "simsflow"), "verify", str(tmp_path / "broken.tar.gz")],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1 and "not a readable archive" in bad.stderr
