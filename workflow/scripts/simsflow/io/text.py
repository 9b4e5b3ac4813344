"""Bytes of a user's text file (spectrum export, sample sheet, mass list) as text.

Exports and sheets come from SurfaceLab, Excel and editors on Windows, macOS and Linux: UTF-8
with or without a byte-order mark, Windows ANSI (latin-1) header text, Excel's "Unicode text"
(UTF-16 with a byte-order mark, see the Unicode standard, section 23.8) and classic Mac OS line
ends (CR only). These are all read; what cannot be read safely (UTF-16 or UTF-32 without a
byte-order mark, binary data) is refused with a message that says what the file is.
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
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            # Windows programs write header text in the ANSI code page; numbers are ASCII
            text = raw.decode("latin-1")
    if "\r" in text:
        text = _LINE_END.sub("\n", text)
    return text
