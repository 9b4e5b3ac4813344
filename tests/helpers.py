"""Test helpers: simulated samples through the library's calibration and integration."""

from __future__ import annotations

import pandas as pd

from simsflow.calibrate import CalibrationSettings, calibrate_sample, reference_ions_for
from simsflow.integrate import IntegrationSettings, integrate_sample
from simsflow.io.spectra import Spectrum
from simsflow.simulate.study import simulate_entry


def spectra_frame(spectra, study="t", sample="s", with_channel=True, deadtime_corrected=None):
    """Simulated spectra [(spot, SimulatedSpectrum)] as the import writes them: the spectra
    table and its provenance (dead-time flag from the export header unless given)."""
    frames, spots = [], []
    for spot, s in spectra:
        channel = s.channel if with_channel else pd.array([None] * s.mz.size, "Int64")
        frames.append(
            pd.DataFrame(
                {
                    "study": study,
                    "sample": sample,
                    "spot": spot,
                    "channel": channel,
                    "mz": s.mz,
                    "intensity": s.intensity.astype(float),
                }
            )
        )
        corrected = deadtime_corrected
        if corrected is None:
            corrected = Spectrum(s.mz, s.intensity, header=s.header).deadtime_corrected
        spots.append(
            {
                "spot": spot,
                "file": f"{spot}.txt",
                "header": s.header,
                "deadtime_corrected": corrected,
            }
        )
    return pd.concat(frames, ignore_index=True), {"spots": spots}


def simulated_peak_rows(
    study: str,
    entry: dict,
    seed: int,
    mass_list: pd.DataFrame,
    *,
    extra_reference=(),
    deadtime_shots=None,
    role: str = "predict",
) -> pd.DataFrame:
    """Peak-table rows of a simulated sample (any composition), as the workflow would make them."""
    simulated = [(spot, s) for spot, s, _, _ in simulate_entry(study, entry, seed)]
    spectra, provenance = spectra_frame(simulated, study, entry["sample"])
    calibration = calibrate_sample(
        spectra, CalibrationSettings(reference_ions_for("negative", list(extra_reference)))
    )
    peaks, _ = integrate_sample(
        spectra,
        calibration,
        mass_list,
        provenance,
        IntegrationSettings(deadtime_shots=deadtime_shots),
    )
    peaks.insert(3, "role", role)
    peaks.insert(4, "label", "")
    return peaks
