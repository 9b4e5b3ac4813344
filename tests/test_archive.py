"""Archive round trip: create, verify, tamper with one byte, verify names the file; members
that could write outside the unpacking folder, or are not plain files, are refused."""

import hashlib
import io
import subprocess
import tarfile

import pytest

from simsflow.archive import collect, extract_archive, verify_archive, write_tar
from simsflow.errors import SimsflowError

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


def _rewrite(path, members, extra=(), manifest_extra=""):
    """The archive at ``path`` with its members plus ``extra`` (TarInfo, bytes) ones; with
    ``manifest_extra`` lines added to its manifest."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            if name == "MANIFEST.sha256":
                data = data + manifest_extra.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info, data in extra:
            tar.addfile(info, io.BytesIO(data) if data else None)


def _member(name, kind=tarfile.REGTYPE, data=b"", link=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.linkname = link
    if kind == tarfile.CHRTYPE:
        info.devmajor, info.devminor = 1, 3
    return info, data


HOSTILE = {
    "dotdot": (_member("../evil.txt", data=b"x"), "refused: '../evil.txt': a '..' component"),
    "dotdot-inside": (
        _member("results/s/../../../evil.txt", data=b"x"),
        "a '..' component",
    ),
    "absolute": (_member("/tmp/evil.txt", data=b"x"), "refused: '/tmp/evil.txt': an absolute name"),
    "windows-drive": (_member("C:\\evil.txt", data=b"x"), "an absolute name"),
    "dot": (_member("results/./s/x.tsv", data=b"x"), "a '.' or empty component"),
    "control": (_member("results/s/a\nb.tsv", data=b"x"), "control characters in the name"),
    "symlink": (
        _member("results/s/passwd", tarfile.SYMTYPE, link="/etc/passwd"),
        "refused: 'results/s/passwd': a symbolic link (to /etc/passwd)",
    ),
    "hard-link": (
        _member("results/s/hard", tarfile.LNKTYPE, link="results/s/peaks.parquet"),
        "a hard link (to results/s/peaks.parquet)",
    ),
    "device": (_member("results/s/null", tarfile.CHRTYPE), "'results/s/null': a device file"),
    "fifo": (_member("results/s/pipe", tarfile.FIFOTYPE), "a named pipe"),
    "folder": (_member("results/s/new", tarfile.DIRTYPE), "a folder entry"),
    "not-in-manifest": (
        _member("results/s/extra.tsv", data=b"x"),
        "not in the manifest: results/s/extra.tsv",
    ),
    "twice": (
        _member("results/s/stats/x.tsv", data=b"other"),
        "refused: 'results/s/stats/x.tsv': appears twice",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_verify_and_extract_refuse_unsafe_members(case, project, tmp_path):
    members = collect(project, "s", [], [], False, "v1")
    (info, data), message = HOSTILE[case]
    archive = tmp_path / "hostile.tar.gz"
    # listed in the manifest with its true hash, so the name or type alone must refuse it
    listed = f"{hashlib.sha256(data).hexdigest()}  {info.name}\n" if "\n" not in info.name else ""
    if case == "not-in-manifest":
        listed = ""
    _rewrite(archive, members, [(info, data)], listed if case != "twice" else "")
    problems = verify_archive(archive)
    assert any(message in p for p in problems), problems
    target = tmp_path / "unpacked"
    target.mkdir()
    with pytest.raises(SimsflowError, match="refusing to unpack"):
        extract_archive(archive, target)
    assert list(target.iterdir()) == []  # nothing written, inside or beside the target
    assert not (tmp_path / "evil.txt").exists()


def test_unsafe_manifest_line_is_refused(project, tmp_path):
    members = collect(project, "s", [], [], False, "v1")
    archive = tmp_path / "a.tar.gz"
    _rewrite(
        archive,
        members,
        manifest_extra=f"{'0' * 64}  ../../etc/cron.d/x\nnot a line\n{'0' * 64}  provenance.json\n",
    )
    problems = verify_archive(archive)
    n = members["MANIFEST.sha256"].count(b"\n")  # the added lines follow the true ones
    assert f"refused: MANIFEST.sha256, line {n + 1}: '../../etc/cron.d/x': a '..' component" in (
        problems
    )
    assert f"refused: MANIFEST.sha256, line {n + 2}: not '<sha256>  <name>'" in problems
    assert f"refused: MANIFEST.sha256, line {n + 3}: 'provenance.json' is listed twice" in problems


def test_extract_writes_a_verified_archive_inside_its_target_only(project, tmp_path):
    members = collect(project, "s", ["config/config.yaml"], [], False, "v1")
    write_tar(tmp_path / "a.tar.gz", members)
    target = tmp_path / "unpacked"
    written = extract_archive(tmp_path / "a.tar.gz", target)
    assert sorted(written) == sorted(members)
    for name, data in members.items():
        assert (target / name).read_bytes() == data
    # a folder of the target that is a link leading elsewhere is not followed out
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "results").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(SimsflowError, match="would be written outside the target"):
        extract_archive(tmp_path / "a.tar.gz", linked)
    assert list(elsewhere.iterdir()) == []


def test_verify_and_extract_commands_on_a_hostile_archive(project, tmp_path):
    members = collect(project, "s", [], [], False, "v1")
    archive = tmp_path / "h.tar.gz"
    _rewrite(archive, members, [_member("results/s/passwd", tarfile.SYMTYPE, link="/etc/passwd")])
    verify = subprocess.run(
        [str(ROOT / "bin" / "simsflow"), "verify", str(archive)], capture_output=True, text=True
    )
    assert verify.returncode == 1
    assert "every file matches" not in verify.stdout
    assert f"{archive}: refused: 'results/s/passwd': a symbolic link" in verify.stderr
    extract = subprocess.run(
        [str(ROOT / "bin" / "simsflow"), "extract", str(archive), "--into", str(tmp_path / "x")],
        capture_output=True,
        text=True,
    )
    assert extract.returncode == 1
    assert extract.stderr.startswith(f"simsflow: error: {archive}: refusing to unpack: refused:")
    assert not (tmp_path / "x").exists()


def test_one_record_of_package_versions_for_model_and_archive():
    from importlib import metadata

    from simsflow import __version__
    from simsflow.provenance import package_versions

    versions = package_versions(["simsflow", "numpy", "no-such-package-xyz"])
    assert versions == {
        "simsflow": __version__,
        "numpy": metadata.version("numpy"),
        "no-such-package-xyz": "not installed",
    }
