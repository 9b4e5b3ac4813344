"""Import: all spectra of one sample into one table (spot x data point)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..errors import InputFileError
from ..spots import Spot, concatenated
from .spectra import Spectrum, read_spectra_together

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


def read_sample(
    study: str,
    sample: str,
    spots: Sequence[str],
    files: Sequence[str | Path],
    on_error: str = "stop",
    spectra: list[Spectrum | InputFileError] | None = None,
    float_channel: bool = True,
) -> tuple[list[Spot], dict]:
    """Read every spot's file; return the spots (as ``iter_spots`` gives them from the sample
    table) and the provenance metadata. ``spectra``: the files already read
    (``read_spectra_together``; a batch reads the next sample in another thread).

    ``float_channel=False`` keeps the export's integer channels (no copy) where the spots only
    go into the sample table.

    With ``on_error='skip'`` a file that cannot be read is left out and listed under
    ``skipped`` in the metadata with its reason; otherwise its error stops the import.
    """
    read, provenance, skipped = [], [], []
    # a copy of the caller's list: each spectrum is then held by its spot only
    spectra = read_spectra_together(files) if spectra is None else list(spectra)
    for k, (spot, file) in enumerate(zip(spots, files, strict=True)):
        spectrum, spectra[k] = spectra[k], None
        if isinstance(spectrum, InputFileError):
            if on_error != "skip":
                raise spectrum
            skipped.append(
                {
                    "study": study,
                    "sample": sample,
                    "spot": spot,
                    "file": str(file),
                    "reason": str(spectrum),
                }
            )
            continue
        channel = spectrum.channel
        if channel is not None and float_channel:
            channel = channel.astype(float)
        read.append(Spot(study, sample, spot, channel, spectrum.mz, spectrum.intensity))
        provenance.append(
            {
                "spot": spot,
                "file": str(file),
                "sha256": spectrum.sha256,
                "header": spectrum.header,
                "n_points": spectrum.mz.size,
                "deadtime_corrected": spectrum.deadtime_corrected,
            }
        )
    return read, {"study": study, "sample": sample, "spots": provenance, "skipped": skipped}


def spectra_table(spots: Sequence[Spot]) -> pa.Table:
    """The sample table of spots (one row per data point, a spot's rows contiguous), built in
    one piece: label columns dictionary-encoded, channel null for spots without channels."""
    if not spots:
        return SPECTRA_SCHEMA.empty_table()
    sizes = [s.mz.size for s in spots]
    n = sum(sizes)
    names = list(dict.fromkeys(s.spot for s in spots))
    zeros = pa.array(np.zeros(n, np.int32))
    codes = zeros  # one spot: every row's code is 0 (one shared array, not another n rows)
    if len(names) > 1:
        codes = np.repeat(
            np.array([names.index(s.spot) for s in spots], dtype=np.int32), np.array(sizes)
        )

    def labels(values: list[str], indices) -> pa.DictionaryArray:
        return pa.DictionaryArray.from_arrays(indices, pa.array(values, pa.string()))

    has_channel = [s.channel is not None for s in spots]
    channel = concatenated(
        [s.channel if s.channel is not None else np.zeros(s.mz.size) for s in spots]
    ).astype(np.int64, copy=False)
    mask = None if all(has_channel) else np.repeat(~np.array(has_channel), np.array(sizes))
    return pa.table(
        [
            labels([spots[0].study], zeros),
            labels([spots[0].sample], zeros),
            labels(names, pa.array(codes)),  # a no-op on zeros
            pa.array(channel, pa.int64(), mask=mask),
            pa.array(concatenated([s.mz for s in spots]), pa.float64()),
            pa.array(concatenated([s.intensity for s in spots]), pa.float64()),
        ],
        schema=SPECTRA_SCHEMA,
    )


def import_sample(
    study: str,
    sample: str,
    spots: Sequence[str],
    files: Sequence[str | Path],
    on_error: str = "stop",
) -> tuple[pa.Table, dict]:
    """Read every spot's file; return the sample table and its provenance metadata
    (``read_sample``, then ``spectra_table``).

    The label columns (study, sample, spot) are dictionary-encoded in memory; ``write_parquet``
    stores them as plain strings.
    """
    read, provenance = read_sample(study, sample, spots, files, on_error, float_channel=False)
    return spectra_table(read), provenance


def warn_skipped(log: logging.Logger, provenance: dict) -> None:
    """One warning in the job's log for each file the import left out (``on_error: skip``)."""
    for skipped in provenance["skipped"]:
        log.warning("skipped %s: %s", skipped["file"], skipped["reason"])
