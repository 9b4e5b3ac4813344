"""Write demo studies to disk: raw SurfaceLab exports, sheet, mass list, rate test, truth."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..io.spectra import Spectrum, write_spectrum
from ..io.tables import write_parquet, write_tsv
from .study import design, mass_list, rate_test, sample_sheet, simulate_sample, truth_tables


def write_sample(study: str, sample: str, seed: int, raw_dir: str | Path, truth: str | Path):
    """Raw files ``raw_dir/<spot>.txt`` of one sample and its ground-truth table."""
    if design(study).get("kind") == "image":
        write_image_sample(study, sample, seed, raw_dir, truth)
        return
    simulated = simulate_sample(study, sample, seed)
    for spot, spectrum, _, _ in simulated:
        write_spectrum(
            Path(raw_dir) / f"{spot}.txt",
            Spectrum(spectrum.mz, spectrum.intensity, spectrum.channel, spectrum.header),
        )
    spots, ions = truth_tables(study, sample, simulated)
    write_parquet(ions.merge(spots, on=["study", "sample", "spot"], how="left"), truth)


def write_study(study: str, out: str | Path, seed: int = 1) -> None:
    """Everything of a demo study under ``out``: what a user's folder would hold, plus truth.

    The layout is ``samples.tsv``, ``mass_list.tsv``, ``rate_test.tsv`` (cathode),
    ``raw/<sample>/<spot>.txt`` and ``truth/<sample>.parquet``; sheet paths are relative to
    ``out``.
    """
    out = Path(out)
    write_tsv(sample_sheet(study), out / "samples.tsv")
    write_tsv(mass_list(study), out / "mass_list.tsv", float_format="%.6f")
    rates = rate_test(study)
    if not rates.empty:
        write_tsv(rates, out / "rate_test.tsv")
    for entry in design(study)["samples"]:
        name = entry["sample"]
        write_sample(study, name, seed, out / "raw" / name, out / "truth" / f"{name}.parquet")


def write_image_sample(study, sample, seed, raw_dir, truth) -> None:
    """SurfaceLab image exports ``raw_dir/<region>/<region> (<n>) - <ion>.txt`` per region, and
    per region and ion the true pixel-wise ratio (mean over pixels of expected / expected total)
    and the phase fractions."""
    import numpy as np

    from ..io.images import write_surfacelab_region
    from .images import PHASES, simulate_region
    from .study import _spots, spot_rng

    d = design(study)
    entry = next(e for e in d["samples"] if e["sample"] == sample)
    ions = list(d["ions"])
    rows = []
    for spot in _spots(entry):
        stack, t = simulate_region(
            ions, entry["degradation"], spot_rng(seed, study, sample, spot), int(d["size"])
        )
        write_surfacelab_region(Path(raw_dir) / spot, spot, stack, ions)
        phase_share = {f"share_{p}": float(np.mean(t["phases"] == k)) for k, p in enumerate(PHASES)}
        for ion in ions:
            rows.append(
                {
                    "study": study,
                    "sample": sample,
                    "spot": spot,
                    "ion": ion,
                    "true_pixel_ratio": float(np.mean(t["expected"][ion] / t["expected_total"])),
                    "degradation": entry["degradation"],
                    **phase_share,
                }
            )
    write_parquet(pd.DataFrame(rows), truth)
