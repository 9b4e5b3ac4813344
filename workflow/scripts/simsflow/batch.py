"""The spectrum stages of a batch of samples in one process: import, calibration, integration
and the summed spectrum of every sample, with the same results (byte for byte, once written)
as the per-sample jobs. A batch job spares the per-job start-up (interpreter, imports,
scheduling) that dominates when a sample's spectra take milliseconds."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from .calibrate import CalibrationSettings, calibrate_spots, calibration_table
from .integrate import IntegrationSettings, finish_samples, prepare_sample
from .io.importer import read_sample, spectra_table
from .io.spectra import LoadedSpectra, load_spectra_together
from .spots import Spot
from .summed import sample_summed


@dataclass
class SampleResult:
    """One sample's spectrum stages done in a batch job: its spots, tables and provenance."""

    spots: list[Spot]
    spectra: pa.Table
    provenance: dict
    calibration: pd.DataFrame
    peaks: pd.DataFrame
    notes: pd.DataFrame

    @functools.cached_property
    def summed(self) -> pd.DataFrame:
        """The sample's summed calibrated spectrum (made when first asked for)."""
        return sample_summed(self.spots, self.calibration)


@dataclass(frozen=True)
class SampleJob:
    """What a batch job needs to process one sample: ids, files and settings."""

    study: str
    sample: str
    spots: list[str]
    files: list[str]
    calibration: CalibrationSettings
    on_error: str = "stop"


CHUNK_SAMPLES = 8  # samples calibrated together in a batch


def _chunks(jobs: list[SampleJob], size: int) -> list[list[SampleJob]]:
    """Consecutive jobs with the same calibration settings, at most ``size`` at a time."""
    chunks: list[list[SampleJob]] = []
    for job in jobs:
        if chunks and len(chunks[-1]) < size and job.calibration == chunks[-1][0].calibration:
            chunks[-1].append(job)
        else:
            chunks.append([job])
    return chunks


def _load(chunk: list[SampleJob]) -> list[LoadedSpectra]:
    return [load_spectra_together(job.files) for job in chunk]


def process_samples(
    jobs: list[SampleJob],
    integration: IntegrationSettings,
    mass_list: pd.DataFrame,
    chunk: int = CHUNK_SAMPLES,
) -> Iterator[SampleResult]:
    """``process_sample`` for every job, in order, with the same results; a few samples at a
    time (``chunk``), the next few read in a second thread meanwhile.

    The second thread only reads the files and parses them (``load_spectra_together``),
    which runs mostly outside the GIL, so on two cores it overlaps this thread's work (value
    checks, hashing, calibration, integration). The samples of a chunk are calibrated
    together: each step of the calibration is then one set of array operations for all their
    spectra instead of one per sample.
    """
    chunks = _chunks(jobs, chunk)
    if not chunks:
        return
    with ThreadPoolExecutor(max_workers=1) as reader:
        pending = reader.submit(_load, chunks[0])
        for k, this in enumerate(chunks):
            loaded = pending.result()
            if k + 1 < len(chunks):
                pending = reader.submit(_load, chunks[k + 1])
            yield from _process_chunk(this, loaded, integration, mass_list)


def _process_chunk(chunk, loaded, integration, mass_list) -> Iterator[SampleResult]:
    """Import each sample, calibrate them together, integrate them (their fits together); an
    error surfaces where one sample at a time would raise it (after the samples before it)."""
    read, error = [], None
    for job, files in zip(chunk, loaded, strict=True):
        try:
            read.append(_read(job, files.spectra()))
        except Exception as err:  # raised once the samples read before it are done
            error = err
            break
    settings = chunk[0].calibration
    results = calibrate_spots([one for spots, _, _ in read for one in spots], settings)
    start, calibrations, prepared = 0, [], []
    for spots, _, provenance in read:
        end = start + len(spots)
        cal = calibration_table(spots, {c: v[start:end] for c, v in results.items()}, settings)
        start = end
        try:
            prepared.append(prepare_sample(spots, cal, mass_list, provenance, integration))
        except Exception as err:  # as above: raised after the samples before it
            error = err
            break
        calibrations.append(cal)
    # the fits of the chunk's samples together (the same numbers as one at a time)
    integrated = finish_samples(prepared, mass_list, integration)
    for (spots, table, provenance), cal, (peaks, notes) in zip(
        read, calibrations, integrated, strict=False
    ):
        yield SampleResult(spots, table, provenance, cal, peaks, notes)
    if error is not None:
        raise error


def _read(job: SampleJob, spectra) -> tuple[list[Spot], pa.Table, dict]:
    """The import of one sample from its files as read (``LoadedSpectra.spectra()``): its
    spots (used by the later stages, no split of the table needed) and the table the import
    writes."""
    read, provenance = read_sample(
        job.study, job.sample, job.spots, job.files, job.on_error, spectra
    )
    return read, spectra_table(read), provenance


def process_sample(
    job: SampleJob, integration: IntegrationSettings, mass_list: pd.DataFrame
) -> SampleResult:
    """Import, calibrate and integrate one sample's spectra (what the three per-sample rules
    compute; a chunk of one)."""
    return next(_process_chunk([job], _load([job]), integration, mass_list))
