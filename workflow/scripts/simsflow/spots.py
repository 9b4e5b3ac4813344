"""The spots of a spectra table (the import's layout: one row per data point, a spot's rows
contiguous) as numpy views, without copying or grouping."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .errors import SimsflowError


@dataclass(frozen=True)
class Spot:
    """One spot's spectrum as numpy views of the sample table."""

    study: str
    sample: str
    spot: str
    channel: np.ndarray | None  # float channel numbers; None when the export has none
    mz: np.ndarray
    intensity: np.ndarray

    @property
    def key(self) -> tuple[str, str, str]:
        """(study, sample, spot)."""
        return self.study, self.sample, self.spot


def concatenated(arrays: list[np.ndarray]) -> np.ndarray:
    """``np.concatenate(arrays)``, without a copy when they are consecutive pieces of one
    array (as ``read_spectra_together`` gives the spots of a sample parsed in one call): same
    owner, each piece starting where the one before ends."""
    first = arrays[0]
    if len(arrays) == 1:
        return first
    owner = first.base
    address = first.__array_interface__["data"][0]
    for a in arrays:
        if (
            owner is None
            or a.base is not owner
            or a.dtype != first.dtype
            or not a.flags.c_contiguous
            or a.__array_interface__["data"][0] != address
        ):
            return np.concatenate(arrays)
        address += a.nbytes
    total = sum(a.size for a in arrays)
    return np.lib.stride_tricks.as_strided(
        first, shape=(total,), strides=(first.itemsize,), writeable=False
    )


def as_table(spectra: pa.Table | pd.DataFrame) -> pa.Table:
    """``spectra`` as a pyarrow Table (a DataFrame is converted)."""
    if isinstance(spectra, pd.DataFrame):
        return pa.Table.from_pandas(spectra, preserve_index=False)
    return spectra


def _numeric(table: pa.Table, name: str) -> np.ndarray:
    column = table.column(name)
    if column.null_count:
        return column.to_numpy().astype(float)  # nulls become NaN
    return column.to_numpy().astype(float, copy=False)


def _changes(column: pa.ChunkedArray) -> np.ndarray:
    """Row positions where a label column changes value (row i differs from row i - 1).

    Dictionary-encoded columns (with one shared, duplicate-free dictionary) are compared by
    their integer codes; others value by value.
    """
    array = column.combine_chunks()
    if pa.types.is_dictionary(array.type):
        if len(pc.unique(array.dictionary)) == len(array.dictionary):
            codes = array.indices.to_numpy(zero_copy_only=False)
            return np.flatnonzero(codes[1:] != codes[:-1]) + 1
        array = array.cast(pa.string())
    n = len(array)
    differs = pc.not_equal(array.slice(1), array.slice(0, n - 1))
    return np.flatnonzero(differs.to_numpy(zero_copy_only=False)) + 1


def iter_spots(spectra: pa.Table | pd.DataFrame | list[Spot]) -> Iterator[Spot]:
    """Every spot in table order; raises SimsflowError when a spot's rows are not contiguous.

    String label columns are compared row to row; dictionary-encoded ones (as
    ``read_spectra`` returns them) by their codes, which is much faster. A list of spots (split
    once, used by several stages) is passed through.
    """
    if isinstance(spectra, list):
        yield from spectra
        return
    table = as_table(spectra).unify_dictionaries()
    n = table.num_rows
    if n == 0:
        return
    names = ("study", "sample", "spot")
    starts = np.unique(np.concatenate([[0], *(_changes(table.column(c)) for c in names)]))
    stops = [*starts[1:].tolist(), n]
    labels = [table.column(c).take(pa.array(starts)).cast(pa.string()).to_pylist() for c in names]
    mz = _numeric(table, "mz")
    intensity = _numeric(table, "intensity")
    channel = _numeric(table, "channel") if "channel" in table.column_names else None
    seen = set()
    for k, (start, stop) in enumerate(zip(starts.tolist(), stops, strict=True)):
        key = (labels[0][k], labels[1][k], labels[2][k])
        if key in seen:
            raise SimsflowError(
                f"rows of sample '{key[1]}' spot '{key[2]}' are not contiguous in the spectra "
                "table",
                hint="spectra tables are written by the import; do not edit them",
            )
        seen.add(key)
        ch = None
        if channel is not None and not np.isnan(channel[start:stop]).any():
            ch = channel[start:stop]
        yield Spot(*key, ch, mz[start:stop], intensity[start:stop])


def read_spectra(path) -> pa.Table:
    """A spectra table from Parquet, label columns dictionary-encoded (fast spot iteration)."""
    import pyarrow.parquet as pq

    return pq.read_table(path, read_dictionary=["study", "sample", "spot"])
