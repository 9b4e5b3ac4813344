"""Results of a sheet batch: one file per stage for all the batch's samples, and the study's
readers of results that come one sample per file or one batch per file.

Why per batch and not per sample: for every output of a job Snakemake records the checksums
of all the job's inputs (snakemake/snakemake#4240), so a batch job with five outputs per
sample costs bookkeeping that grows as the square of the batch (a batch of 100 samples of 10
spots: 6 s of Snakemake's time per job, of 20: 0.3 s). With one file per stage it grows with
the batch. The files hold the same columns as the per-sample ones (each row names its sample),
the spectra one row group per sample.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa

from .importer import SPECTRA_SCHEMA
from .tables import (
    concat_frames,
    concat_tables,
    parquet_parts,
    read_parquet_metadata,
    write_parquet,
    write_tsv,
)


class SampleOutputs(Protocol):
    """What a batch writes of one sample (``simsflow.batch.SampleResult`` is one): the
    readers and writers here know the tables, not the algorithms that made them."""

    spectra: pa.Table
    provenance: dict
    calibration: pd.DataFrame
    peaks: pd.DataFrame
    notes: pd.DataFrame
    summed: pd.DataFrame


# a batch's outputs: stage -> file suffix (results/{study}/batches/{batch}/{stage}.{suffix})
STAGES = {
    "spectra": "parquet",
    "calibration": "parquet",
    "peaks": "parquet",
    "summed": "parquet",
    "qc": "tsv",
}
SKIPPED_COLUMNS = ["study", "sample", "spot", "file", "reason"]


def write_batch(results: Iterable[SampleOutputs], out: Mapping[str, str | Path]) -> list[dict]:
    """Write the results of a batch's samples, one file per stage (``out``: stage -> path);
    the spectra are written as each sample comes, so one sample's are in memory at a time.
    Returns the samples' import provenance, in order (also in the spectra file's metadata
    as ``{"samples": [...]}``). If ``results`` raises, no spectra file is left behind."""
    calibration, peaks, notes, summed, provenance = [], [], [], [], []
    with parquet_parts(out["spectra"], SPECTRA_SCHEMA) as spectra:
        for result in results:
            spectra.add(result.spectra)
            calibration.append(result.calibration)
            peaks.append(result.peaks)
            notes.append(result.notes)
            summed.append(result.summed)
            provenance.append(result.provenance)
        spectra.metadata = {"samples": provenance}
    write_parquet(concat_frames(calibration), out["calibration"])
    write_parquet(concat_frames(peaks), out["peaks"])
    write_parquet(concat_frames(summed), out["summed"])
    write_tsv(concat_frames(notes), out["qc"])
    return provenance


def in_sheet_order(frame: pd.DataFrame, samples: list[str]) -> pd.DataFrame:
    """Rows ordered by their sample's place in ``samples`` (the sheet), each sample's rows
    kept in their order: what concatenating one file per sample in sheet order gives."""
    if frame.empty or "sample" not in frame.columns:
        return frame
    rank = frame["sample"].map({s: k for k, s in enumerate(samples)}).to_numpy(dtype=float)
    return frame.iloc[np.argsort(rank, kind="stable")].reset_index(drop=True)


def read_in_sheet_order(
    paths: list[str], reader: Callable[[str], pd.DataFrame], samples: list[str]
) -> pd.DataFrame:
    """The tables of ``paths`` (per sample or per batch) as one, in sheet order."""
    return in_sheet_order(concat_tables(paths, reader), samples)


def sample_provenance(path: str | Path) -> list[dict]:
    """The import provenance of every sample in a spectra file (one sample's or a batch's)."""
    meta = read_parquet_metadata(path)
    return meta.get("samples", [meta])


def skipped_spectra(paths: list[str], samples: list[str]) -> pd.DataFrame:
    """Every spectrum file an import left out (``on_error: skip``), with its reason, in sheet
    order."""
    rows = [s for p in paths for meta in sample_provenance(p) for s in meta["skipped"]]
    return in_sheet_order(pd.DataFrame(rows, columns=SKIPPED_COLUMNS), samples)
