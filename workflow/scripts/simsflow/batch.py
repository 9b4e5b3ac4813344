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

from .calibrate import CalibrationSettings, calibrate_sample
from .integrate import IntegrationSettings, integrate_sample
from .io.importer import read_sample, spectra_table
from .spots import Spot
from .summed import sample_summed


@dataclass
class SampleResult:
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
    study: str
    sample: str
    spots: list[str]
    files: list[str]
    calibration: CalibrationSettings
    on_error: str = "stop"


def process_samples(
    jobs: list[SampleJob], integration: IntegrationSettings, mass_list: pd.DataFrame
) -> Iterator[SampleResult]:
    """``process_sample`` for every job, in order, reading the next sample's files in a second
    thread while this one is calibrated and integrated.

    Parsing (pyarrow) and hashing release the GIL, so on two cores the reading of files and the
    Python-side fitting overlap; results are the same as one sample at a time.
    """
    if not jobs:
        return
    with ThreadPoolExecutor(max_workers=1) as reader:
        pending = reader.submit(_read, jobs[0])
        for k, job in enumerate(jobs):
            spots, table, provenance = pending.result()
            if k + 1 < len(jobs):
                pending = reader.submit(_read, jobs[k + 1])
            yield _finish(spots, table, provenance, job.calibration, integration, mass_list)


def _read(job: SampleJob) -> tuple[list[Spot], pa.Table, dict]:
    """The import of one sample: its spots as read (used by the later stages, no split of the
    table needed) and the table the import writes."""
    read, provenance = read_sample(job.study, job.sample, job.spots, job.files, job.on_error)
    return read, spectra_table(read), provenance


def _finish(spots, table, provenance, calibration, integration, mass_list) -> SampleResult:
    cal = calibrate_sample(spots, calibration)
    peaks, notes = integrate_sample(spots, cal, mass_list, provenance, integration)
    return SampleResult(spots, table, provenance, cal, peaks, notes)


def process_sample(
    job: SampleJob, integration: IntegrationSettings, mass_list: pd.DataFrame
) -> SampleResult:
    """Import, calibrate and integrate one sample's spectra (the three per-sample rules)."""
    return _finish(*_read(job), job.calibration, integration, mass_list)
