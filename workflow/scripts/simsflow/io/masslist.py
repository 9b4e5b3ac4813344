"""Mass-interval lists: the single source of ion names, intervals and groups.

Two layouts are read: simsflow's own TSV (ion, formula, mz, lower, upper, group) and a
SurfaceLab mass-interval-list export (``No.``, ``Center Mass (u)``, ``Lower Mass (u)``,
``Upper Mass (u)``, ``Assignment``, ... with a ``total`` row and ``nan`` fields), taken as is.
Masses may be written with a decimal comma (``15,995``, Excel in a decimal-comma locale); a
list mixing both marks is refused (``simsflow.io.numbers``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..chemistry import ion_mz, normalize_ion_name, parse_ion
from ..config import read_tsv_rows, validate_rows
from ..errors import ConfigError, SimsflowError
from .numbers import MARK_NAMES, decimal_mark, read_number

SURFACELAB_COLUMNS = {
    "Center Mass (u)": "mz",
    "Lower Mass (u)": "lower",
    "Upper Mass (u)": "upper",
    "Assignment": "ion",
}
NUMERIC = ("mz", "lower", "upper")


def _number(text: str, source: str, line: int, column: str, mark: str = ".") -> float | None:
    """A mass written with decimal mark ``mark``; None for an empty cell (or SurfaceLab's
    ``nan``)."""
    if text.strip().lower() in {"", "nan", "na"}:
        return None
    value = read_number(text, mark)
    if value is not None:
        return value
    if text.strip().lower().lstrip("+-") in {"inf", "infinity"}:
        raise ConfigError(f"'{text}' is not a finite number", file=source, line=line, column=column)
    raise ConfigError(
        f"'{text}' is not a number",
        file=source,
        line=line,
        column=column,
        hint=f"masses here are written with {MARK_NAMES[mark]}",
    )


def _mark(rows, columns, source: str) -> str:
    """The list's decimal mark, from its masses (an m/z is never digit-grouped, so its one mark
    is its decimal mark; both marks in one list are refused, see ``simsflow.io.numbers``)."""
    cells = ((row[c], line, c, True) for line, row in rows for c in columns if c in row)
    return decimal_mark(cells, "\t", source)


def _from_surfacelab(rows, source):
    out = []
    mark = _mark(rows, SURFACELAB_COLUMNS, source)
    for line, row in rows:
        mz = _number(row["Center Mass (u)"], source, line, "Center Mass (u)", mark)
        if mz is None:
            continue  # the 'total' row (and empty rows) carry no interval
        name = normalize_ion_name(row.get("Assignment", ""))
        if not name:
            name = f"m{mz:.4f}"
        out.append(
            (
                line,
                {
                    "ion": name,
                    "mz": mz,
                    "lower": _number(row["Lower Mass (u)"], source, line, "Lower Mass (u)", mark),
                    "upper": _number(row["Upper Mass (u)"], source, line, "Upper Mass (u)", mark),
                    "group": row.get("Description", "").strip()
                    if row.get("Description", "").strip().lower() != "nan"
                    else "",
                },
            )
        )
    return out


def _check_positive(row: dict, source: str, line: int) -> None:
    """m/z and bounds are masses: above zero (a spectrum has no counts below)."""
    for column in NUMERIC:
        value = row.get(column)
        if value is not None and not value > 0:
            raise ConfigError(
                f"{column} {value:g} is not a positive m/z",
                file=source,
                line=line,
                column=column,
                hint="masses in the mass list are in u and above zero",
            )


def _centre(ion: str, lower, upper, source: str, line: int) -> float:
    """The m/z of a row without mz or formula: the ion's, if its name is a formula, else the
    middle of its interval when both bounds are given."""
    try:
        return ion_mz(ion)
    except SimsflowError:
        pass
    if lower is not None and upper is not None:
        return (lower + upper) / 2
    if lower is not None or upper is not None:
        given, missing = ("lower", "upper") if lower is not None else ("upper", "lower")
        raise ConfigError(
            f"'{ion}' has {given} but no {missing}, and no mz or formula",
            file=source,
            line=line,
            column=missing,
            hint=f"'{ion}' is not a formula, so its interval needs both bounds, or give mz",
        )
    raise ConfigError(
        f"no m/z for '{ion}': give mz, or a formula, or lower and upper bounds",
        file=source,
        line=line,
        column="mz",
    )


def read_mass_list(
    path: str | Path,
    schema: dict,
    *,
    window_ppm: float | None = 300.0,
    window_da=None,
    allow_overlap: bool = False,
) -> pd.DataFrame:
    """Read, complete and check a mass list; rows sorted by m/z, with their file line.
    Overlapping intervals are refused unless ``allow_overlap`` (integration by fitting)."""
    source = str(path)
    rows = validate_rows(_parsed_rows(path, source, schema.get("properties", {})), schema, source)
    records, seen = [], {}
    for line, row in rows:
        ion = row["ion"]
        if ion in seen:
            raise ConfigError(
                f"ion '{ion}' listed twice (first on line {seen[ion]})",
                file=source,
                line=line,
                column="ion",
            )
        seen[ion] = line
        records.append(_complete_row(row, line, source, window_ppm, window_da))
    frame = pd.DataFrame.from_records(records).sort_values("lower", kind="stable")
    frame = frame.reset_index(drop=True)
    if not allow_overlap:
        _check_no_overlap(frame, source)
    return frame


def _parsed_rows(path, source: str, columns=()) -> list[tuple[int, dict]]:
    """The file's rows with numbers parsed (a SurfaceLab export's columns renamed)."""
    header, rows = read_tsv_rows(path, columns)
    if not rows:
        raise ConfigError("no rows: the mass list names no ion", file=source)
    if "Center Mass (u)" in header:
        return _from_surfacelab(rows, source)
    parsed = []
    mark = _mark(rows, NUMERIC, source)
    for line, row in rows:
        row = dict(row)
        for column in NUMERIC:
            if column in row:
                row[column] = _number(row[column], source, line, column, mark)
        parsed.append((line, row))
    return parsed


def _complete_row(row: dict, line: int, source: str, window_ppm, window_da) -> dict:
    """One ion's record: its m/z (from the formula, the name, or the bounds), its interval
    (given or the window around the m/z), checked."""
    ion = row["ion"]
    _check_positive(row, source, line)
    mz, formula = row["mz"], row["formula"]
    if formula:
        try:
            exact = ion_mz(formula + ion[-1] if ion[-1] in "+-" else formula)
        except SimsflowError as err:
            raise ConfigError(err.message, file=source, line=line, column="formula") from None
        if mz is not None and abs(mz - exact) > 0.05:
            raise ConfigError(
                f"mz {mz} disagrees with formula {formula} ({exact:.5f})",
                file=source,
                line=line,
                column="mz",
            )
        mz = exact
    elif mz is None:
        mz = _centre(ion, row["lower"], row["upper"], source, line)
    if row.get("fit") == "isotopes":
        try:
            parse_ion(ion)
        except SimsflowError:
            raise ConfigError(
                f"fit 'isotopes' needs the ion named by its formula, not '{ion}'",
                file=source,
                line=line,
                column="fit",
                hint="rename the ion to its formula with charge (e.g. K+) or empty its fit",
            ) from None
    half = window_da if window_da is not None else mz * (window_ppm or 0.0) * 1e-6
    lower = mz - half if row["lower"] is None else row["lower"]
    upper = mz + half if row["upper"] is None else row["upper"]
    if not lower < upper:
        raise ConfigError(
            f"inverted interval: lower {lower} is not below upper {upper}",
            file=source,
            line=line,
            column="lower",
        )
    if not lower <= mz <= upper:
        raise ConfigError(
            f"m/z {mz:.5f} lies outside its interval [{lower}, {upper}]",
            file=source,
            line=line,
            column="mz",
        )
    return {
        "ion": ion,
        "formula": formula,
        "mz": mz,
        "lower": lower,
        "upper": upper,
        "group": row["group"],
        "fit": row.get("fit", ""),
        "line": line,
    }


def _check_no_overlap(frame: pd.DataFrame, source: str) -> None:
    """Intervals sorted by their lower bound do not overlap (each count to one ion)."""
    overlap = frame["upper"].to_numpy()[:-1] > frame["lower"].to_numpy()[1:]
    if overlap.any():
        i = int(overlap.argmax())
        a, b = frame.iloc[i], frame.iloc[i + 1]
        raise ConfigError(
            f"interval of '{b['ion']}' [{b['lower']:.5f}, {b['upper']:.5f}] overlaps "
            f"'{a['ion']}' (line {a['line']}) [{a['lower']:.5f}, {a['upper']:.5f}]",
            file=source,
            line=int(b["line"]),
            column="lower",
            hint="each count may belong to one ion only with integration method interval; "
            "narrow one of the intervals, or set integration.method: fit (or auto) to fit "
            "overlapping ions together",
        )
