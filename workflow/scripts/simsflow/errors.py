"""One error family for everything a user can get wrong.

Every error names where the problem is (file, line or row, column) and what to do,
so that a rule script can surface it as a single line without a traceback.
"""

from __future__ import annotations

MESSAGE_CHARACTERS = 1000  # a message never renders a huge value whole


def shorten(text: str, limit: int = 300) -> str:
    """``text`` cut in the middle to about ``limit`` characters, saying how much was left out."""
    text = str(text)
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]} ...[{len(text) - 2 * half:,} characters]... {text[-half:]}"


class SimsflowError(Exception):
    """A problem with the user's input or configuration, located as precisely as known."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = shorten(message, MESSAGE_CHARACTERS)
        self.file = None if file is None else str(file)
        self.line = line
        self.column = column
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(self.file)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        text = (", ".join(where) + ": " if where else "") + self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class InputFileError(SimsflowError):
    """A raw data file (spectrum, image, mass list) cannot be read as valid data."""


class ConfigError(SimsflowError):
    """The configuration, a sample sheet or a mass list does not follow its schema."""
