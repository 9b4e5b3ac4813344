"""Archives for papers: everything behind a study's results, checkable byte for byte.

An archive ``archive/<study>-<tag>.tar.gz`` holds the study's results, the configuration, its
sample sheet, mass list and rate test, the report (if made), the SHA-256 of every raw file (the
raw files themselves when asked), the package versions, the git commit, RO-Crate metadata
(``ro-crate-metadata.json``) and ``MANIFEST.sha256`` listing every other member with its hash.
Members are sorted and carry no timestamps or owners. ``verify_archive`` recomputes every hash
and names each file that differs, is missing or is not in the manifest, and refuses every member
that could write outside the folder it is unpacked into or is not a plain file: absolute names,
``..`` components, links, devices, folders, repeated names (the tar format's own hazards, see
the Python ``tarfile`` documentation, "Extraction filters"). ``extract_archive`` unpacks only an
archive that verifies, and only inside its target.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import subprocess
import tarfile
import zlib
from pathlib import Path, PurePosixPath, PureWindowsPath

from .errors import SimsflowError
from .io.atomic import atomic_path, atomic_write_bytes
from .provenance import package_versions

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
    """The SHA-256 of ``data`` as hex."""
    return hashlib.sha256(data).hexdigest()


def git_commit(root: Path) -> str:
    """The commit checked out at ``root``, or ``unknown`` outside a git checkout."""
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
        "packages": package_versions(PACKAGES),
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


CONTROL = re.compile(r"[\x00-\x1f\x7f]")
SAFE_MEMBER = "a member must be a plain file with a relative name inside the archive"


def unsafe_name(name: str) -> str | None:
    """Why a member name could not be unpacked safely inside a folder (None when it can)."""
    if not name:
        return "an empty name"
    if CONTROL.search(name):
        return "control characters in the name"
    windows = PureWindowsPath(name)
    if name.startswith(("/", "\\")) or windows.drive or windows.root:
        return "an absolute name"
    if ".." in PurePosixPath(name.replace("\\", "/")).parts:
        return "a '..' component"
    if PurePosixPath(name).as_posix() != name:  # two names for one file: 'a/./b', 'a//b'
        return "a '.' or empty component"
    return None


def _kind(member: tarfile.TarInfo) -> str | None:
    """What a member is when it is not a plain file (None for a plain file)."""
    if member.issym():
        return f"a symbolic link (to {member.linkname})"
    if member.islnk():
        return f"a hard link (to {member.linkname})"
    if member.ischr() or member.isblk():
        return "a device file"
    if member.isfifo():
        return "a named pipe"
    if member.isdir():
        return "a folder entry"
    if not member.isfile():
        return "not a plain file"
    return None


def _digest(stream) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: stream.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def _read_manifest(text: str, problems: list[str]) -> dict[str, str]:
    expected: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        digest, sep, name = line.partition("  ")
        if not sep or not re.fullmatch(r"[0-9a-f]{64}", digest):
            problems.append(f"refused: {MANIFEST}, line {number}: not '<sha256>  <name>'")
            continue
        why = unsafe_name(name)
        if why is not None:
            problems.append(f"refused: {MANIFEST}, line {number}: {name!r}: {why}")
            continue
        if name in expected:
            problems.append(f"refused: {MANIFEST}, line {number}: {name!r} is listed twice")
            continue
        expected[name] = digest
    return expected


def verify_archive(path: str | Path) -> list[str]:
    """Problems found (empty when every member is a safe plain file matching the manifest)."""
    problems: list[str] = []
    digests: dict[str, str] = {}
    manifest = None
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:
                why = unsafe_name(member.name) or _kind(member)
                if why is not None:
                    problems.append(f"refused: {member.name!r}: {why} ({SAFE_MEMBER})")
                    continue
                if member.name in digests or (member.name == MANIFEST and manifest is not None):
                    problems.append(f"refused: {member.name!r}: appears twice ({SAFE_MEMBER})")
                    continue
                stream = tar.extractfile(member)
                if member.name == MANIFEST:
                    manifest = stream.read()
                else:
                    digests[member.name] = _digest(stream)
    except (OSError, tarfile.TarError, EOFError, zlib.error) as err:
        return [f"not a readable archive ({err})"]
    if manifest is None:
        return [*problems, f"no {MANIFEST}"]
    try:
        text = manifest.decode("utf-8")
    except UnicodeDecodeError:
        return [*problems, f"refused: {MANIFEST} is not UTF-8 text"]
    expected = _read_manifest(text, problems)
    for name in sorted(set(expected) | set(digests)):
        if name not in digests:
            problems.append(f"missing: {name}")
        elif name not in expected:
            problems.append(f"not in the manifest: {name}")
        elif digests[name] != expected[name]:
            problems.append(f"differs: {name}")
    return problems


def extract_archive(path: str | Path, target: str | Path) -> list[str]:
    """Unpack a verified archive into ``target`` (its members, relative to it); the names
    written. An archive with any problem is refused whole, before anything is written."""
    problems = verify_archive(path)
    if problems:
        raise SimsflowError(
            f"refusing to unpack: {problems[0]}"
            + (f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""),
            file=str(path),
            hint="run 'simsflow verify' on it for the full list",
        )
    root = Path(target).resolve()
    with tarfile.open(path, "r:gz") as tar:
        members = tar.getmembers()
        destinations = [(root / m.name).resolve() for m in members]
        for member, destination in zip(members, destinations, strict=True):
            if not destination.is_relative_to(root):  # e.g. a folder in the target is a link
                raise SimsflowError(
                    f"member {member.name!r} would be written outside the target "
                    f"(to {destination})",
                    file=str(path),
                    hint="unpack into an empty folder",
                )
        for member, destination in zip(members, destinations, strict=True):
            atomic_write_bytes(destination, tar.extractfile(member).read())
    return [m.name for m in members]
