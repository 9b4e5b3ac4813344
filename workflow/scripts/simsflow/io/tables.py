"""Parquet and TSV tables written deterministically and atomically.

Parquet files carry no timestamps; a ``simsflow`` key in the file's key-value metadata holds
provenance (source files, checksums, export header lines) as canonical JSON, so equal inputs give
equal bytes. ``write_parquet`` puts it there through the Arrow schema; a file written a table at
a time (``parquet_parts``) adds it when it closes, so it is read from the file's metadata.
``read_peak_table`` reads a study's peak table for the steps after it, and stops with one
clear line when no spectrum is left in it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import SimsflowError
from .atomic import atomic_path, atomic_write_text

METADATA_KEY = b"simsflow"
ZSTD_LEVEL = 3  # a spectra table: 37 % of its text exports (level 1 without byte split: 48 %)


ROW_GROUP_ROWS = 1 << 20
# Row groups of tables above ROW_GROUP_ROWS rows (a large export): each is encoded and
# compressed in memory before it is written, 1 << 20 rows cost 44 MB of peak memory, 1 << 18 14
STREAMED_ROW_GROUP_ROWS = 1 << 18


def _plain_schema(schema: pa.Schema) -> pa.Schema:
    """``schema`` with dictionary-encoded columns as their plain values."""
    return pa.schema(
        [
            pa.field(f.name, f.type.value_type) if pa.types.is_dictionary(f.type) else f
            for f in schema
        ],
        metadata=schema.metadata,
    )


def _as_arrow(table: pa.Table | pd.DataFrame) -> pa.Table:
    if isinstance(table, pd.DataFrame):
        table = pa.Table.from_pandas(table, preserve_index=False)
        table = table.replace_schema_metadata(None)
    if any(pa.types.is_dictionary(f.type) for f in table.schema):
        table = table.cast(_plain_schema(table.schema))
    return table


def _metadata_blob(metadata) -> dict[bytes, bytes]:
    return {METADATA_KEY: json.dumps(metadata, sort_keys=True, separators=(",", ":")).encode()}


def _write_options(schema: pa.Schema) -> dict:
    encoding = {}
    for f in schema:
        if pa.types.is_floating(f.type):
            # floats stored byte by byte (all first bytes, then all second...): the slowly
            # varying high bytes of m/z and counts then compress, and faster
            encoding[f.name] = "BYTE_STREAM_SPLIT"
        elif pa.types.is_integer(f.type):
            # integers as differences (a spectrum's channels rise by one): a spectra table is
            # 7.5 % smaller and written 7 % faster than with plain integers
            encoding[f.name] = "DELTA_BINARY_PACKED"
    return {
        "compression": "zstd",
        "compression_level": ZSTD_LEVEL,
        "use_dictionary": [f.name for f in schema if pa.types.is_string(f.type)],
        "column_encoding": encoding,
    }


def write_parquet(table: pa.Table | pd.DataFrame, path: str | Path, metadata=None) -> None:
    """Write a table; dictionary-encoded columns are stored as their plain values, only
    string columns get Parquet dictionary pages (float data do not compress that way), float
    columns are byte-stream split and integer columns delta-encoded."""
    if isinstance(table, pa.Table) and table.num_rows > ROW_GROUP_ROWS:
        _write_by_row_group(table, path, metadata)
        return
    table = _as_arrow(table)
    if metadata is not None:
        table = table.replace_schema_metadata(_metadata_blob(metadata))
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, row_group_size=ROW_GROUP_ROWS, **_write_options(table.schema))


def _write_by_row_group(table: pa.Table, path: str | Path, metadata) -> None:
    """``write_parquet`` of a large table, its dictionary columns made plain one (smaller) row
    group at a time, so that the plain copy of a whole large spectra table is never in memory
    (its three label columns as strings: 150 MB for a 190 MB export)."""
    if metadata is not None:
        table = table.replace_schema_metadata(_metadata_blob(metadata))
    schema = _plain_schema(table.schema)
    with (
        atomic_path(path) as tmp,
        pq.ParquetWriter(tmp, schema, **_write_options(schema)) as writer,
    ):
        for start in range(0, table.num_rows, STREAMED_ROW_GROUP_ROWS):
            part = table.slice(start, STREAMED_ROW_GROUP_ROWS).cast(schema)
            writer.write_table(part, row_group_size=STREAMED_ROW_GROUP_ROWS)


class ParquetParts:
    """One Parquet file written a table at a time (see ``parquet_parts``)."""

    def __init__(self, writer: pq.ParquetWriter, schema: pa.Schema):
        self._writer = writer
        self.schema = schema
        self.metadata = None  # provenance, written with the file's footer

    def add(self, table: pa.Table | pd.DataFrame) -> None:
        """Append a table (cast to the file's schema) as the next row groups."""
        table = _as_arrow(table)
        if table.schema != self.schema:
            table = table.cast(self.schema)  # e.g. an all-null column read as another type
        self._writer.write_table(table, row_group_size=ROW_GROUP_ROWS)


@contextlib.contextmanager
def parquet_parts(path: str | Path, schema: pa.Schema) -> Iterator[ParquetParts]:
    """Write one Parquet file as the tables given to ``add`` one after another, each in its
    own row groups, so only one of them is in memory at a time; written like
    ``write_parquet`` (and atomically: nothing is left at ``path`` if the block fails).
    ``metadata`` set on the yielded object before the block ends is the file's provenance."""
    schema = _plain_schema(schema).remove_metadata()
    with atomic_path(path) as tmp:
        writer = pq.ParquetWriter(tmp, schema, **_write_options(schema))
        parts = ParquetParts(writer, schema)
        try:
            yield parts
            if parts.metadata is not None:
                writer.add_key_value_metadata(_metadata_blob(parts.metadata))
        finally:
            writer.close()


def read_peak_table(path: str | Path) -> pd.DataFrame:
    """A study's peak table; one without rows (every spectrum of the study skipped or failed
    calibration, and no image region) is a SimsflowError naming the file, rather than an error
    deep in a later step about missing classes or samples."""
    table = pd.read_parquet(path)
    if table.empty:
        raise SimsflowError(
            "no spectra: every spectrum of the study was skipped or failed calibration",
            file=str(path),
            hint="see the study's qc/skipped.tsv and qc/calibration.tsv",
        )
    return table


def read_parquet_metadata(path: str | Path) -> dict:
    """The provenance (``simsflow`` key) of a Parquet file; {} without one."""
    meta = pq.read_metadata(path).metadata or {}
    blob = meta.get(METADATA_KEY)
    return json.loads(blob) if blob else {}


def write_tsv(frame: pd.DataFrame, path: str | Path, float_format: str = "%.10g") -> None:
    """Write a frame as TSV (LF line ends, floats to 10 significant digits), atomically."""
    atomic_write_text(
        path, frame.to_csv(sep="\t", index=False, float_format=float_format, lineterminator="\n")
    )


def read_text_tsv(path: str | Path) -> pd.DataFrame:
    """A TSV with every cell as text (ids such as spot '01' stay as written)."""
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)


def concat_frames(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The rows of ``frames`` one after another. A frame without rows adds nothing, not even
    its column types (pandas would make a float column object where an empty frame holds it
    as object, e.g. a sample whose every spectrum was skipped); when all are empty the first
    one's columns stand; without frames, an empty table."""
    if not frames:
        return pd.DataFrame()
    filled = [f for f in frames if len(f)]
    return pd.concat(filled or frames[:1], ignore_index=True)


def concat_tables(paths, reader) -> pd.DataFrame:
    """``concat_frames`` of the tables read from ``paths``."""
    return concat_frames([reader(p) for p in paths])
