"""Spectrum files: IONTOF SurfaceLab ASCII exports and plain two-column CSV/TSV.

SurfaceLab writes ``#`` header lines (``# Binning: 200 channels``, ``# Deadtime Correction: on``),
a column line ``Channel<TAB>m/z<TAB>Intensity`` and tab-separated rows, with CRLF line ends and
``.`` decimals. Plain files hold m/z and intensity, optionally with a header line, separated by
tab, comma, semicolon or spaces; a tab- or semicolon-separated file may use decimal commas
(``simsflow.io.numbers``; a clean one is parsed by pyarrow too: a 300,000-line export in 0.4 s
of CPU against 6.5 s line by line). Files are parsed with pyarrow's CSV reader; when that fails,
or the values break a rule (finite numbers, intensity >= 0, strictly increasing m/z and channel),
a line-by-line pass finds the exact line and column and says what to do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from ..errors import InputFileError
from .numbers import MARK_NAMES, decimal_mark, read_number
from .text import decode_text, without_empty_tail

_COLUMN_NAMES = {
    "channel": "channel",
    "m/z": "mz",
    "mz": "mz",
    "mass": "mz",
    "mass (u)": "mz",
    "m/z (u)": "mz",
    "intensity": "intensity",
    "counts": "intensity",
}

# pyarrow parses blocks of this size on its threads. A sample's joined exports (about 1.5 MB
# for 10 spots) are one block, parsed on one thread: the parse runs beside other work (a
# batch's calibration in the main thread, the other job of `--cores 2`), where splitting it
# only made the threads contend (benchmark a: 1.37-1.50x the parse floor against 1.48-1.60x
# with 512 kB blocks; on 2 worker processes 1.26-1.31 s against 1.31-1.36 s)
PARSE_BLOCK_BYTES = 1 << 24
# Exports above 4 MB (a typical one holds 0.1-2 MB) are streamed: hashed and line-counted in
# blocks, then parsed by pyarrow's streaming reader block by block into arrays allocated once,
# so the file's text and the parsed table are never in memory together (a 190 MB export: peak
# RSS 1,035 MB read whole, 370 MB streamed; benchmark g).
STREAM_BYTES = 1 << 22
# pyarrow's streaming reader holds several times its block: 4 MB blocks cost 190 MB, 64 kB 20
STREAM_BLOCK_BYTES = 1 << 16
_HEAD_BYTES = 1 << 20  # where the header and the column line of an export must fit


@dataclass
class Spectrum:
    """One spectrum as read from a file; ``channel`` is None when the file has none."""

    mz: np.ndarray
    intensity: np.ndarray
    channel: np.ndarray | None = None
    header: list[str] = field(default_factory=list)
    source: str = ""
    sha256: str = ""

    @property
    def deadtime_corrected(self) -> bool | None:
        """What the export says about dead-time correction (None if it says nothing)."""
        for line in self.header:
            key, _, value = line.lstrip("#").partition(":")
            if key.strip().lower() == "deadtime correction":
                return value.strip().lower() in {"on", "yes", "true"}
        return None


def _decode(raw: bytes, path: str) -> str:
    """The export's text (UTF-16 and CR-only line ends read too, see ``simsflow.io.text``)."""
    return decode_text(
        raw,
        path,
        "a text export",
        InputFileError,
        hint="export the spectrum from SurfaceLab as ASCII text",
    )


def _delimiter(line: str) -> str | None:
    for candidate in ("\t", ";", ","):
        if candidate in line:
            return candidate
    return None  # whitespace


def _split(line: str, delimiter: str | None) -> list[str]:
    parts = line.split(delimiter) if delimiter else line.split()
    return [p.strip() for p in parts]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_spectrum(path: str | Path) -> Spectrum:
    """Read one spectrum file; raise InputFileError naming line and column on bad content."""
    path_str = str(path)
    try:
        if Path(path).stat().st_size > STREAM_BYTES:
            spectrum = _read_streamed(Path(path))
            if spectrum is not None:
                return spectrum
        raw = Path(path).read_bytes()
    except OSError as err:
        raise InputFileError(f"cannot read: {err.strerror}", file=path_str) from None
    spectrum = _parse_fast(raw, path_str)
    if spectrum is None:
        spectrum = parse_spectrum_text(_decode(raw, path_str), path_str)
    spectrum.sha256 = hashlib.sha256(raw).hexdigest()
    return spectrum


@dataclass(frozen=True)
class _Layout:
    """Where a clean export's table starts and what it holds (found from its bytes)."""

    header: list[str]
    columns: list[str]
    delimiter: str
    body_start: int  # byte offset of the first data line
    data_start: int  # 0-based line number of the first data line


