"""The two demo studies: sample sheets, mass lists, per-spot chemistry and ground truth.

Designs and ion yields are data (``data/designs.yaml``, ``data/ion_yields.tsv``). Every spot's
random stream is seeded from (seed, study, sample, spot), so a sample's spectra do not change
when other samples are added, and each sample can be simulated in its own job.
"""

from __future__ import annotations

import dataclasses
import zlib
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd
import yaml

from ..chemistry import ion_mz, parse_ion
from ..errors import SimsflowError
from .instrument import (
    Instrument,
    SimulatedSpectrum,
    SpectrumParameters,
    peak_fwhm_ns,
    simulate_spectrum,
    stored_mz_error_ppm,
)

STUDIES = ("lithium", "cathode", "cathode_images")
LI_COMPOUNDS = ("Li2CO3", "Li2O", "Li3N", "LiH", "LiOH")
PATHWAYS = ("polysulfide", "oxygenated")
SHEET_COLUMNS = (
    "sample",
    "spot",
    "file",
    "polarity",
    "role",
    "label",
    "category",
    "remark",
    "group",
    "coating",
    "thickness",
    "kind",
)


def _data_text(name: str) -> str:
    return resources.files("simsflow.simulate").joinpath(f"data/{name}").read_text("utf-8")


@cache
def designs() -> dict:
    """Every demo study's design (designs.yaml)."""
    return yaml.safe_load(_data_text("designs.yaml"))


def design(study: str) -> dict:
    """One demo study's design; an error naming the studies for an unknown one."""
    if study not in STUDIES:
        raise SimsflowError(
            f"unknown demo study '{study}'", hint=f"choose one of {', '.join(STUDIES)}"
        )
    return designs()[study]


@cache
def ion_yields() -> pd.DataFrame:
    """The simulator's ion yields per compound (ion_yields.tsv, with their sources)."""
    lines = [ln for ln in _data_text("ion_yields.tsv").splitlines() if not ln.startswith("#")]
    header, *rows = (ln.split("\t") for ln in lines if ln)
    frame = pd.DataFrame(rows, columns=header)
    frame["yield"] = frame["yield"].astype(float)
    return frame


def _yields(source: str, polarity: str) -> dict[str, float]:
    table = ion_yields()
    rows = table[(table["source"] == source) & (table["polarity"] == polarity)]
    return dict(zip(rows["ion"], rows["yield"], strict=True))


def instrument(study: str) -> Instrument:
    """The simulated instrument of a demo study (mass range, resolution, binning...)."""
    d = design(study)
    return Instrument(
        mass_max=float(d["mass_max"]),
        n_shots=int(d["n_shots"]),
        deadtime_correction=bool(d["deadtime_correction"]),
        calibration_span=(1.0, float(d["mass_max"])),
    )


def _spots(entry: dict) -> list[str]:
    return [f"{i:02d}" for i in range(1, int(entry["spots"]) + 1)]


def sample_sheet(study: str) -> pd.DataFrame:
    """The sheet of a demo study: one row per spectrum, files relative to the data directory."""
    d = design(study)
    rows = []
    for entry in d["samples"]:
        for spot in _spots(entry):
            image = d.get("kind") == "image"
            row = {
                "sample": entry["sample"],
                "spot": spot,
                "file": f"raw/{entry['sample']}/{spot}" + ("" if image else ".txt"),
                "polarity": d["polarity"],
            }
            if image:
                row["kind"] = "image"
            for column in SHEET_COLUMNS[4:]:
                if column in entry:
                    row[column] = entry[column]
            rows.append(row)
    frame = pd.DataFrame(rows)
    columns = [c for c in SHEET_COLUMNS if c in frame.columns]
    return frame[columns].fillna("").astype(str)


def _design(study: str, polarity: str | None = None) -> dict:
    """A demo design, optionally measured in the other polarity (same samples and chemistry,
    that polarity's ion yields)."""
    return design(study) if polarity is None else {**design(study), "polarity": polarity}


def _study_ions(study: str, polarity: str | None = None) -> list[str]:
    d = _design(study, polarity)
    if d.get("kind") == "image":
        return sorted(d["ions"], key=ion_mz)
    if study == "lithium":
        sources = [*LI_COMPOUNDS, "contamination"]
    else:
        sources = ["Li6PS5Cl", "NCM", *PATHWAYS, "LiNbO3", "ZrO2", "X", "contamination"]
    ions = set()
    for source in sources:
        ions.update(_yields(source, d["polarity"]))
    return sorted(ions, key=ion_mz)


