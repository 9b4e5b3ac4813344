"""Build a sample sheet from a folder of exports ("Your own data").

Two layouts: ``<sample>/<spot>.txt`` (one folder per sample, as the published scripts expect),
or any file names matched by a regular expression with named groups ``sample`` and ``spot``
(e.g. ``(?P<polarity>[PN])_(?P<sample>.+)_(?P<spot>\\d+)``); further named groups become sheet
columns, and a ``polarity`` group may be written P/N, pos/neg or positive/negative.
Sample and spot ids are kept as they are in the file names (``RuPd_Bi3++``, ``Spot 2``,
``Cu (ref)``, ``10µm``): only outer spaces are dropped, as in every sheet cell, and a name with
a control character or a backslash is refused (``simsflow.names.id_problem``).

The analysis columns can be filled on the way: constant columns (``role=train``), ``label``
from a named group of the pattern, and ``batch``: consecutive samples (in sheet order) are
put together until a batch holds ``batch_size`` spectra, so a study runs a job per batch and
stage rather than per sample, and a sample is never split between batches.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .errors import SimsflowError
from .names import ID_HINT, id_problem

SUFFIXES = (".txt", ".tsv", ".csv")
# ion images that are one file each (their kind, image, is inferred from the suffix); an
# .imzML's .ibd beside it is no row of its own
IMAGE_SUFFIXES = (".imzml", ".ita")
POLARITY = {
    "p": "positive",
    "pos": "positive",
    "positive": "positive",
    "+": "positive",
    "n": "negative",
    "neg": "negative",
    "negative": "negative",
    "-": "negative",
}


DEFAULT_BATCH_SIZE = 50
ID_COLUMNS = ("sample", "spot", "file")


def build_sheet(
    folder: str | Path,
    pattern: str | None = None,
    polarity: str | None = None,
    *,
    label: str | None = None,
    constants: dict[str, str] | None = None,
    batch_size: int = 0,
    previous: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The sample sheet of the exports under ``folder`` (one row each, ``file`` relative to it).

    ``label`` names a group of the pattern (or ``sample``) copied into the ``label`` column;
    ``constants`` are columns set to one value on every row; ``batch_size`` > 0 adds a
    ``batch`` column (see :func:`assign_batches`), keeping the batches of ``previous`` (the
    sheet this one replaces) for the samples it already had.
    """
    root = Path(folder)
    if not root.is_dir():
        raise SimsflowError(f"no such folder: {root}")
    suffixes = SUFFIXES + IMAGE_SUFFIXES
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
    if not files:
        raise SimsflowError(f"no exports (*.txt, *.tsv, *.csv, *.imzML, *.ita) under {root}")
    try:
        regex = re.compile(pattern) if pattern else None
    except re.error as err:
        raise SimsflowError(f"the pattern {pattern!r} is not a regular expression: {err}") from None
    if regex is not None and not {"sample", "spot"} <= set(regex.groupindex):
        raise SimsflowError(
            "the pattern needs named groups 'sample' and 'spot'",
            hint="e.g. (?P<polarity>[PN])_(?P<sample>.+)_(?P<spot>\\d+)",
        )
    rows, unmatched = [], []
    for path in files:
        rel = path.relative_to(root)
        if regex is None:
            if len(rel.parts) != 2:
                unmatched.append(str(rel))
                continue
            fields = {"sample": rel.parts[0], "spot": Path(rel.parts[1]).stem}
        else:
            match = regex.fullmatch(rel.with_suffix("").as_posix())
            if match is None:
                unmatched.append(str(rel))
                continue
            fields = {k: v for k, v in match.groupdict().items() if v is not None}
        if "polarity" in fields:
            value = fields["polarity"].lower()
            if value not in POLARITY:
                raise SimsflowError(
                    f"polarity '{fields['polarity']}' not understood", file=str(path)
                )
            fields["polarity"] = POLARITY[value]
        for key in ("sample", "spot"):
            # kept as written (a sheet cell is read without its outer spaces, so they go)
            fields[key] = fields[key].strip()
            problem = id_problem(fields[key])
            if problem is not None:
                raise SimsflowError(
                    f"{key} {fields[key]!r} {problem}",
                    file=str(path),
                    hint=f"{ID_HINT}; adjust the pattern or rename the file",
                )
        rows.append({**fields, "file": rel.as_posix()})
    if unmatched:
        raise _unmatched_error(root, pattern, unmatched, len(files))
    sheet = pd.DataFrame(rows)
    left_out = 0
    if polarity is not None:
        if "polarity" not in sheet.columns:
            sheet["polarity"] = polarity
        left_out = int((sheet["polarity"] != polarity).sum())
        sheet = sheet[sheet["polarity"] == polarity]
        if sheet.empty:
            raise SimsflowError(f"no {polarity} exports under {root}")
    _check_unique(sheet, root, pattern)
    columns = list(ID_COLUMNS) + [c for c in sheet.columns if c not in ID_COLUMNS]
    sheet = sheet[columns].sort_values(["sample", "spot"], kind="stable").reset_index(drop=True)
    keep = {}
    if previous is not None and {"sample", "batch"} <= set(previous.columns):
        keep = dict(zip(previous["sample"], previous["batch"], strict=True))
        keep = {k: v for k, v in keep.items() if v}
    sheet = _analysis_columns(sheet, regex, label, constants or {}, batch_size, keep)
    # for the command's message: exports of the other polarity are left out, not lost
    sheet.attrs["other_polarity"] = left_out
    return sheet


