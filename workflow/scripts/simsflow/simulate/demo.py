"""Write demo studies to disk: raw SurfaceLab exports, sheet, mass list, rate test, truth."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..io.spectra import Spectrum, write_spectrum
from ..io.tables import write_parquet, write_tsv
from .study import design, mass_list, rate_test, sample_sheet, simulate_sample, truth_tables


def write_sample(study: str, sample: str, seed: int, raw_dir: str | Path, truth: str | Path):
    """Raw files ``raw_dir/<spot>.txt`` of one sample and its ground-truth table."""
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


def read_truth(paths) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
