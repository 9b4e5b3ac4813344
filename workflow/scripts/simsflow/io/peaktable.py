"""Peak tables as a study's input: spectra x peaks exported by other tools, instead of raw files.

Three layouts are told apart by their header (``detect_layout``):

- ``wide``: one row per spectrum, a ``sample`` column (``spot`` optional, numbered per sample
  when absent) and any sheet columns (role, label, group ...), and one column per peak. A peak
  column is headed by an m/z value (``27.02``, ``m/z 27.02``, ``27.02 u``, ``27.02 (u)``) or
  by an ion name (a header starting like an m/z but not one is refused, not kept as a sheet
  column); ``total_counts`` (when present) is the spectrum's total, else the sum of its peaks.
- ``transposed``: one row per peak, the first column ``m/z`` (or ``mass``, ``mz``) or ``ion``,
  an optional ``ion`` column after an m/z column, then one column per spectrum headed
  ``sample/spot`` or ``sample`` (spot 1); a row ``total_counts`` gives the totals. Sheet
  columns of these spectra come from the study's sample sheet, if it has one (no ``file``).
- ``surfacelab``: SurfaceLab's peak-list export (``No.``, ``Center Mass (u)``, ``Lower Mass
  (u)``, ``Upper Mass (u)``, ``Assignment``, ``Description``, ``Area`` ...; a first row
  ``total``). Columns that are not SurfaceLab's own are spectra (as in ``transposed``); an
  export of one spectrum has its ``Area`` column only, and that spectrum is named after the file.

Cells are separated by tabs, commas or semicolons (the header line decides, or a first line
``sep=;`` as Excel reads and writes it). The text may be
UTF-8 (with or without a byte-order mark), Windows ANSI or Excel's "Unicode text" (UTF-16), as
``simsflow.io.text`` reads it. Numbers take the table's decimal mark (``simsflow.io.numbers``:
``1,5E+03`` in a ``;``-separated table is 1500); a missing area (empty, ``n.d.``, ``-``,
``#N/A``) is refused, not guessed: write 0 where a peak was not detected. Peaks headed by
m/z are matched to the study's mass list when it has one (nearest ion within ``tolerance_da``)
or become ions named ``m<m/z>`` (e.g. ``m27.02``); ion-named peaks must be in the mass list (or,
without one, be formulas with a charge sign so their m/z is known). XLSX is not read (openpyxl
is not a dependency): save the sheet as CSV. Every problem is a ConfigError naming the file,
line and column.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..chemistry import ion_mz, normalize_ion_name
from ..config import refuse_miscased_columns, validate_rows
from ..errors import ConfigError, SimsflowError
from ..names import ID_HINT, TWIN_HINT, encoding_twin, encoding_twin_message, id_problem
from .numbers import MARK_NAMES, decimal_mark, read_number
from .text import decode_text, refuse_repeated_header, refuse_title_line, without_empty_tail

TOTAL = "total_counts"
MZ_HEADER = re.compile(
    r"^(?:(?:m/?z|mass)\s*[=:]?\s*)?(?P<mz>[0-9]+(?:[.,][0-9]*)?)"
    r"\s*(?:[(\[]\s*(?:u|da|amu)\s*[)\]]|u|da|amu)?$",
    re.IGNORECASE,
)
# a header starting like an m/z that MZ_HEADER does not read (27.02 (neg), m/z 27.02 x)
MZ_LIKE = re.compile(r"^(?:(?:m/?z|mass)\s*[=:]?\s*)?[0-9]+[.,][0-9]", re.IGNORECASE)
SEP_LINE = re.compile(r"^sep=(?P<d>[\t,;])\s*$")
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
MASS_COLUMNS = {"m/z", "mz", "mass", "mass (u)", "m/z (u)"}
SURFACELAB_FIELDS = {
    "No.",
    "Center Mass (u)",
    "Lower Mass (u)",
    "Upper Mass (u)",
    "Assignment",
    "Description",
    "Mass Deviation (ppm)",
    "Explained (%)",
    "Resolution",
    "Area",
    "Uncorrected Area",
    "Norm. By Reference Peak",
    "Norm. By Total Ion Intensity",
}
SURFACELAB_MASSES = ("Center Mass (u)", "Lower Mass (u)", "Upper Mass (u)")
# sheet columns a table may not carry: they name where raw files are, which a table has not
MASS_LIST_COLUMNS = ["ion", "formula", "mz", "lower", "upper", "group", "line"]


@dataclass(frozen=True)
class PeakTable:
    """A peak table read and checked: its layout, one sheet row per spectrum (with the line
    or column it came from), the peak areas (ion columns and total_counts, rows as the sheet)
    and the mass list of its ions (as ``read_mass_list`` returns one)."""

    layout: str
    sheet: pd.DataFrame
    areas: pd.DataFrame
    mass_list: pd.DataFrame


def _rows(path: str | Path) -> tuple[list[tuple[int, list[str]]], str]:
    """(line, cells) of every non-empty, non-comment line, and the delimiter (``_delimiter``)."""
    source = str(path)
    if str(path).lower().endswith((".xlsx", ".xls")):
        raise ConfigError(
            "XLSX peak tables are not read (openpyxl is not a dependency)",
            file=source,
            hint="save the sheet as CSV or tab-separated text",
        )
    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        raise ConfigError(f"cannot read: {err.strerror}", file=source) from None
    text = decode_text(
        raw, source, "a text table", ConfigError, hint="save the table as CSV or tab-separated text"
    )
    first, _, rest = text.partition("\n")
    sep = SEP_LINE.match(first)
    if sep is not None:  # Excel's line naming the delimiter: dropped, the line numbers kept
        delimiter, text = sep.group("d"), "\n" + rest
    else:
        delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows = []
    try:
        for cells in reader:
            if not cells or all(not c.strip() for c in cells) or cells[0].startswith("#"):
                continue
            width = len(rows[0][1]) if rows else 0
            rows.append((reader.line_num, without_empty_tail([c.strip() for c in cells], width)))
    except csv.Error as err:
        raise ConfigError(f"not a valid table: {err}", file=source, line=reader.line_num) from None
    if len(rows) < 2:
        raise ConfigError("a peak table needs a header line and at least one row", file=source)
    header_line, header = rows[0]
    refuse_title_line(header, header_line, rows[1][1], source, ConfigError)
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup or "" in header:
        raise ConfigError(
            "empty or repeated column name",
            file=source,
            line=header_line,
            column=dup[0] if dup else "",
        )
    for line, cells in rows[1:]:
        refuse_repeated_header(header, header_line, cells, line, source, ConfigError)
        if len(cells) != len(header):
            raise ConfigError(
                f"{len(cells)} cells, but the header has {len(header)} columns",
                file=source,
                line=line,
                hint=f"cells are separated by {delimiter!r}, as in the header line",
            )
    return rows, delimiter


def _delimiter(text: str) -> str:
    """Tab, comma or semicolon: the most frequent in the first line (or in the second, when
    the first has none: a title line, refused later with what it is)."""
    lines = [ln for ln in text.split("\n") if ln.strip() and not ln.startswith("#")][:2]
    for line in lines:
        if any(d in line for d in "\t,;"):
            return max("\t,;", key=line.count)
    return "\t"


def detect_layout(header: list[str]) -> str:
    """The layout a peak table's header says: 'surfacelab', 'wide' or 'transposed'."""
    if "Center Mass (u)" in header:
        return "surfacelab"
    if "sample" in header:
        return "wide"
    if header[0].lower() in MASS_COLUMNS | {"ion"}:
        return "transposed"
    raise ConfigError(
        "cannot tell the peak table's layout",
        column=header[0],
        hint="a table with a row per spectrum needs a 'sample' column; one with a row per "
        "peak a first column 'm/z' or 'ion'; or give SurfaceLab's peak-list export as is",
    )


