"""Archives for papers: everything behind a study's results, checkable byte for byte.

An archive ``archive/<study>-<tag>.tar.gz`` holds the study's results, the configuration, its
sample sheet, mass list and rate test, the report (if made), the SHA-256 of every raw file (the
raw files themselves when asked), the package versions, the git commit, RO-Crate metadata
(``ro-crate-metadata.json``) and ``MANIFEST.sha256`` listing every other member with its hash.
Members are sorted and carry no timestamps or owners. ``verify_archive`` recomputes every hash
and names each file that differs, is missing or is not in the manifest.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import tarfile
from importlib import metadata
from pathlib import Path

from .errors import SimsflowError
from .io.atomic import atomic_path

MANIFEST = "MANIFEST.sha256"
PACKAGES = (
    "snakemake",
    "numpy",
    "pandas",
    "scikit-learn",
    "scipy",
    "pyarrow",
    "matplotlib",
    "pyyaml",
    "jsonschema",
    "pyimzml",
    "rocrate",
)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_commit(root: Path) -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        return out.stdout.strip() + ("+uncommitted changes" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"


def _ro_crate(members: dict[str, bytes], study: str, tag: str) -> bytes:
    """RO-Crate 1.1 metadata describing the archive's files (via the rocrate package)."""
    import tempfile

    from rocrate.rocrate import ROCrate

    crate = ROCrate()
    crate.name = f"simsflow results of study {study} ({tag})"
    crate.description = "ToF-SIMS analysis results with configuration, inputs and checksums"
    with tempfile.TemporaryDirectory() as tmp:
        for name in sorted(members):
            path = Path(tmp) / "src" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(members[name])
            crate.add_file(path, dest_path=name, properties={"sha256": sha256_bytes(members[name])})
        crate.write(Path(tmp) / "crate")
        return (Path(tmp) / "crate" / "ro-crate-metadata.json").read_bytes()


def collect(
    root: Path, study: str, files: list[str], raw_files: list[str], include_raw: bool, tag: str
) -> dict[str, bytes]:
    """The archive's members (path inside the archive -> bytes)."""
    members: dict[str, bytes] = {}
    results = root / "results" / study
    if not results.is_dir():
        raise SimsflowError(f"no results for study '{study}': run the workflow first")
    for path in sorted(p for p in results.rglob("*") if p.is_file()):
        members[path.relative_to(root).as_posix()] = path.read_bytes()
    for name in files:
        path = root / name
        if path.is_file():
            members[Path(name).as_posix()] = path.read_bytes()
    checksums = []
    for name in raw_files:
        data = (root / name).read_bytes()
        checksums.append(f"{sha256_bytes(data)}  {Path(name).as_posix()}")
        if include_raw:
            members[Path(name).as_posix()] = data
    members["raw_checksums.sha256"] = ("\n".join(checksums) + "\n").encode()
    provenance = {
        "study": study,
        "tag": tag,
        "git_commit": git_commit(root),
        "packages": package_versions(),
    }
    members["provenance.json"] = (json.dumps(provenance, indent=1, sort_keys=True) + "\n").encode()
    members["ro-crate-metadata.json"] = _ro_crate(members, study, tag)
    lines = [f"{sha256_bytes(members[n])}  {n}" for n in sorted(members)]
    members[MANIFEST] = ("\n".join(lines) + "\n").encode()
    return members


def write_tar(path: str | Path, members: dict[str, bytes]) -> None:
    """A gzip'd tar with sorted members and no timestamps, owners or modes that vary."""
    with (
        atomic_path(path) as tmp,
        open(tmp, "wb") as raw,
        gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name in sorted(members):
            info = tarfile.TarInfo(name)
            info.size = len(members[name])
            info.mtime = 0
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(members[name]))


def verify_archive(path: str | Path) -> list[str]:
    """Problems found (empty when every member matches the manifest)."""
    try:
        with tarfile.open(path, "r:gz") as tar:
            contents = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    except (OSError, tarfile.TarError, EOFError) as err:
        return [f"{path}: not a readable archive ({err})"]
    if MANIFEST not in contents:
        return [f"{path}: no {MANIFEST}"]
    expected = {}
    for line in contents.pop(MANIFEST).decode().splitlines():
        digest, _, name = line.partition("  ")
        expected[name] = digest
    problems = []
    for name in sorted(set(expected) | set(contents)):
        if name not in contents:
            problems.append(f"missing: {name}")
        elif name not in expected:
            problems.append(f"not in the manifest: {name}")
        elif sha256_bytes(contents[name]) != expected[name]:
            problems.append(f"differs: {name}")
    return problems