def mass_list(
    study: str, inst: Instrument | None = None, polarity: str | None = None
) -> pd.DataFrame:
    """Mass-interval list of a demo study.

    Bounds span 1.2 nominal FWHM below and 2 above each ion (peaks tail to high mass); where two
    neighbours' intervals would overlap, both stop at the point between them that splits the gap
    in proportion to their widths. ``polarity`` other than the design's: that polarity's ions.
    """
    d = _design(study, polarity)
    group_of = {ion: g for g, ions in d["groups"].items() for ion in ions}
    if d.get("kind") == "image":  # imaging mode resolves about unit mass: +-0.2 u
        ions = _study_ions(study, polarity)
        mz = np.array([ion_mz(i) for i in ions])
        return pd.DataFrame(
            {
                "ion": ions,
                "formula": [parse_ion(i).name.rstrip("+-") for i in ions],
                "mz": np.round(mz, 6),
                "lower": np.round(mz - 0.2, 6),
                "upper": np.round(mz + 0.2, 6),
                "group": [group_of.get(i, "contamination") for i in ions],
            }
        )
    inst = inst or instrument(study)
    nominal = SpectrumParameters(inst.resolution, 0.0, inst.k_ns, 0.0, 0.0)
    ions = _study_ions(study, polarity)
    mz = np.array([ion_mz(i) for i in ions])
    flight = inst.k_ns * np.sqrt(mz)
    fwhm = mz * 2.0 * peak_fwhm_ns(inst, nominal, mz) / flight
    lower, upper = mz - 1.2 * fwhm, mz + 2.0 * fwhm
    for i in range(len(ions) - 1):
        if upper[i] > lower[i + 1]:
            gap = mz[i + 1] - mz[i]
            split = mz[i] + gap * fwhm[i] / (fwhm[i] + fwhm[i + 1])
            upper[i] = lower[i + 1] = split
    frame = pd.DataFrame(
        {
            "ion": ions,
            "formula": [parse_ion(i).name.rstrip("+-") for i in ions],
            "mz": np.round(mz, 6),
            "lower": np.round(lower, 6),
            "upper": np.round(upper, 6),
            "group": [group_of.get(i, "contamination") for i in ions],
        }
    )
    return frame


def rate_test(study: str) -> pd.DataFrame:
    """Rate-test capacities (mAh/g) of the cathode samples that were cycled."""
    rows = [
        {
            "sample": e["sample"],
            "capacity_0.1C": e["capacity"][0],
            "capacity_1C": e["capacity"][1],
            "capacity_2C": e["capacity"][2],
        }
        for e in design(study)["samples"]
        if "capacity" in e
    ]
    return pd.DataFrame(rows)


def spot_rng(seed: int, study: str, sample: str, spot: str) -> np.random.Generator:
    """The random generator of one spot, the same whatever order spots are simulated in."""
    key = [seed, zlib.crc32(study.encode()), zlib.crc32(sample.encode()), int(spot)]
    return np.random.default_rng(np.random.SeedSequence(key))


def _lithium_fractions(d: dict, entry: dict, rng: np.random.Generator) -> dict[str, float]:
    """Compound fractions at one spot: powder impurities and mixing vary from spot to spot."""
    if "compounds" in entry:
        nominal = entry["compounds"]
        jitter = {c: x * rng.lognormal(0.0, 0.15) for c, x in nominal.items()}
        total = sum(jitter.values())
        return {c: x / total for c, x in jitter.items()}
    powders = dict(entry["powders"])
    if len(powders) == 2:
        a, b = sorted(powders)
        x = float(np.clip(powders[a] + rng.normal(0.0, 0.03), 0.05, 0.95))
        powders = {a: x, b: 1.0 - x}
    fractions: dict[str, float] = {}
    for powder, weight in powders.items():
        comp = d["powders"][powder]
        main = max(comp, key=comp.get)
        impurities = {c: x * rng.lognormal(0.0, 0.3) for c, x in comp.items() if c != main}
        impurities[main] = max(1.0 - sum(impurities.values()), 0.0)
        for c, x in impurities.items():
            fractions[c] = fractions.get(c, 0.0) + weight * x
    return fractions


def _lithium_ions(d: dict, fractions: dict[str, float]) -> dict[str, float]:
    counts: dict[str, float] = {}
    matrix = d.get("matrix", [])
    for compound, x in fractions.items():
        ln_factor = sum(
            m["ln_factor"] * fractions.get(m["partner"], 0.0)
            for m in matrix
            if m["compound"] == compound
        )
        yields = _yields(compound, d["polarity"])
        norm = sum(yields.values())
        weight = x * d["sensitivity"][compound] * np.exp(ln_factor) / norm
        for ion, y in yields.items():
            counts[ion] = counts.get(ion, 0.0) + weight * y
    return counts


