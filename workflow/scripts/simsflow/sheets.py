"""Build a sample sheet from a folder of exports ("Your own data").

Two layouts: ``<sample>/<spot>.txt`` (one folder per sample, as the published scripts expect),
or any file names matched by a regular expression with named groups ``sample`` and ``spot``
(e.g. ``(?P<polarity>[PN])_(?P<sample>.+)_(?P<spot>\\d+)``); further named groups become sheet
columns, and a ``polarity`` group may be written P/N, pos/neg or positive/negative.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .errors import SimsflowError

SUFFIXES = (".txt", ".tsv", ".csv")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
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


def build_sheet(
    folder: str | Path, pattern: str | None = None, polarity: str | None = None
) -> pd.DataFrame:
    """One row per export under ``folder``; ``file`` relative to ``folder`` (the data_dir)."""
    root = Path(folder)
    if not root.is_dir():
        raise SimsflowError(f"no such folder: {root}")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not files:
        raise SimsflowError(f"no exports (*.txt, *.tsv, *.csv) under {root}")
    regex = re.compile(pattern) if pattern else None
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
            if not NAME.match(fields[key]):
                raise SimsflowError(
                    f"{key} '{fields[key]}' must be letters, digits, '_', '-' or '.'",
                    file=str(path),
                    hint="rename the file or folder, or adjust the pattern",
                )
        rows.append({**fields, "file": rel.as_posix()})
    if unmatched:
        layout = f"the pattern {pattern!r}" if pattern else "the layout <sample>/<spot>.txt"
        shown = ", ".join(unmatched[:5]) + (" ..." if len(unmatched) > 5 else "")
        raise SimsflowError(
            f"{len(unmatched)} file(s) do not follow {layout}: {shown}",
            file=str(root),
            hint="move them out of the folder or give a --pattern that matches them",
        )
    sheet = pd.DataFrame(rows)
    if polarity is not None:
        if "polarity" not in sheet.columns:
            sheet["polarity"] = polarity
        sheet = sheet[sheet["polarity"] == polarity]
        if sheet.empty:
            raise SimsflowError(f"no {polarity} exports under {root}")
    dup = sheet.duplicated(["sample", "spot"], keep=False)
    if dup.any():
        files = ", ".join(sheet.loc[dup, "file"].head(4))
        raise SimsflowError(
            f"several files give the same sample and spot: {files}",
            file=str(root),
            hint="include what differs between them (e.g. polarity) in the pattern",
        )
    first = ["sample", "spot", "file"]
    columns = first + [c for c in sheet.columns if c not in first]
    return sheet[columns].sort_values(["sample", "spot"], kind="stable").reset_index(drop=True)
