"""Import: all spectra of one sample into one table (spot x data point)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..errors import InputFileError
from .spectra import read_spectrum

SPECTRA_SCHEMA = pa.schema(
    [
        ("study", pa.string()),
        ("sample", pa.string()),
        ("spot", pa.string()),
        ("channel", pa.int64()),
        ("mz", pa.float64()),
        ("intensity", pa.float64()),
    ]
)


def import_sample(
    study: str,
    sample: str,
    spots: Sequence[str],
    files: Sequence[str | Path],
    on_error: str = "stop",
) -> tuple[pa.Table, dict]:
    """Read every spot's file; return the sample table and its provenance metadata.

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
                    pa.array(np.full(n, study, dtype=object), pa.string()),
                    pa.array(np.full(n, sample, dtype=object), pa.string()),
                    pa.array(np.full(n, spot, dtype=object), pa.string()),
                    channel,
                    pa.array(spectrum.mz, pa.float64()),
                    pa.array(spectrum.intensity.astype(np.float64), pa.float64()),
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
