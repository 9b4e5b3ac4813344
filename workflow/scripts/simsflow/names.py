"""File names for user strings: every ion, group, class, sample or region name that becomes a
file or folder name goes through ``file_slug`` / ``slug_map`` (CWE-22: a name must never
become a path). The name itself stays as written in tables and figure titles; a folder of
per-name files gets an index (``names.tsv``: slug, name, kind) to map its files back.

A slug keeps ASCII letters, digits and ``_ . + -``; it never holds a path separator, ``..``,
NUL or another control character, never starts with ``.`` or ``-``, never ends with ``.``
(Windows drops it), is never a Windows device name (CON, NUL, COM1, ... with any extension)
and is at most ``MAX_SLUG`` characters. A name that already is such a slug (``LiCO3-``,
``Li2CO3``) is its own slug, so safe names keep their file names.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

MAX_SLUG = 80  # characters (ASCII): a few slugs joined into one file name stay below 255 bytes
HASH_CHARS = 8
INDEX_NAME = "names.tsv"
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2212", "-"))  # '⁻' is U+2212
_UNSAFE = re.compile(r"[^A-Za-z0-9_.+-]")
# Windows device names (reserved with any extension; 'COM¹' is 'COM1' once normalized)
_DEVICES = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{n}" for p in ("COM", "LPT") for n in "0123456789"}


def _hash(name: str, chars: int = HASH_CHARS) -> str:
    return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:chars]


def _is_device(slug: str) -> bool:
    return slug.split(".")[0].upper() in _DEVICES


def file_slug(name: str) -> str:
    """A safe file-name stem for ``name`` (see the module docstring); deterministic."""
    # compatibility forms first: 'Li₂CO₃' -> 'Li2CO3', 'é' -> 'e' + a mark that is dropped
    text = unicodedata.normalize("NFKD", str(name))
    text = "".join(c for c in text if not unicodedata.combining(c))
    slug = _UNSAFE.sub("_", text.translate(_DASHES))
    slug = re.sub(r"\.{2,}", "_", slug)  # no '..' anywhere
    if slug[:1] in (".", "-"):
        slug = "_" + slug[1:]
    if slug.endswith("."):
        slug = slug[:-1] + "_"
    if not slug:
        slug = "_"
    if _is_device(slug):
        slug = "_" + slug
    if len(slug) > MAX_SLUG:
        # the hash of the whole name keeps two long names with one beginning apart
        slug = slug[: MAX_SLUG - HASH_CHARS - 1].rstrip(".") + "-" + _hash(str(name))
    return slug


def slug_map(names: Iterable[str], taken: Iterable[str] = ()) -> dict[str, str]:
    """Each distinct name -> its slug, no two slugs equal when case is ignored (a
    case-insensitive file system holds one of 'Li' and 'LI') nor equal to one of ``taken``.

    A name whose slug is shared keeps it with a hash of the name appended, so the result
    depends only on the set of names, never on their order.
    """
    unique = list(dict.fromkeys(names))
    base = {n: file_slug(n) for n in unique}
    used = {t.casefold() for t in taken}
    counts: dict[str, int] = {}
    for slug in base.values():
        counts[slug.casefold()] = counts.get(slug.casefold(), 0) + 1
    out = {}
    for name in sorted(unique, key=lambda n: (counts[base[n].casefold()] > 1, n)):
        slug = base[name]
        chars = HASH_CHARS
        while counts[base[name].casefold()] > 1 or slug.casefold() in used:
            stem = base[name][: MAX_SLUG - chars - 1]
            slug = f"{stem}-{_hash(name, chars)}"
            if slug.casefold() not in used:
                break
            chars += 4
        used.add(slug.casefold())
        out[name] = slug
    return {n: out[n] for n in unique}


def bounded_stem(stem: str, limit: int = 200) -> str:
    """A file stem joined from several slugs, cut (with a hash of the whole) to ``limit``."""
    if len(stem) <= limit:
        return stem
    return stem[: limit - HASH_CHARS - 1] + "-" + _hash(stem)


def write_index(folder: str | Path, rows: Iterable[tuple[str, str, str]]) -> Path:
    """Write ``folder/names.tsv``: one row (slug, name, kind) per name of the folder's files,
    sorted, so the same names give the same bytes."""
    from .io.atomic import atomic_write_text

    table = sorted(set(rows), key=lambda r: (r[2], r[0], r[1]))
    lines = ["slug\tname\tkind"]
    for slug, name, kind in table:
        lines.append(f"{slug}\t{_cell(name)}\t{kind}")
    path = Path(folder) / INDEX_NAME
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path


def _cell(name: str) -> str:
    """A name as one TSV cell: tab, newline and backslash escaped (read_index undoes it)."""
    return name.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _uncell(text: str) -> str:
    escapes = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(0)), text)


def read_index(path: str | Path) -> pd.DataFrame:
    """A ``names.tsv`` back as a table (slug, name, kind), every cell as text."""
    # split at '\n' only: a name may hold other line breaks ('\u2028', '\x85')
    lines = Path(path).read_text(encoding="utf-8").split("\n")
    rows = [line.split("\t") for line in lines[1:] if line]
    frame = pd.DataFrame(rows, columns=lines[0].split("\t"), dtype=str)
    frame["name"] = frame["name"].map(_uncell)
    return frame


def distinct_stems(stems: dict, limit: int = 200) -> dict:
    """Key -> file stem (joined from slugs), each bounded (``bounded_stem``) and no two equal
    when case is ignored: where keys share a stem, each gets a hash of its key appended."""
    bounded = {key: bounded_stem(stem, limit - HASH_CHARS - 1) for key, stem in stems.items()}
    counts: dict[str, int] = {}
    for stem in bounded.values():
        counts[stem.casefold()] = counts.get(stem.casefold(), 0) + 1
    return {
        key: f"{stem}-{_hash(repr(key))}" if counts[stem.casefold()] > 1 else stem
        for key, stem in bounded.items()
    }


# columns every peak table holds beside the ions (simsflow.integrate), and an image stack's
PEAK_TABLE_COLUMNS = ("study", "sample", "spot", "total_counts")
IMAGE_STACK_COLUMNS = ("x", "y", "total")
_INVISIBLE = {"Cc", "Cf", "Zs", "Zl", "Zp"}


def is_invisible(name: str) -> bool:
    """True for a name with no visible character (empty, spaces, control or format marks)."""
    return all(unicodedata.category(c) in _INVISIBLE for c in name)


# characters an id (sample, spot, region) may not hold: path separators, and control
# characters and line or paragraph separators (they break a line of a table or a log)
ID_HINT = (
    "an id may hold any printable characters but '/' and '\\' (spaces, '+', '()', ',', "
    "'µ', '°' are fine), not tabs, line breaks, other control characters or invisible ones"
)
_ID_REFUSED = {"Cc", "Cs", "Zl", "Zp"}


def id_problem(value: str) -> str | None:
    """What is wrong with ``value`` as a sample, spot or region id, or None if it is fine.

    Ids are data, not file names: they may hold any printable character except the path
    separators ``/`` and ``\\``; not control characters (tab, newline, NUL ...), line or
    paragraph separators, nor invisible format characters (a zero-width space or a byte-order
    mark pasted with a name would make 'A' two samples that look alike). Callers strip leading
    and trailing white space first (as every sheet cell is stripped). Files and wildcards use
    ``file_slug`` of the id, never the id itself.
    """
    if not value or is_invisible(value):
        return "is empty: it has no visible character"
    if value != value.strip():
        return "starts or ends with white space"
    for char in value:
        if char in "/\\":
            return f"holds the path separator {char!r}"
        if unicodedata.category(char) in _ID_REFUSED:
            return f"holds the control character {char!r} (U+{ord(char):04X})"
        if unicodedata.category(char) == "Cf":  # a zero-width space or a stray byte-order mark
            return (
                f"holds the invisible character {char!r} (U+{ord(char):04X}): it would tell "
                "apart ids that look the same"
            )
    return None


def encoding_twin(
    value: str, line: int, first: dict[str, tuple[str, int]]
) -> tuple[str, int] | None:
    """The earlier id (with its line) that looks like ``value`` but is encoded otherwise - an
    accent as part of its letter ('\u00fc') or as a mark of its own ('u\u0308'), Unicode's
    composed and decomposed forms (NFC, NFD; macOS file names are decomposed) - else None.
    Two such ids would silently be two samples; ``first`` maps each id's composed form to its
    first spelling and line, and is filled here."""
    if value.isascii():  # composed already, and unlike any id that is not ASCII
        return None
    seen = first.setdefault(unicodedata.normalize("NFC", value), (value, line))
    return seen if seen[0] != value else None


def encoding_twin_message(part: str, value: str, twin: tuple[str, int]) -> str:
    """What ``encoding_twin`` found, in words: the two spellings shown by their code points."""
    return (
        f"{part} {value!r} looks like {part} {twin[0]!r} on line {twin[1]} but is encoded "
        f"otherwise ({value!a} against {twin[0]!a}): they would be two {part}s"
    )


TWIN_HINT = "retype one of them, or copy it from the other, so both name one id"


def reserved_ion_names(sheet_columns: Iterable[str], images: bool = False) -> list[str]:
    """The names an ion may not take: the columns that stand beside the ions in a table."""
    names = {*PEAK_TABLE_COLUMNS, *sheet_columns, *(IMAGE_STACK_COLUMNS if images else ())}
    return sorted(names)


def check_names(mass_list: pd.DataFrame, mass_list_file, sheet: pd.DataFrame, sheet_file) -> None:
    """Ion names clear of the peak table's other columns; no invisible ion, group or class
    name. ``mass_list`` as read (with its file ``line``), ``sheet`` as read (with
    ``sheet_line``); the first problem raises ConfigError naming the file, line and column."""
    from .errors import ConfigError

    columns = [c for c in sheet.columns if c not in ("path", "sheet_line")]
    images = bool((sheet["kind"] == "image").any()) if "kind" in sheet else False
    reserved = reserved_ion_names(columns, images)
    ion_column = _ion_column(mass_list_file)
    for ion, group, line in zip(
        mass_list["ion"], mass_list["group"], mass_list["line"], strict=True
    ):
        if ion in reserved:
            raise ConfigError(
                f"ion '{ion}' is named like a peak-table column",
                file=str(mass_list_file),
                line=int(line),
                column=ion_column,
                hint=f"rename the ion; reserved names: {', '.join(reserved)}",
            )
        for value, column, what in ((ion, ion_column, "ion"), (group, "group", "group")):
            if value and is_invisible(value):
                raise ConfigError(
                    f"{what} name {value!r} is empty: it has no visible character",
                    file=str(mass_list_file),
                    line=int(line),
                    column=column if what == "ion" else _group_column(ion_column),
                    hint="write a visible name"
                    + (", or leave the cell empty for no group" if what == "group" else ""),
                )
    for label, line in zip(sheet["label"], sheet["sheet_line"], strict=True):
        if label and is_invisible(label):
            raise ConfigError(
                f"class label {label!r} is empty: it has no visible character",
                file=str(sheet_file),
                line=int(line),
                column="label",
                hint="write a visible class name",
            )


def _ion_column(mass_list_file) -> str:
    """The mass list's column of ion names: 'ion', or 'Assignment' in a SurfaceLab export."""
    try:
        with open(mass_list_file, encoding="utf-8", errors="replace") as handle:
            head = handle.read(4096)
    except OSError:
        return "ion"
    return "Assignment" if "Center Mass (u)" in head else "ion"


def _group_column(ion_column: str) -> str:
    return "Description" if ion_column == "Assignment" else "group"
