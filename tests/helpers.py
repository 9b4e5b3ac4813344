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


def simulated_counts(
    study: str, samples: dict[str, dict], ions: list[str], seed: int = 1, spot_spread=None
) -> pd.DataFrame:
    """Peak rows from the simulator's expected ion counts at each spot, with Poisson noise
    (no spectrum is simulated, so it is fast): ``samples`` maps a sample name to its design
    entry (``powders``, ``spots``, optional ``role``/``label``). ``spot_spread``, if given, is
    the sigma of an extra lognormal factor per spot (primary current, topography)."""
    import numpy as np

    from simsflow.simulate.study import spot_ion_counts, spot_rng

    noise = np.random.default_rng(seed)
    rows = []
    for sample, entry in samples.items():
        for k in range(entry["spots"]):
            spot = f"{k + 1:02d}"
            expected, _ = spot_ion_counts(
                study, {"sample": sample, **entry}, spot_rng(seed, study, sample, spot)
            )
            factor = noise.lognormal(0.0, spot_spread) if spot_spread else 1.0
            mean = np.array([expected.get(i, 0.0) for i in ions]) * factor
            counts = noise.poisson(mean).astype(float)
            rows.append(
                {
                    "study": study,
                    "sample": sample,
                    "spot": spot,
                    "role": entry.get("role", "train"),
                    "label": entry.get("label", sample),
                    **dict(zip(ions, counts, strict=True)),
                    "total_counts": counts.sum() * 1.1,
                }
            )
    return pd.DataFrame(rows)
