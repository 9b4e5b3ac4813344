"""Import: all spectra of one sample into one table (spot x data point)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..errors import InputFileError
from .spectra import read_spectrum

LABEL = pa.dictionary(pa.int32(), pa.string())
SPECTRA_SCHEMA = pa.schema(
    [
        ("study", LABEL),
        ("sample", LABEL),
        ("spot", LABEL),
        ("channel", pa.int64()),
        ("mz", pa.float64()),
        ("intensity", pa.float64()),
    ]
)


def _constant(label: str, n: int) -> pa.DictionaryArray:
    """A label repeated n times, dictionary-encoded (no n copies of the string)."""
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array([label]))


def import_sample(
    study: str,
    sample: str,
    spots: Sequence[str],
    files: Sequence[str | Path],
    on_error: str = "stop",
) -> tuple[pa.Table, dict]:
    """Read every spot's file; return the sample table and its provenance metadata.

    The label columns (study, sample, spot) are dictionary-encoded in memory; ``write_parquet``
    stores them as plain strings.

    With ``on_error='skip'`` a file that cannot be read is left out and listed under
    ``skipped`` in the metadata with its reason; otherwise its error stops the import.
    """
    parts, provenance, skipped = [], [], []
    for spot, file in zip(spots, files, strict=True):
        try:
            spectrum = read_spectrum(file)
        except InputFileError as err:
            if on_error != "skip":
                raise
            skipped.append(
                {
                    "study": study,
                    "sample": sample,
                    "spot": spot,
                    "file": str(file),
                    "reason": str(err),
                }
            )
            continue
        n = spectrum.mz.size
        channel = (
            pa.nulls(n, pa.int64())
            if spectrum.channel is None
            else pa.array(spectrum.channel, pa.int64())
        )
        parts.append(
            pa.table(
                [
                    _constant(study, n),
                    _constant(sample, n),
                    _constant(spot, n),
                    channel,
                    pa.array(spectrum.mz, pa.float64()),
                    pa.array(spectrum.intensity, pa.float64()),
                ],
                schema=SPECTRA_SCHEMA,
            )
        )
        provenance.append(
            {
                "spot": spot,
                "file": str(file),
                "sha256": spectrum.sha256,
                "header": spectrum.header,
                "n_points": n,
                "deadtime_corrected": spectrum.deadtime_corrected,
            }
        )
    table = pa.concat_tables(parts) if parts else SPECTRA_SCHEMA.empty_table()
    return table, {"study": study, "sample": sample, "spots": provenance, "skipped": skipped}