def _layout(raw: bytes) -> _Layout | None:
    """The common case: ``#`` header lines and a column line, found without decoding the body.
    None when anything is unusual (the text path then parses it, or says what is wrong)."""
    if b"\x00" in raw[:65536]:
        return None
    pos = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
    header: list[bytes] = []
    while raw.startswith(b"#", pos):
        end = raw.find(b"\n", pos)
        if end < 0:
            return None
        header.append(raw[pos:end].rstrip(b"\r"))
        pos = end + 1
    end = raw.find(b"\n", pos)
    if end < 0:
        return None
    try:
        first = raw[pos:end].rstrip(b"\r").decode("ascii")
        header_text = [h.decode("utf-8") for h in header]
    except UnicodeDecodeError:
        return None
    delimiter = _delimiter(first)
    if delimiter is None:
        return None
    columns = [_COLUMN_NAMES.get(name.lower()) for name in _split(first, delimiter)]
    if None in columns or len(set(columns)) != len(columns):
        return None
    if not {"mz", "intensity"} <= set(columns):
        return None
    return _Layout(header_text, columns, delimiter, end + 1, len(header) + 1)


def _parse_fast(raw: bytes, source: str) -> Spectrum | None:
    """A clean export parsed from its bytes by pyarrow; None when it needs the text path."""
    layout = _layout(raw)
    if layout is None:
        return None
    values = _fast_parse(
        pa.py_buffer(raw).slice(layout.body_start), layout.columns, layout.delimiter
    )
    if values is None:
        return None
    return _checked_spectrum(values, layout.columns, layout.data_start, layout.header, source)


def _read_streamed(path: Path) -> Spectrum | None:
    """A large clean export read in blocks (peak memory about its arrays, not its text).

    None when the export is not clean (an unusual header, a damaged row...): the caller then
    reads it whole, which finds the exact line and column of the problem.
    """
    with open(path, "rb") as stream:
        layout = _layout(stream.read(_HEAD_BYTES))  # hashing and counting lines read it again
        if layout is None:
            return None
        digest, rows = hashlib.sha256(), 0
        stream.seek(0)
        position, last = 0, b"\n"
        while block := stream.read(STREAM_BLOCK_BYTES):
            digest.update(block)
            body = block[max(0, layout.body_start - position) :]
            rows += body.count(b"\n")
            position += len(block)
            last = block[-1:]
        rows += last != b"\n"  # the last line without its line end
        if rows == 0:
            return None
        stream.seek(layout.body_start)
        values = _stream_parse(stream, layout, rows)
    if values is None:
        return None
    spectrum = _checked_spectrum(
        values, layout.columns, layout.data_start, layout.header, str(path)
    )
    spectrum.sha256 = digest.hexdigest()
    return spectrum


def _stream_parse(stream, layout: _Layout, rows: int) -> dict | None:
    """The columns of ``rows`` data lines parsed block by block into preallocated arrays
    (channel as integers: a fractional channel fails here and is explained by the text path)."""
    types = {c: pa.int64() if c == "channel" else pa.float64() for c in layout.columns}
    values = {c: np.empty(rows, np.int64 if c == "channel" else np.float64) for c in types}
    filled = 0
    try:
        reader = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(
                column_names=layout.columns, block_size=STREAM_BLOCK_BYTES, use_threads=False
            ),
            parse_options=pacsv.ParseOptions(delimiter=layout.delimiter, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=False),
        )
        for batch in reader:
            n = batch.num_rows
            if filled + n > rows:
                return None
            for c in layout.columns:
                column = batch.column(c)
                if column.null_count:
                    return None
                values[c][filled : filled + n] = column.to_numpy(zero_copy_only=False)
            filled += n
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    return values if filled == rows else None


def read_spectra_together(paths: Sequence[str | Path]) -> list[Spectrum | InputFileError]:
    """Read several exports (e.g. the spots of one sample): the result of ``read_spectrum``
    for each path, its InputFileError in its place where it has one.

    Clean exports with the same columns are parsed in one pyarrow call over their joined
    tables (one call per file costs about 0.14 ms of set-up, a fifth of parsing a 150 kB
    export); every other file, and all of them if the joined parse fails, go through
    ``read_spectrum`` alone, which also finds the exact line and column of any error.
    ``load_spectra_together(paths).spectra()`` in two steps.
    """
    return load_spectra_together(paths).spectra()


