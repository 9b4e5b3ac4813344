"""Test helpers: simulated samples through the library's calibration and integration."""

from __future__ import annotations

import pandas as pd

from simsflow.calibrate import CalibrationSettings, calibrate_sample, reference_ions_for
from simsflow.integrate import IntegrationSettings, integrate_sample
from simsflow.io.spectra import Spectrum
from simsflow.simulate.study import simulate_entry


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
    frames, spots = [], []
    for spot, s, _, _ in simulate_entry(study, entry, seed):
        frames.append(
            pd.DataFrame(
                {
                    "study": study,
                    "sample": entry["sample"],
                    "spot": spot,
                    "channel": s.channel,
                    "mz": s.mz,
                    "intensity": s.intensity.astype(float),
                }
            )
        )
        spots.append(
            {
                "spot": spot,
                "file": f"{spot}.txt",
                "header": s.header,
                "deadtime_corrected": Spectrum(
                    s.mz, s.intensity, header=s.header
                ).deadtime_corrected,
            }
        )
    spectra = pd.concat(frames, ignore_index=True)
    calibration = calibrate_sample(
        spectra, CalibrationSettings(reference_ions_for("negative", list(extra_reference)))
    )
    peaks, _ = integrate_sample(
        spectra,
        calibration,
        mass_list,
        {"spots": spots},
        IntegrationSettings(deadtime_shots=deadtime_shots),
    )
    peaks.insert(3, "role", role)
    peaks.insert(4, "label", "")
    return peaks
