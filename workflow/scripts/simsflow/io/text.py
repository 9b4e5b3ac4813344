"""Bytes of a user's text file (spectrum export, sample sheet, mass list) as text.

Exports and sheets come from SurfaceLab, Excel and editors on Windows, macOS and Linux: UTF-8
with or without a byte-order mark, Windows ANSI text (code page 1252: ``µ`` as byte 0xB5, ``–``
as 0x96; latin-1 where 1252 leaves a byte undefined), Excel's "Unicode text" (UTF-16 with a
byte-order mark, see the Unicode standard, section 23.8) and classic Mac OS line ends (CR only).
These are all read; what cannot be read safely (UTF-16 or UTF-32 without a byte-order mark,
binary data, a file mixing UTF-8 and Windows ANSI, which has no single right reading) is refused
with a message that says what the file is, naming the line of the first such byte.
"""

from __future__ import annotations

import codecs
import re

from ..errors import SimsflowError

_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_LINE_END = re.compile(r"\r\n|\r|\n")


def _looks_like_utf16(head: bytes) -> bool:
    """ASCII text in UTF-16: nearly every other byte is NUL (even bytes for big-endian, odd for
    little-endian)."""
    pairs = len(head) // 2
    if pairs < 2:
        return False
    even = head[0 : 2 * pairs : 2].count(0)
    odd = head[1 : 2 * pairs : 2].count(0)
    return max(even, odd) >= 0.9 * pairs and min(even, odd) <= 0.1 * pairs


def _line_of(raw: bytes, offset: int) -> int:
    """1-based line of the byte at ``offset`` (CRLF, CR and LF each end a line)."""
    return len(re.findall(rb"\r\n|\r|\n", raw[:offset])) + 1


def _utf8_or_ansi(raw: bytes, source: str, error, hint: str) -> str:
    """UTF-8 text, else Windows ANSI (Windows programs write names and headers in the ANSI
    code page; numbers are ASCII). A file holding both UTF-8 characters and bytes that are not
    UTF-8 (a sheet edited in two programs) is refused: either reading garbles part of it."""
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        bad = err.start
    utf8 = re.search(
        rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}", raw
    )
    if utf8 is not None:
        char = utf8.group().decode("utf-8", errors="replace")
        raise error(
            f"byte 0x{raw[bad]:02X} is not UTF-8, but line {_line_of(raw, utf8.start())} holds "
            f"UTF-8 text ({char!r}): the file mixes two encodings",
            file=source,
            line=_line_of(raw, bad),
            hint=hint,
        )
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:  # a byte 1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D)
        return raw.decode("latin-1")


def decode_text(
    raw: bytes, source: str, what: str, error=SimsflowError, hint: str | None = None
) -> str:
    """The text of ``raw`` with every line end (CRLF, CR, LF) as LF.

    ``what`` names the kind of file in messages (e.g. "a text export"); ``error`` is the
    SimsflowError subclass raised, naming ``source``, with ``hint`` (what to do) when given.
    """
    hint = hint or f"expected {what}"
    if raw.startswith(_UTF32_BOMS):  # before UTF-16: the UTF-32 LE mark starts like UTF-16's
        raise error("UTF-32 text: save it as UTF-8", file=source, hint=hint)
    if raw.startswith(_UTF16_BOMS):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError:
            raise error(
                "UTF-16 text with a broken character: save it as UTF-8",
                file=source,
                hint=hint,
            ) from None
    elif b"\x00" in raw[:65536]:
        if _looks_like_utf16(raw[:4096]):
            raise error(
                "UTF-16 text without a byte-order mark: save it as UTF-8",
                file=source,
                hint=hint,
            )
        raise error(f"binary data, not {what}", file=source, hint=hint)
    else:
        text = _utf8_or_ansi(raw, source, error, hint)
    if "\r" in text:
        text = _LINE_END.sub("\n", text)
    return text


def without_empty_tail(cells: list[str], width: int = 0) -> list[str]:
    """``cells`` without the empty cells after the first ``width`` that a spreadsheet pads its
    rows with (``a;b;;;``, a tab after the last cell): the header with ``width`` 0, each row
    with the header's width (a row then longer holds a value under no header)."""
    end = len(cells)
    while end > width and not cells[end - 1].strip():
        end -= 1
    return cells[:end]


def refuse_title_line(
    header: list[str], line: int, row: list[str], source: str, error=SimsflowError
) -> None:
    """A one-cell first line above rows of several cells is a title (``Peak areas, run 5``)
    or a note, not the table's header: say so instead of counting the rows' cells."""
    if len(header) == 1 and len(row) > 1:
        raise error(
            f"'{header[0]}' stands alone above rows of {len(row)} cells: a title line, not the "
            "table's header",
            file=source,
            line=line,
            hint="delete the lines above the header, or start them with '#'",
        )


def refuse_repeated_header(
    header: list[str], header_line: int, row: list[str], line: int, source: str, error=SimsflowError
) -> None:
    """A row equal to the header (two tables pasted one under the other) is not data: said
    so, rather than read as a spectrum named like a column."""
    if row == header:
        raise error(
            f"the header of line {header_line} again: two tables joined into one?",
            file=source,
            line=line,
            hint="delete the repeated header line, or make the second table a file of its own",
        )