def _cathode_ions(d: dict, entry: dict, rng: np.random.Generator) -> tuple[dict, dict]:
    electrolyte = rng.uniform(0.6, 0.85)
    weights = {
        "Li6PS5Cl": electrolyte,
        "NCM": 1.0 - electrolyte,
        "polysulfide": entry["polysulfide"] * rng.lognormal(0.0, 0.1),
        "oxygenated": entry["oxygenated"] * rng.lognormal(0.0, 0.1),
    }
    if entry.get("coating", "none") != "none":
        weights[entry["coating"]] = entry["thickness"] * rng.uniform(0.8, 1.2)
    counts: dict[str, float] = {}
    for source, w in weights.items():
        for ion, y in _yields(source, d["polarity"]).items():
            counts[ion] = counts.get(ion, 0.0) + w * y / 100.0
    return counts, weights


def spot_ion_counts(
    study: str, entry: dict, rng: np.random.Generator, polarity: str | None = None
) -> tuple[dict[str, float], dict]:
    """Expected counts of every ion at one spot, and what is true about that spot (in the
    design's polarity unless ``polarity`` is given)."""
    d = _design(study, polarity)
    spot_factor = rng.lognormal(0.0, 0.3)  # topography and primary current
    if study == "lithium":
        fractions = _lithium_fractions(d, entry, rng)
        chem = _lithium_ions(d, fractions)
        truth = {f"fraction_{c}": fractions.get(c, 0.0) for c in sorted(d["sensitivity"])}
    else:
        chem, weights = _cathode_ions(d, entry, rng)
        truth = {f"weight_{s}": w for s, w in sorted(weights.items())}
        truth.update({p: float(entry[p]) for p in PATHWAYS})
    scale = float(d["total_counts"]) * spot_factor / sum(chem.values())
    counts = {ion: c * scale for ion, c in chem.items()}
    contamination = _yields("contamination", d["polarity"])
    c_norm = (
        d["contamination"] * float(d["total_counts"]) * spot_factor / sum(contamination.values())
    )
    for ion, y in contamination.items():
        counts[ion] = counts.get(ion, 0.0) + y * c_norm * rng.lognormal(0.0, 0.5)
    truth["spot_factor"] = spot_factor
    return counts, truth


def simulate_sample(
    study: str, sample: str, seed: int
) -> list[tuple[str, SimulatedSpectrum, dict, dict[str, float]]]:
    """All spots of one demo sample: (spot, spectrum, truth, expected ion counts)."""
    entries = {e["sample"]: e for e in design(study)["samples"]}
    if sample not in entries:
        raise SimsflowError(f"demo study '{study}' has no sample '{sample}'")
    return simulate_entry(study, entries[sample], seed)


def simulate_entry(
    study: str, entry: dict, seed: int
) -> list[tuple[str, SimulatedSpectrum, dict, dict[str, float]]]:
    """Spots of any sample described like the design's entries (e.g. a compound not in it:
    ``{"sample": "LiF", "spots": 20, "powders": {"LiF": 1.0}}``). An entry's
    ``calibration_error_ppm: [low, high]`` replaces the instrument's range of stored
    calibration errors for its spots (e.g. badly stored calibrations, 1e4-6e4 ppm off)."""
    sample = entry["sample"]
    inst = instrument(study)
    if "calibration_error_ppm" in entry:
        low, high = entry["calibration_error_ppm"]
        inst = dataclasses.replace(inst, calibration_error_ppm=(float(low), float(high)))
    out = []
    for spot in _spots(entry):
        rng = spot_rng(seed, study, sample, spot)
        counts, truth = spot_ion_counts(study, entry, rng)
        spectrum = simulate_spectrum(inst, counts, rng)
        p = spectrum.params
        truth.update(
            resolution=p.resolution,
            t0_ns=p.t0_ns,
            k_ns=p.k_ns,
            stored_alpha=p.stored_alpha,
            stored_beta=p.stored_beta,
            deadtime_correction=inst.deadtime_correction,
            n_shots=inst.n_shots,
        )
        out.append((spot, spectrum, truth, counts))
    return out


def truth_tables(study: str, sample: str, simulated: list) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-spot truth and per (spot, ion) expected counts and stored-calibration error."""
    spots = pd.DataFrame(
        [{"study": study, "sample": sample, "spot": s, **t} for s, _, t, _ in simulated]
    )
    ions = _study_ions(study)
    mz = np.array([ion_mz(i) for i in ions])
    rows = []
    for spot, spectrum, _, counts in simulated:
        ppm = stored_mz_error_ppm(spectrum.params, mz)
        for ion, m, e in zip(ions, mz, ppm, strict=True):
            rows.append(
                {
                    "study": study,
                    "sample": sample,
                    "spot": spot,
                    "ion": ion,
                    "mz": m,
                    "expected_counts": counts.get(ion, 0.0),
                    "stored_error_ppm": e,
                }
            )
    return spots, pd.DataFrame(rows)