@dataclass
class LoadedSpectra:
    """Exports read and parsed, not yet checked (``load_spectra_together``): the part of
    reading that runs mostly outside Python's GIL (file reads, the pyarrow parse), so that
    another thread can do it while this one works; ``spectra()`` does the rest."""

    paths: list[str]
    raws: list[bytes | None]
    layouts: list[_Layout | None]
    chosen: list[int]  # parsed together
    rows: list[int]  # data lines of each chosen file
    values: dict | None  # the joined parse (None: none, or it failed)

    def spectra(self) -> list[Spectrum | InputFileError]:
        """The result of ``read_spectrum`` for each path (value checks, SHA-256; files not
        parsed together, or failing a check, read alone for their exact error)."""
        results: list[Spectrum | InputFileError | None] = [None] * len(self.paths)
        if self.values is not None:
            columns = self.layouts[self.chosen[0]].columns
            stop = 0
            for k, n in zip(self.chosen, self.rows, strict=True):
                start, stop = stop, stop + n
                one = {c: v[start:stop] for c, v in self.values.items()}
                lay = self.layouts[k]
                try:
                    spectrum = _checked_spectrum(
                        one, columns, lay.data_start, lay.header, self.paths[k]
                    )
                except InputFileError:
                    continue  # read alone, it gets the same error
                spectrum.sha256 = hashlib.sha256(self.raws[k]).hexdigest()
                results[k] = spectrum
        for k, path in enumerate(self.paths):
            if results[k] is None:
                try:
                    results[k] = read_spectrum(path)
                except InputFileError as err:
                    results[k] = err
        return results


def load_spectra_together(paths: Sequence[str | Path]) -> LoadedSpectra:
    """Read the files and parse the clean exports with the same columns in one pyarrow call
    over their joined tables (see ``read_spectra_together``)."""
    raws: list[bytes | None] = []
    for path in paths:
        try:
            large = Path(path).stat().st_size > STREAM_BYTES
            raws.append(None if large else Path(path).read_bytes())
        except OSError:
            raws.append(None)  # read_spectrum says why (or streams a large export)
    layouts = [None if raw is None else _layout(raw) for raw in raws]
    chosen = [k for k, lay in enumerate(layouts) if lay is not None]
    if chosen:
        kind = (layouts[chosen[0]].columns, layouts[chosen[0]].delimiter)
        chosen = [k for k in chosen if (layouts[k].columns, layouts[k].delimiter) == kind]
    loaded = LoadedSpectra([str(p) for p in paths], raws, layouts, chosen, [], None)
    if len(chosen) > 1:
        _parse_joined(loaded)
    return loaded


def _parse_joined(loaded: LoadedSpectra) -> None:
    """Parse the tables of the chosen files in one call; ``values`` stays None when that
    fails (a blank line, a damaged row...: every file is then read alone)."""
    bodies, rows = [], []
    for k in loaded.chosen:
        body = memoryview(loaded.raws[k])[loaded.layouts[k].body_start :]  # no copy yet
        if not body:
            return
        lines = int(np.count_nonzero(np.frombuffer(body, np.uint8) == 10))  # b"\n"
        bodies.append(body)
        if body[-1] != 10:  # the last line without its line end
            bodies.append(b"\n")
            lines += 1
        rows.append(lines)
    first = loaded.layouts[loaded.chosen[0]]
    values = _fast_parse(pa.py_buffer(b"".join(bodies)), first.columns, first.delimiter)
    if values is not None and values["mz"].size == sum(rows):
        loaded.values, loaded.rows = values, rows


