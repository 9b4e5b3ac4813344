"""Numbers in tables as spreadsheets write them: a decimal point or comma, digits grouped.

The conventions are those of the Unicode CLDR number symbols that spreadsheets follow per
locale (en: ``1,234.5``; de: ``1.234,5``; fr: ``1 234,5`` with a narrow no-break space);
Excel separates cells by ``;`` where the decimal mark is a comma.

A table's decimal mark is decided once, from all its number cells (``decimal_mark``):

- comma-separated: ``.`` (a decimal comma would split the cell); a ``,`` in a quoted cell
  groups digits (``"1,500"`` is 1500).
- tab- or semicolon-separated: ``,`` when some cell reads only with a decimal comma
  (``27,0235``, ``1,5E+03``, ``0,5``, ``1.500,5``), ``.`` when some reads only with a decimal
  point. A cell like ``1.500`` or ``1,500`` reads either way (1.5 or 1500): it takes the mark
  the other cells show; when none shows one, it is refused rather than guessed (so is a table
  whose every number has three decimals and lies between 1 and 999.999: as CSV it reads). An
  m/z cell is never grouped (no m/z is written ``15.995`` for 15995): its one mark is its
  decimal mark.
- a table with both marks is refused, naming the cell that breaks the first one's rule.

Spaces (also no-break and narrow no-break) group digits in either convention (``1 500``).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable

from ..errors import ConfigError, SimsflowError

_SPACES = re.compile(r"(?<=\d)[ \u00a0\u202f](?=\d{3}(?!\d))")
_PLAIN = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_GROUPED = {  # digits grouped by the other mark, then an optional decimal part
    ".": re.compile(r"[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d*)?(?:[eE][+-]?\d+)?"),
    ",": re.compile(r"[+-]?[1-9]\d{0,2}(?:\.\d{3})+(?:,\d*)?(?:[eE][+-]?\d+)?"),
}
MARK_NAMES = {".": "a decimal point", ",": "a decimal comma"}


def read_number(text: str, mark: str) -> float | None:
    """The value of ``text`` written with decimal mark ``mark`` ('.' or ','), or None when
    it is not a number written so (words such as 'nan' or 'inf' are not numbers here)."""
    if mark == "." or "." not in text:
        try:  # the common cell, at float's speed (which also takes 'nan', 'inf' and '1_0')
            value = float(text)
        except ValueError:
            pass
        else:
            if math.isfinite(value) and "_" not in text and "," not in text:
                return value
    text = _SPACES.sub("", text.strip())
    other = "," if mark == "." else "."
    if other in text:
        if not _GROUPED[mark].fullmatch(text):
            return None
        text = text.replace(other, "")
    text = text.replace(mark, ".")
    return float(text) if _PLAIN.fullmatch(text) else None


_DIGITS = str.maketrans("0123456789", "0999999999")  # 0 kept: no group starts with it


@functools.lru_cache(maxsize=4096)
def _shown_mark(shape: str, is_mz: bool) -> str | None:
    """The decimal mark a cell of this shape (digits but 0 as 9) shows: '.', ',', '?' (reads
    either way, to different values) or None (reads the same either way, or not at all)."""
    text = shape
    point, comma = read_number(text, "."), read_number(text, ",")
    if (point is None and comma is None) or point == comma:
        return None
    if point is None or comma is None:
        return "." if comma is None else ","
    return ("." if "." in text else ",") if is_mz else "?"


def decimal_mark(
    cells: Iterable[tuple[str, int, str, bool]],
    delimiter: str | None,
    source: str,
    error: type[SimsflowError] = ConfigError,
) -> str:
    """The decimal mark of a table separated by ``delimiter``, from its number cells as
    (text, line, column, is_mz); ``error`` naming the cell when the table mixes marks or holds
    a cell it cannot read (see the module docstring)."""
    if delimiter not in ("\t", ";"):  # commas or spaces: a decimal comma cannot be in a cell
        return "."
    first: dict[str, tuple[str, int, str]] = {}
    for text, line, column, is_mz in cells:
        if "." not in text and "," not in text:
            continue  # no mark: the same value either way (the most common cell)
        mark = _shown_mark(text.strip().translate(_DIGITS), is_mz)
        if mark is not None and mark not in first:
            first[mark] = (text, line, column)
    if "." in first and "," in first:
        (a, b) = sorted(".,", key=lambda m: first[m][1:])
        text, line, column = first[b]
        raise error(
            f"'{text}' has {MARK_NAMES[b]}, but '{first[a][0]}' (line {first[a][1]}, column "
            f"'{first[a][2]}') has {MARK_NAMES[a]}: the table mixes decimal marks",
            file=source,
            line=line,
            column=column,
            hint="write every number with the same decimal mark",
        )
    if "?" in first and "." not in first and "," not in first:
        text, line, column = first["?"]
        grouped = read_number(text, ",")
        raise error(
            f"'{text}' reads as {read_number(text, '.'):g} or as {grouped:g} (digits grouped "
            "in thousands), and no other number of the table shows its decimal mark",
            file=source,
            line=line,
            column=column,
            hint="write it without digit grouping; in a comma-separated table (CSV) '.' is "
            "always the decimal point",
        )
    return "," if "," in first else "."