def _unmatched_error(root: Path, pattern: str | None, unmatched: list[str], n_files: int):
    """The error for files the layout or pattern does not read, with examples of them."""
    layout = f"the pattern {pattern!r}" if pattern else "the layout <sample>/<spot>.txt"
    shown = ", ".join(unmatched[:5]) + (" ..." if len(unmatched) > 5 else "")
    if len(unmatched) == n_files:
        what = f"none of the {n_files} file(s) follow {layout}, e.g. {shown}"
    else:
        what = f"{len(unmatched)} of {n_files} file(s) do not follow {layout}: {shown}"
    return SimsflowError(
        what,
        file=str(root),
        hint="move them out of the folder or give a --pattern that matches them "
        "(it is matched against the whole path without extension, relative to the folder)",
    )


def _check_unique(sheet: pd.DataFrame, root: Path, pattern: str | None) -> None:
    """Two files that give the same (sample, spot): name both and say where the ids came from."""
    dup = sheet[sheet.duplicated(["sample", "spot"], keep=False)]
    if dup.empty:
        return
    sample, spot = dup.iloc[0]["sample"], dup.iloc[0]["spot"]
    same = dup[(dup["sample"] == sample) & (dup["spot"] == spot)]
    files = " and ".join(same["file"].head(3))
    if pattern:
        source = f"the pattern's groups sample='{sample}' and spot='{spot}'"
        differ = [
            c for c in same.columns if c not in ID_COLUMNS and len(set(same[c].astype(str))) > 1
        ]
        hint = (
            f"they differ in the group(s) {', '.join(differ)}: keep one of them "
            "(e.g. --polarity) or make the pattern put it into sample or spot"
            if differ
            else "make the pattern's sample or spot group take in what differs between the names"
        )
    else:
        source = f"folder '{sample}' and file name '{spot}'"
        hint = "rename one of them, or give a --pattern"
    raise SimsflowError(
        f"{len(dup)} files give the same sample and spot, e.g. {files} ({source})",
        file=str(root),
        hint=hint,
    )


def _analysis_columns(
    sheet: pd.DataFrame,
    regex: re.Pattern | None,
    label: str | None,
    constants: dict[str, str],
    batch_size: int,
    keep: dict[str, str],
) -> pd.DataFrame:
    """Add ``label``, the constant columns and ``batch`` to a sheet of ids and files."""
    sheet = sheet.copy()
    if label is not None:
        groups = set(regex.groupindex) if regex is not None else {"sample", "spot"}
        if label not in groups:
            raise SimsflowError(
                f"--label {label}: no such group",
                hint=f"name one of the pattern's groups: {', '.join(sorted(groups))}",
            )
        sheet["label"] = sheet[label].astype(str)
    for column, value in constants.items():
        if column in ID_COLUMNS or (column == "label" and label is not None):
            raise SimsflowError(
                f"--set {column}={value}: '{column}' is read from the files",
                hint="set only analysis columns such as role, group, category or remark",
            )
        sheet[column] = value
    if batch_size > 0 and "batch" not in sheet.columns:
        sheet["batch"] = assign_batches(sheet["sample"].tolist(), batch_size, keep)
    return sheet


def assign_batches(
    samples: list[str], batch_size: int, keep: dict[str, str] | None = None
) -> list[str]:
    """A batch name per row: consecutive samples until a batch holds ``batch_size`` rows.

    A sample's rows are never split (a sample larger than ``batch_size`` is a batch of its
    own); names are ``b001``, ``b002`` … in order. ``keep`` maps samples of an earlier sheet
    to their batch: they keep it, and only the other samples fill new batches, numbered after
    the highest kept one, so adding exports to a study never moves a sample that ran before.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    keep = keep or {}
    sizes: dict[str, int] = {}
    for sample in samples:
        if sample not in keep:
            sizes[sample] = sizes.get(sample, 0) + 1
    used = [int(m.group(1)) for b in keep.values() if (m := re.fullmatch(r"b(\d+)", b))]
    number, filled = max(used, default=0) + 1, 0
    batch_of = {}
    for sample, size in sizes.items():
        if filled and filled + size > batch_size:
            number, filled = number + 1, 0
        batch_of[sample] = number
        filled += size
    width = max(3, len(str(number)))
    return [keep.get(s) or f"b{batch_of[s]:0{width}d}" for s in samples]


def parse_constants(settings: list[str]) -> dict[str, str]:
    """``["role=train", "group=A"]`` -> ``{"role": "train", "group": "A"}`` (``--set``)."""
    constants = {}
    for setting in settings:
        column, sep, value = setting.partition("=")
        if not sep or not column.strip():
            raise SimsflowError(
                f"--set {setting}: expected COLUMN=VALUE", hint="e.g. --set role=train"
            )
        constants[column.strip()] = value
    return constants