def parse_spectrum_text(text: str, source: str = "<text>") -> Spectrum:
    """A Spectrum from an export's text; InputFileError naming line and column if damaged."""
    lines = text.split("\n")
    header: list[str] = []
    n = 0
    while n < len(lines) and lines[n].rstrip("\r").startswith("#"):
        header.append(lines[n].rstrip("\r"))
        n += 1
    while n < len(lines) and not lines[n].strip():
        n += 1
    if n >= len(lines):
        raise InputFileError(
            "no data lines" if header else "empty file",
            file=source,
            hint="the export holds no spectrum; export it again",
        )
    first = lines[n].rstrip("\r")
    delimiter = _delimiter(first)
    fields = without_empty_tail(_split(first, delimiter))  # a spreadsheet's padding dropped
    if all(_is_number(f) for f in fields):
        columns = {2: ["mz", "intensity"], 3: ["channel", "mz", "intensity"]}.get(len(fields))
        if columns is None:
            raise InputFileError(
                f"expected 2 (m/z, intensity) or 3 (channel, m/z, intensity) columns, "
                f"found {len(fields)}",
                file=source,
                line=n + 1,
            )
        data_start = n
    else:
        columns = []
        for name in fields:
            key = _COLUMN_NAMES.get(name.lower())
            if key is None or key in columns:
                raise InputFileError(
                    f"unknown or repeated column name '{name}'",
                    file=source,
                    line=n + 1,
                    column=name,
                    hint="expected 'Channel', 'm/z' and 'Intensity' (or m/z and intensity)",
                )
            columns.append(key)
        if not {"mz", "intensity"} <= set(columns):
            missing = sorted({"mz", "intensity"} - set(columns))
            raise InputFileError(
                f"missing column(s): {', '.join(missing)}",
                file=source,
                line=n + 1,
                hint="a spectrum needs an m/z and an intensity column",
            )
        data_start = n + 1
    body = "\n".join(lines[data_start:])
    values = _fast_parse(body, columns, delimiter)
    if values is None and delimiter in ("\t", ";"):
        # every cell a whole number or written with a decimal comma: the careful pass would
        # take the comma as the export's decimal mark too (one cell with a point fails here)
        values = _fast_parse(body, columns, delimiter, decimal_point=",")
    if values is None:
        values = _careful_parse(lines, data_start, columns, delimiter, source)
    return _checked_spectrum(values, columns, data_start, header, source)


def _checked_spectrum(
    values: dict, columns: list[str], data_start: int, header: list[str], source: str
) -> Spectrum:
    """The parsed columns as a Spectrum, after the value checks (both parsing paths)."""
    _check_values(values, columns, data_start, source)
    channel = values.get("channel")
    return Spectrum(
        mz=values["mz"],
        intensity=values["intensity"],
        channel=None if channel is None else channel.astype(np.int64, copy=False),
        header=header,
        source=source,
    )