def header_mz(text: str) -> float | None:
    """The m/z a peak header or row names (``27.02``, ``m/z 27.02``, ``27.02 u``, ``27.02 (u)``,
    ``mass=27.02``, ``27,02``: an m/z has one decimal mark, never digit groups), or None."""
    match = MZ_HEADER.match(text.strip())
    return float(match.group("mz").replace(",", ".")) if match else None


# cells that stand for a missing value, and the error values of spreadsheets
MISSING = {"", "-", "--", "n.d.", "nd", "n/a", "na", "#n/a", "none", "null", "?"}
SPREADSHEET_ERRORS = {"#div/0!", "#value!", "#ref!", "#name?", "#num!", "#null!", "#n/a"}


def _value(text: str, source: str, line: int, column: str, mark: str = ".") -> float:
    """The number in a cell written with decimal mark ``mark`` (see ``simsflow.io.numbers``);
    ConfigError naming the cell, and what to do, for anything else."""
    value = read_number(text, mark)
    if value is not None:
        return value
    where = {"file": source, "line": line, "column": column}
    key = text.strip().lower()
    if key in {"nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}:
        raise ConfigError(f"'{text}' is not a finite number", **where)
    if key in MISSING:
        raise ConfigError(
            f"'{text}' marks a missing value: simsflow does not guess one",
            **where,
            hint="write 0 where the peak was not detected, or leave the spectrum out",
        )
    if key in SPREADSHEET_ERRORS:
        raise ConfigError(
            f"'{text}' is a spreadsheet error, not a number",
            **where,
            hint="fix the formula in the spreadsheet and export the table again",
        )
    raise ConfigError(
        f"'{text}' is not a number",
        **where,
        hint=f"numbers here are written with {MARK_NAMES[mark]}, digits grouped or not",
    )


def _mark(rows, areas: list[int], masses: list[int], delimiter: str, source: str) -> str:
    """The table's decimal mark, from its cells in the columns ``areas`` and ``masses`` (m/z)."""
    header = rows[0][1]
    cells = (
        (row[j], line, header[j], j in masses) for line, row in rows[1:] for j in [*masses, *areas]
    )
    return decimal_mark(cells, delimiter, source)


class _Peaks:
    """Peaks of a table: each header (or row) resolved to an ion of the study."""

    def __init__(self, mass_list: pd.DataFrame | None, tolerance_da: float, source: str):
        self.mass_list = mass_list
        self.tolerance = tolerance_da
        self.source = source
        self.ions: list[str] = []  # in table order
        self.rows: dict[str, dict] = {}  # ion -> its mass-list record
        self.where: dict[str, tuple[int, str]] = {}  # ion -> (line, column) it came from

    def add(self, label: str, mz: float | None, line: int, column: str, record=None) -> str:
        if mz is not None:
            ion, row = self._by_mz(label, mz, line, column, record)
        else:
            ion, row = self._by_name(label, line, column)
        if ion in self.where:
            first_line, first_column = self.where[ion]
            raise ConfigError(
                f"'{label}' is ion '{ion}' again (first as '{first_column}', line {first_line})",
                file=self.source,
                line=line,
                column=column,
                hint="each peak once; narrow peak_table_tolerance if two peaks are distinct",
            )
        self.ions.append(ion)
        self.rows[ion] = row
        self.where[ion] = (line, label)
        return ion

    def _by_mz(self, label, mz, line, column, record):
        if self.mass_list is None:
            if record is not None:  # SurfaceLab: the export's own assignment and interval
                return record["ion"], {**record, "line": line}
            name = f"m{label}" if re.fullmatch(r"[0-9.]+", label) else f"m{mz:g}"
            return name, {"ion": name, "formula": "", "mz": mz, "lower": mz, "upper": mz}
        distance = np.abs(self.mass_list["mz"].to_numpy(dtype=float) - mz)
        k = int(np.argmin(distance))
        if distance[k] > self.tolerance:
            near = self.mass_list.iloc[k]
            raise ConfigError(
                f"m/z {mz:g} matches no ion of the mass list within {self.tolerance:g} u "
                f"(nearest {near['ion']} at {near['mz']:.4f})",
                file=self.source,
                line=line,
                column=column,
                hint="add the ion to the mass list or raise the study's peak_table_tolerance",
            )
        row = self.mass_list.iloc[k].to_dict()
        return row["ion"], row

    def _by_name(self, label, line, column):
        name = normalize_ion_name(label)
        if self.mass_list is not None:
            match = self.mass_list[self.mass_list["ion"] == name]
            if match.empty:
                raise ConfigError(
                    f"ion '{label}' is not in the mass list",
                    file=self.source,
                    line=line,
                    column=column,
                    hint="add it to the mass list, or head the column with its m/z",
                )
            return name, match.iloc[0].to_dict()
        if not SAFE_NAME.match(name):
            raise ConfigError(
                f"'{label}' cannot name an ion (letters, digits, '_', '.', '+', '-')",
                file=self.source,
                line=line,
                column=column,
            )
        try:
            mz = ion_mz(name)
        except SimsflowError:
            raise ConfigError(
                f"no m/z for peak '{label}': it is neither an m/z nor a formula with a charge",
                file=self.source,
                line=line,
                column=column,
                hint="give the study a mass list, or head the column with the peak's m/z",
            ) from None
        return name, {"ion": name, "formula": "", "mz": mz, "lower": mz, "upper": mz}

    def frame(self) -> pd.DataFrame:
        """The mass list of the table's ions, sorted by m/z as ``read_mass_list`` sorts."""
        if self.mass_list is not None:
            missing = [i for i in self.mass_list["ion"] if i not in self.rows]
            if missing:
                raise ConfigError(
                    f"mass-list ion(s) {', '.join(missing[:6])} have no peak in the table",
                    file=self.source,
                    hint="remove them from the study's mass list, or add their peaks",
                )
            return self.mass_list.reset_index(drop=True)  # its order, as the raw path's
        records = []
        for ion in self.ions:
            row = {"formula": "", "group": "", **self.rows[ion]}
            row["line"] = int(row.get("line") or self.where[ion][0])
            records.append({k: row[k] for k in MASS_LIST_COLUMNS})
        frame = pd.DataFrame.from_records(records, columns=MASS_LIST_COLUMNS)
        return frame.sort_values("mz", kind="stable").reset_index(drop=True)


def _sheet_columns(schema: dict) -> set[str]:
    return set(schema.get("properties", {})) - {"file"}


def _without_file(schema: dict) -> dict:
    """The sample-sheet schema for rows that name no raw file."""
    out = dict(schema)
    out["required"] = [c for c in schema.get("required", []) if c != "file"]
    out["properties"] = {k: v for k, v in schema.get("properties", {}).items() if k != "file"}
    return out


def _check_sheet(records, source: str, default_polarity: str) -> pd.DataFrame:
    """Sheet rows of the spectra: unique (sample, spot), labels on train rows only."""
    seen = {}
    spellings: dict[str, dict[str, tuple[str, int]]] = {"sample": {}, "spot": {}}
    for record in records:
        line, key = record["sheet_line"], (record["sample"], record["spot"])
        column = "spot" if "spot" in record else "sample"
        for part, value in (("sample", key[0]), ("spot", key[1])):
            problem = id_problem(value)
            if problem is not None:
                raise ConfigError(
                    f"{part} {value!r} {problem}",
                    file=source,
                    line=line,
                    column=part,
                    hint=ID_HINT,
                )
            twin = encoding_twin(value, line, spellings[part])
            if twin is not None:
                raise ConfigError(
                    encoding_twin_message(part, value, twin),
                    file=source,
                    line=line,
                    column=part,
                    hint=TWIN_HINT,
                )
        if key in seen:
            raise ConfigError(
                f"duplicate sample '{key[0]}' spot '{key[1]}' (first on line {seen[key]})",
                file=source,
                line=line,
                column=column,
            )
        seen[key] = line
        if record.get("role") == "train" and not record.get("label"):
            raise ConfigError("a train row needs a label", file=source, line=line, column="label")
        if record.get("role") == "predict" and record.get("label"):
            raise ConfigError(
                "a predict row must not carry a label", file=source, line=line, column="label"
            )
        record["polarity"] = record.get("polarity") or default_polarity
    return pd.DataFrame.from_records(records)


def _wide(rows, delimiter, source, peaks: _Peaks, schema, default_polarity) -> tuple:
    header_line, header = rows[0]
    sheet_names = _sheet_columns(schema)
    refuse_miscased_columns(header, sheet_names, source, header_line)
    peak_cols, sheet_cols, total_col = [], [], None
    for j, name in enumerate(header):
        if name == TOTAL:
            total_col = j
        elif name == "study":
            # simsflow's own peaks.parquet (saved as CSV) starts with the study it came from;
            # the table's study is the config key it is given under (peaks_frame adds it)
            continue
        elif name in sheet_names:
            sheet_cols.append(j)
        elif (mz := header_mz(name)) is not None:
            peak_cols.append((j, peaks.add(name, mz, header_line, name)))
        elif MZ_LIKE.match(name):  # an extra sheet column would silently lose the peak
            raise ConfigError(
                f"'{name}' starts like an m/z but is not a peak header simsflow reads",
                file=source,
                line=header_line,
                column=name,
                hint="head a peak column with its m/z ('27.02', 'm/z 27.02', '27.02 u') or an "
                "ion name",
            )
        elif peaks.mass_list is not None and normalize_ion_name(name) not in set(
            peaks.mass_list["ion"]
        ):
            if re.search(r"[+-]$", name):
                peaks.add(name, None, header_line, name)  # raises: an ion not in the list
            sheet_cols.append(j)  # an extra sheet column (e.g. 'cycle')
        elif peaks.mass_list is None and not re.search(r"[+-]$", name):
            sheet_cols.append(j)
        else:
            peak_cols.append((j, peaks.add(name, None, header_line, name)))
    if not peak_cols:
        raise ConfigError(
            "no peak columns: headers are ion names or m/z values",
            file=source,
            line=header_line,
        )
    number_cols = [j for j, _ in peak_cols] + ([] if total_col is None else [total_col])
    mark = _mark(rows, number_cols, [], delimiter, source)
    spots: dict[str, int] = {}
    sheet_rows, values = [], []
    for line, cells in rows[1:]:
        row = {header[j]: cells[j] for j in sheet_cols}
        if "spot" not in row:
            spots[row.get("sample", "")] = spots.get(row.get("sample", ""), 0) + 1
            row["spot"] = str(spots[row.get("sample", "")])
        sheet_rows.append((line, row))
        areas = [_value(cells[j], source, line, header[j], mark) for j, _ in peak_cols]
        total = None if total_col is None else _value(cells[total_col], source, line, TOTAL, mark)
        values.append((areas, total))
    checked = validate_rows(sheet_rows, _without_file(schema), source)
    records = [{**row, "sheet_line": line} for line, row in checked]
    sheet = _check_sheet(records, source, default_polarity)
    order = [header[j] for j in sheet_cols]
    if "spot" not in order:
        order.insert(order.index("sample") + 1, "spot")
    sheet = sheet[[*order, *[c for c in sheet.columns if c not in order]]]
    ions = [ion for _, ion in peak_cols]
    areas = pd.DataFrame([a for a, _ in values], columns=ions, dtype=float)
    totals = [t for _, t in values]
    areas[TOTAL] = totals if total_col is not None else areas[ions].sum(axis=1)
    return sheet, areas


def _spectrum_id(name: str, source: str, line: int) -> tuple[str, str]:
    sample, _, spot = name.partition("/")
    spot = spot or "1"
    for part in (sample, spot):
        problem = id_problem(part.strip())
        if problem is not None:
            raise ConfigError(
                f"spectrum column '{name}' is not 'sample' or 'sample/spot': {part!r} {problem}",
                file=source,
                line=line,
                column=name,
                hint=ID_HINT,
            )
    return sample.strip(), spot.strip()


def _each_spectrum_once(ids, names, source: str, line: int) -> None:
    """No two spectrum columns name one spectrum (``A`` is ``A/1``, ids compared as written)."""
    first: dict[tuple[str, str], str] = {}
    for key, name in zip(ids, names, strict=True):
        if key in first:
            raise ConfigError(
                f"spectrum column '{name}' is sample '{key[0]}' spot '{key[1]}' again (first as "
                f"column '{first[key]}')",
                file=source,
                line=line,
                column=name,
                hint="each spectrum once; a column 'A' is spot 1 of sample A, as 'A/1'",
            )
        first[key] = name


def _by_peak(
    rows, delimiter, source, layout, peaks: _Peaks, sheet, schema, default_polarity
) -> tuple:
    """Transposed and SurfaceLab tables: a row per peak, a column per spectrum."""
    header_line, header = rows[0]
    if layout == "surfacelab":
        spectra = [j for j, h in enumerate(header) if h not in SURFACELAB_FIELDS]
        if not spectra:
            if "Area" not in header:
                raise ConfigError("no Area column", file=source, line=header_line)
            spectra = [header.index("Area")]
            names = [Path(source).stem.strip() or "s"]  # the id as the file names it
        else:
            names = [header[j] for j in spectra]
    else:
        ion_col = 1 if len(header) > 1 and header[1].lower() == "ion" else None
        first = 2 if ion_col is not None else 1
        spectra = list(range(first, len(header)))
        names = header[first:]
    if not spectra:
        raise ConfigError("no spectrum columns", file=source, line=header_line)
    ids = [_spectrum_id(n, source, header_line) for n in names]
    _each_spectrum_once(ids, names, source, header_line)
    if layout == "surfacelab":
        masses = [header.index(c) for c in SURFACELAB_MASSES if c in header]
    else:
        masses = [0] if header[0].lower() != "ion" else []
    mark = _mark(rows, spectra, masses, delimiter, source)
    ions, values, totals = [], [], None
    for line, cells in rows[1:]:
        label = cells[0]
        if label.lower() in {"total", TOTAL}:
            totals = [_value(cells[j], source, line, header[j], mark) for j in spectra]
            continue
        if layout == "surfacelab":
            centre = cells[header.index("Center Mass (u)")]
            mz = _value(centre, source, line, "Center Mass (u)", mark)
            record = _surfacelab_record(header, cells, mz, mark)
            ion = peaks.add(record["ion"], mz, line, "Center Mass (u)", record)
        elif header[0].lower() == "ion":
            ion = peaks.add(label, None, line, header[0])
        else:
            mz = header_mz(label)
            if mz is None:
                raise ConfigError(
                    f"'{label}' is not an m/z", file=source, line=line, column=header[0]
                )
            name = cells[ion_col] if ion_col is not None and cells[ion_col] else None
            if name is not None and peaks.mass_list is None:
                ion = peaks.add(name, None, line, header[1])
            else:
                ion = peaks.add(label, mz, line, header[0])
        ions.append(ion)
        values.append([_value(cells[j], source, line, header[j], mark) for j in spectra])
    if not ions:
        raise ConfigError("no peak rows", file=source)
    areas = pd.DataFrame(np.asarray(values, dtype=float).T, columns=ions)
    areas[TOTAL] = totals if totals is not None else areas[ions].sum(axis=1)
    records = [{"sample": s, "spot": p, "sheet_line": header_line} for s, p in ids]
    if sheet is not None:
        records = _join_sheet(records, sheet, source, names)
    else:
        records = [{**r, **_defaults(schema, r)} for r in records]
    return _check_sheet(records, source, default_polarity), areas


def _surfacelab_record(header, cells, mz, mark="."):
    row = dict(zip(header, cells, strict=True))
    name = normalize_ion_name(row.get("Assignment", ""))
    if not name or name.lower() == "nan":
        name = f"m{mz:.4f}"
    group = row.get("Description", "")
    bounds = []
    for key in ("Lower Mass (u)", "Upper Mass (u)"):
        bound = read_number(row.get(key, ""), mark)
        bounds.append(mz if bound is None else bound)
    return {
        "ion": name,
        "formula": "",
        "mz": mz,
        "lower": bounds[0],
        "upper": bounds[1],
        "group": "" if group.lower() == "nan" else group,
    }


def _defaults(schema, record):
    props = schema.get("properties", {})
    return {k: v["default"] for k, v in props.items() if "default" in v and k not in record}


def _join_sheet(records, sheet: pd.DataFrame, source: str, names) -> list[dict]:
    """Sheet columns of every spectrum column, from the study's sample sheet."""
    by_key = {(r["sample"], r["spot"]): r for r in sheet.to_dict(orient="records")}
    out = []
    for record, name in zip(records, names, strict=True):
        row = by_key.pop((record["sample"], record["spot"]), None)
        if row is None:
            raise ConfigError(
                f"spectrum '{name}' has no row (sample '{record['sample']}', spot "
                f"'{record['spot']}') in the sample sheet",
                file=source,
                line=record["sheet_line"],
                column=name,
            )
        out.append({**row, "sheet_line": record["sheet_line"]})
    if by_key:
        (sample, spot), row = next(iter(by_key.items()))
        raise ConfigError(
            f"sample '{sample}' spot '{spot}' is not a column of the peak table",
            file=row.get("sheet_source", "sample sheet"),
            line=row.get("sheet_line"),
            column="sample",
        )
    return out


def read_sheet_without_files(path: str | Path, schema: dict) -> pd.DataFrame:
    """A sample sheet of a peak-table study (no ``file`` column needed), rows checked."""
    from ..config import read_tsv_rows

    source = str(path)
    header, rows = read_tsv_rows(path, _sheet_columns(schema))
    checked = validate_rows(rows, _without_file(schema), source)
    frame = pd.DataFrame.from_records(
        [{**row, "sheet_line": line, "sheet_source": source} for line, row in checked]
    )
    return frame[[*header, *[c for c in frame.columns if c not in header]]]


def read_peak_table_file(
    path: str | Path,
    sheet_schema: dict,
    *,
    mass_list: pd.DataFrame | None = None,
    sheet: pd.DataFrame | None = None,
    tolerance_da: float = 0.05,
    default_polarity: str = "negative",
) -> PeakTable:
    """Read, detect and check a peak table (see the module docstring)."""
    source = str(path)
    rows, delimiter = _rows(path)
    try:
        layout = detect_layout(rows[0][1])
    except ConfigError as err:
        raise ConfigError(
            err.message, file=source, line=rows[0][0], column=err.column, hint=err.hint
        ) from None
    peaks = _Peaks(mass_list, tolerance_da, source)
    if layout == "wide":
        if sheet is not None:
            raise ConfigError(
                "a wide peak table carries its own sheet columns, and the study names a sheet",
                file=source,
                hint="drop sample_sheet from the study, or merge its columns into the table",
            )
        table_sheet, areas = _wide(rows, delimiter, source, peaks, sheet_schema, default_polarity)
    else:
        table_sheet, areas = _by_peak(
            rows, delimiter, source, layout, peaks, sheet, sheet_schema, default_polarity
        )
    masses = peaks.frame()
    ions = masses["ion"].tolist()
    areas = areas[[*ions, TOTAL]]
    table_sheet = table_sheet.drop(columns=["sheet_source"], errors="ignore")
    return PeakTable(layout, table_sheet.reset_index(drop=True), areas, masses)


def peaks_frame(table: PeakTable, study: str) -> pd.DataFrame:
    """The study's peaks.parquet: study, sheet columns, ion areas and total_counts - the
    contract of the raw-spectrum path."""
    meta = table.sheet.drop(columns=["sheet_line", "path"], errors="ignore")
    frame = pd.concat([meta.reset_index(drop=True), table.areas.reset_index(drop=True)], axis=1)
    frame.insert(0, "study", study)
    return frame


def load_peak_table_study(settings: dict, schemas: Path) -> PeakTable:
    """A peak-table study's table, with its mass list and sample sheet when it names them."""
    from ..config import load_schema
    from .masslist import read_mass_list

    sheet_schema = load_schema(Path(schemas) / "samples.schema.yaml")
    mass_list = sheet = None
    if settings.get("mass_list") not in (None, "", "auto"):  # "auto": the default, no list
        window = settings.get("mass_window", {"ppm": 300})
        mass_list = read_mass_list(
            settings["mass_list"],
            load_schema(Path(schemas) / "mass_list.schema.yaml"),
            window_ppm=window.get("ppm"),
            window_da=window.get("da"),
        )
    if settings.get("sample_sheet"):
        sheet = read_sheet_without_files(settings["sample_sheet"], sheet_schema)
    return read_peak_table_file(
        settings["peak_table"],
        sheet_schema,
        mass_list=mass_list,
        sheet=sheet,
        tolerance_da=settings.get("peak_table_tolerance", 0.05),
        default_polarity=settings.get("polarity", "negative"),
    )


def study_sheet(table: PeakTable, path: str) -> pd.DataFrame:
    """The sheet the workflow plans a peak-table study with: kind 'table' (no raw-file
    stage runs), no batch, the table as every row's path."""
    sheet = table.sheet.copy()
    sheet["kind"] = "table"
    sheet["batch"] = ""
    sheet["path"] = str(path)
    return sheet
