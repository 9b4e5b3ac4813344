"""The spectrum stages of a batch of samples in one process: import, calibration, integration
and the summed spectrum of every sample, with the same results (byte for byte, once written)
as the per-sample jobs. A batch job spares the per-job start-up (interpreter, imports,
scheduling) that dominates when a sample's spectra take milliseconds."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from .calibrate import CalibrationSettings, calibrate_sample
from .integrate import IntegrationSettings, integrate_sample
from .io.importer import import_sample
from .summed import sample_summed

NOTE_COLUMNS = ["study", "sample", "spot", "ion", "issue"]


@dataclass
class SampleResult:
    spectra: pa.Table
    provenance: dict
    calibration: pd.DataFrame
    peaks: pd.DataFrame
    notes: pd.DataFrame
    summed: pd.DataFrame


def process_sample(
    study: str,
    sample: str,
    spots: list[str],
    files: list[str],
    calibration: CalibrationSettings,
    integration: IntegrationSettings,
    mass_list: pd.DataFrame,
    on_error: str = "stop",
) -> SampleResult:
    """Import, calibrate and integrate one sample's spectra (the three per-sample rules)."""
    table, provenance = import_sample(study, sample, spots, files, on_error)
    cal = calibrate_sample(table, calibration)
    peaks, notes = integrate_sample(table, cal, mass_list, provenance, integration)
    return SampleResult(
        table,
        provenance,
        cal,
        peaks,
        pd.DataFrame(notes, columns=NOTE_COLUMNS),
        sample_summed(table, cal),
    )