def _fast_parse(
    body: str | pa.Buffer, columns: list[str], delimiter: str | None, decimal_point: str = "."
) -> dict | None:
    """pyarrow CSV parse; None when the body is not a clean table (the careful pass explains)."""
    if isinstance(body, str):
        if delimiter is None or not body.strip():
            return None
        body = pa.py_buffer(body.encode("utf-8"))
    if body.size == 0:
        return None
    try:
        table = pacsv.read_csv(
            pa.BufferReader(body),
            read_options=pacsv.ReadOptions(column_names=columns, block_size=PARSE_BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.float64() for c in columns},
                strings_can_be_null=False,
                decimal_point=decimal_point,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    out = {}
    for c in columns:
        col = table.column(c)
        if col.null_count:
            return None
        out[c] = col.to_numpy()
    return out


def _careful_parse(
    lines: list[str], start: int, columns: list[str], delimiter: str | None, source: str
) -> dict:
    """The data lines read one by one, naming the first line that breaks the table's shape or
    holds a cell that is not a number in the table's decimal mark (``simsflow.io.numbers``:
    ``0,000274`` in a tab- or semicolon-separated export is read). Two passes over the lines,
    neither keeping their text: the mark from every cell, then the numbers."""
    cells = (
        (value, line, _display(name), name == "mz")
        for line, fields in _data_rows(lines, start, columns, delimiter, source)
        for name, value in zip(columns, fields, strict=True)
    )
    mark = decimal_mark(cells, delimiter, source, InputFileError)
    rows = [
        [
            _cell(value, mark, source, line, name)
            for name, value in zip(columns, fields, strict=True)
        ]
        for line, fields in _data_rows(lines, start, columns, delimiter, source)
    ]
    if not rows:
        raise InputFileError("no data lines", file=source, hint="the export holds no spectrum")
    array = np.asarray(rows, dtype=float)
    return {c: array[:, i] for i, c in enumerate(columns)}


def _data_rows(lines: list[str], start: int, columns: list[str], delimiter: str | None, source):
    """(file line, cells) of each data line, up to the trailing blank lines; InputFileError at
    a blank line inside the data or a line with another number of cells."""
    for number in range(start, len(lines)):
        line = lines[number].rstrip("\r")
        if not line.strip():
            if any(x.strip() for x in lines[number + 1 :]):
                raise InputFileError("empty line inside the data", file=source, line=number + 1)
            return
        fields = without_empty_tail(_split(line, delimiter), len(columns))
        if len(fields) != len(columns):
            raise InputFileError(
                f"expected {len(columns)} values separated by "
                f"{_delimiter_name(delimiter)}, found {len(fields)}",
                file=source,
                line=number + 1,
                hint="the file may be truncated or use another delimiter",
            )
        yield number + 1, fields


def _cell(value: str, mark: str, source: str, line: int, name: str) -> float:
    """A number of an export written with decimal mark ``mark`` ('nan', 'inf' too: the value
    checks name them)."""
    if mark == "." or ("." not in value and "," not in value):
        try:
            return float(value)
        except ValueError:
            pass
    number = read_number(value, mark)
    if number is None:
        raise InputFileError(
            f"'{value[:40]}' is not a number",
            file=source,
            line=line,
            column=_display(name),
            hint=f"expected a number written with {MARK_NAMES[mark]}",
        )
    return number


def _delimiter_name(delimiter: str | None) -> str:
    return {"\t": "tabs", ";": "semicolons", ",": "commas", None: "spaces"}[delimiter]


def _display(column: str) -> str:
    return {"mz": "m/z", "intensity": "Intensity", "channel": "Channel"}[column]


def _data_line(start: int, index: int) -> int:
    """1-based file line of the index-th data row (blank lines only occur at the end)."""
    return start + index + 1


def _values_ok(values: dict) -> bool:
    """All rules hold (a few whole-array operations; the common case): m/z and channel
    strictly increasing and finite, intensity finite and >= 0, channels whole numbers. NaN
    fails every comparison, so it fails here too."""
    intensity = values["intensity"]
    if not ((intensity >= 0).all() and np.isfinite(intensity.sum())):
        return False
    for c in ("channel", "mz"):
        x = values.get(c)
        if x is not None and not (
            x.size and np.isfinite(x[0]) and np.isfinite(x[-1]) and (x[1:] > x[:-1]).all()
        ):
            return False
    channel = values.get("channel")
    if channel is None or channel.dtype.kind in "iu":
        return True
    return bool((channel == np.round(channel)).all())


def _check_values(values, columns, start, source) -> None:
    if _values_ok(values):
        return
    for c in columns:
        bad = np.flatnonzero(~np.isfinite(values[c]))
        if bad.size:
            raise InputFileError(
                f"value is {values[c][bad[0]]}, not a finite number",
                file=source,
                line=_data_line(start, int(bad[0])),
                column=_display(c),
                hint="the export is damaged; export the spectrum again",
            )
    negative = np.flatnonzero(values["intensity"] < 0)
    if negative.size:
        raise InputFileError(
            f"negative intensity {values['intensity'][negative[0]]:g}",
            file=source,
            line=_data_line(start, int(negative[0])),
            column="Intensity",
            hint="counts cannot be negative; use the raw export, not a processed one",
        )
    for c in ("channel", "mz"):
        if c not in values:
            continue
        step = np.diff(values[c])
        bad = np.flatnonzero(step <= 0)
        if bad.size:
            i = int(bad[0]) + 1
            what = "repeats" if step[bad[0]] == 0 else "decreases"
            raise InputFileError(
                f"{_display(c)} {what} ({values[c][i - 1]:g} then {values[c][i]:g})",
                file=source,
                line=_data_line(start, i),
                column=_display(c),
                hint="a spectrum must be sorted by strictly increasing m/z",
            )
    channel = values.get("channel")
    if channel is not None and np.any(channel != np.round(channel)):
        i = int(np.flatnonzero(channel != np.round(channel))[0])
        raise InputFileError(
            f"channel {channel[i]:g} is not a whole number",
            file=source,
            line=_data_line(start, i),
            column="Channel",
        )


def format_spectrum(spectrum: Spectrum, newline: str = "\r\n") -> str:
    """SurfaceLab ASCII text of a spectrum (the inverse of ``parse_spectrum_text``)."""
    mz = spectrum.mz
    intensity = spectrum.intensity
    integral = bool(np.all(intensity == np.round(intensity)))
    ints = intensity.astype(np.int64).tolist() if integral else [repr(float(x)) for x in intensity]
    mz_text = [f"{x:.6f}" for x in mz.tolist()]
    if spectrum.channel is not None:
        column_line = "Channel\tm/z\tIntensity"
        body = [
            f"{c}\t{m}\t{i}"
            for c, m, i in zip(spectrum.channel.tolist(), mz_text, ints, strict=True)
        ]
    else:
        column_line = "m/z\tIntensity"
        body = [f"{m}\t{i}" for m, i in zip(mz_text, ints, strict=True)]
    return newline.join([*spectrum.header, column_line, *body]) + newline


def write_spectrum(path: str | Path, spectrum: Spectrum, newline: str = "\r\n") -> None:
    """Write a spectrum as a SurfaceLab ASCII export (atomically)."""
    from .atomic import atomic_write_bytes

    atomic_write_bytes(path, format_spectrum(spectrum, newline).encode("utf-8"))
