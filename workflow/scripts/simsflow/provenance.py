"""What a result depends on: the library code a rule script reaches, as one content hash.

Snakemake reruns a job when its params change, but it does not track modules that a script
imports. Each rule therefore carries ``code=code_hash(script)`` in its params: the SHA-256 of
the script, of every simsflow module it reaches through imports (followed transitively by
parsing, not by importing), and of the data files of the packages reached.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from functools import cache
from importlib import metadata
from pathlib import Path

PACKAGE = "simsflow"


@cache  # the same modules are looked up for every rule script: a few stats each
def _module_file(root: Path, dotted: str) -> Path | None:
    parts = dotted.split(".")
    candidate = root.joinpath(*parts)
    if (candidate / "__init__.py").is_file():
        return candidate / "__init__.py"
    if candidate.with_suffix(".py").is_file():
        return candidate.with_suffix(".py")
    return None


# import statements found in the text (also inside functions, where scripts import lazily):
# reading them this way is ten times faster than walking each module's syntax tree, which a
# Snakemake start did for every rule script (1 s of every start with the library's 75 files)
_FROM = re.compile(r"^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)", re.M)
_IMPORT = re.compile(r"^[ \t]*import[ \t]+([^\n]+)", re.M)


def _names(text: str) -> list[str]:
    """The names of an import list: ``a, b as c`` or ``(a,\n b)`` (comments dropped)."""
    text = re.sub(r"#[^\n]*", "", text).strip().strip("()")
    return [n.split(" as ")[0].strip() for n in text.split(",") if n.strip()]


@cache
def _imports(path: Path, root: Path) -> frozenset[str]:
    """simsflow modules imported by a file (absolute or relative imports, at any depth)."""
    text = path.read_text(encoding="utf-8")
    package = list(path.relative_to(root).parts[:-1])  # the package a relative import starts in
    found: set[str] = set()
    candidates = [n for m in _IMPORT.finditer(text) for n in _names(m.group(1))]
    for dots, module, names in _FROM.findall(text):
        if dots:
            base = package[: len(package) - len(dots) + 1]
            module = ".".join([*base, *(module.split(".") if module else [])])
        candidates += [module] + [f"{module}.{name}" for name in _names(names)]
    for name in candidates:
        if name == PACKAGE or name.startswith(PACKAGE + "."):
            # every parent package's __init__ runs on import
            pieces = name.split(".")
            found.update(".".join(pieces[:i]) for i in range(1, len(pieces) + 1))
    return frozenset(found)


@cache
def reached_files(script: str) -> tuple[Path, ...]:
    """The script and every library file it reaches, sorted."""
    script_path = Path(script).resolve()
    root = script_path.parent
    seen: set[Path] = {script_path}
    todo = [script_path]
    while todo:
        path = todo.pop()
        for module in _imports(path, root):
            file = _module_file(root, module)
            if file is not None and file not in seen:
                seen.add(file)
                todo.append(file)
                data = file.parent / "data"
                if file.name == "__init__.py" and data.is_dir():
                    seen.update(p for p in data.rglob("*") if p.is_file())
    return tuple(sorted(seen))


def code_hash(script: str | Path) -> str:
    """SHA-256 over the paths (relative) and contents of the files a script reaches."""
    return _code_hash(str(Path(script).resolve()))


@cache
def _code_hash(script: str) -> str:
    script_path = Path(script)
    root = script_path.parent
    digest = hashlib.sha256()
    for file in reached_files(str(script_path)):
        digest.update(file.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(file.read_bytes())
    return digest.hexdigest()


def package_versions(names: Iterable[str]) -> dict[str, str]:
    """Installed version of each package in ``names`` (``simsflow``: this library's own;
    ``not installed`` where one is absent), for the records results carry."""
    from . import __version__

    versions = {}
    for name in names:
        if name == PACKAGE:
            versions[name] = __version__
            continue
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
