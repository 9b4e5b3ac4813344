"""Peak search proposes intervals holding the simulated ions, named by the right formula."""

import numpy as np
import pytest

from simsflow.chemistry import ion_mz
from simsflow.io.masslist import read_mass_list
from simsflow.io.tables import write_tsv
from simsflow.peaksearch import DEFAULT_ELEMENTS, candidate_formulas, mz_name, propose_mass_list
from simsflow.simulate.instrument import Instrument, simulate_spectrum

IONS = {"C2H-": 9e4, "CN-": 4e4, "OH-": 1e5, "LiCO3-": 3e4, "PO3-": 5e4, "S2-": 6e4}
ELEMENTS = {"H": 2, "Li": 2, "C": 3, "N": 1, "O": 4, "P": 1, "S": 3}


def test_candidate_formulas_are_named_and_exact():
    mz, names = candidate_formulas({"Li": 1, "C": 1, "O": 3}, 70.0, "negative")
    lookup = dict(zip(names, mz, strict=True))
    assert lookup["LiCO3-"] == pytest.approx(ion_mz("LiCO3-"), abs=1e-9)
    assert lookup["CO3-"] == pytest.approx(ion_mz("CO3-"), abs=1e-9)
    assert "" not in names and "-" not in names


def test_peak_search_finds_and_assigns_simulated_ions():
    inst = Instrument(mass_max=110.0, n_shots=10**12)
    s = simulate_spectrum(inst, IONS, np.random.default_rng(4))
    p = s.params
    true_mz = ((s.channel * inst.channel_width_ns - p.t0_ns) / p.k_ns) ** 2  # calibrated axis
    proposed = propose_mass_list(
        true_mz, s.intensity.astype(float), polarity="negative", elements=ELEMENTS, tolerance_ppm=20
    )
    assert (proposed["lower"].to_numpy()[1:] >= proposed["upper"].to_numpy()[:-1]).all()
    by_name = proposed.set_index("ion")
    for ion in IONS:
        row = by_name.loc[ion]
        assert row["lower"] < ion_mz(ion) < row["upper"]
        assert abs(row["mz"] / ion_mz(ion) - 1) < 20e-6
    # weaker isotopologues are found too, and stay unassigned rather than misnamed
    assert len(proposed) > len(IONS)


METALS = {"Ru+": 4e5, "Pd+": 4e5, "Pt+": 3e5, "RuO+": 1e5, "PdO+": 8e4, "Pd2+": 6e4, "RuPd+": 5e4}


@pytest.fixture(scope="module")
def metal_spectrum():
    """A positive spectrum of a Ru-Pd-Pt alloy on its true mass axis."""
    inst = Instrument(mass_max=240.0, n_shots=10**12)
    s = simulate_spectrum(inst, {"Li+": 2e5, "C2H3+": 1e5, **METALS}, np.random.default_rng(7))
    p = s.params
    return ((s.channel * inst.channel_width_ns - p.t0_ns) / p.k_ns) ** 2, s.intensity.astype(float)


def test_default_elements_name_metal_clusters_and_oxides(metal_spectrum):
    proposed = propose_mass_list(*metal_spectrum, polarity="positive").set_index("ion")
    # each simulated ion's peak of main isotopes carries its name, told apart from the
    # thousands of formulas within a few ppm by its isotope pattern (Pd2+ and RuPd+ overlap at
    # 208-216 u and are still told apart)
    for ion in METALS:
        exact = ion_mz(ion)
        row = proposed[(proposed["lower"] <= exact) & (proposed["upper"] > exact)]
        assert list(row.index) == [ion]
    named = list(METALS)
    groups = proposed.loc[named, "group"].to_dict()
    assert {groups[i] for i in named if "O" in i} <= {"metal_oxide"}
    assert {groups[i] for i in named if "O" not in i} <= {"metal_cluster"}


def test_the_proposal_is_a_valid_mass_list(metal_spectrum, tmp_path, mass_schema):
    proposed = propose_mass_list(*metal_spectrum, polarity="positive")
    path = tmp_path / "proposed.tsv"
    write_tsv(proposed, path, float_format="%.6f")
    read = read_mass_list(path, mass_schema)
    assert len(read) == len(proposed) > 20
    assert read["ion"].is_unique
    unassigned = proposed[proposed["formula"] == ""]
    assert len(unassigned) and unassigned["ion"].str.fullmatch(r"m\d+\.\d{3,6}\+").all()
    assigned = read[read["formula"] != ""]
    assert ((assigned["lower"] <= assigned["mz"]) & (assigned["mz"] <= assigned["upper"])).all()
    # the same spectrum gives the same file, byte for byte
    again = tmp_path / "again.tsv"
    write_tsv(propose_mass_list(*metal_spectrum, polarity="positive"), again, float_format="%.6f")
    assert again.read_bytes() == path.read_bytes()


def test_unassigned_peaks_get_unique_mz_names():
    assert mz_name(27.02341, "+", set()) == "m27.023+"
    assert mz_name(27.02341, "+", {"m27.023+"}) == "m27.0234+"


def test_the_schema_default_elements_are_the_library_default(config_schema):
    study = config_schema["$defs"]["study"]["properties"]
    assert study["peak_search"]["properties"]["elements"]["default"] == DEFAULT_ELEMENTS


def test_within_a_few_ppm_the_simpler_formula_names_the_peak():
    # LiC2H3F- lies 0.8 ppm from Li3O2- (closer to the apex here), with a similar pattern;
    # no calibration tells them apart, and SIMS fragments are small
    inst = Instrument(mass_max=80.0, n_shots=10**12)
    ions = {"Li3O2-": 2e5, "LiO-": 2e5, "C2H-": 1e5}
    s = simulate_spectrum(inst, ions, np.random.default_rng(3))
    p = s.params
    true_mz = ((s.channel * inst.channel_width_ns - p.t0_ns) / p.k_ns) ** 2
    proposed = propose_mass_list(true_mz, s.intensity.astype(float), polarity="negative")
    exact = ion_mz("Li3O2-")
    row = proposed[(proposed["lower"] <= exact) & (proposed["upper"] > exact)].iloc[0]
    assert "LiC2H3F-" in row["candidates"]
    assert row["ion"] == "Li3O2-"


def test_metal_formulas_hold_oxygen_and_at_most_one_hydrogen():
    _, names = candidate_formulas({"Ni": 1, "O": 2, "H": 4}, 100.0, "negative")
    assert {"NiH-", "NiO2H-", "H4-", "OH2-"} <= set(names)
    assert "NiH2-" not in names and "NiOH2-" not in names


def test_on_a_coarsely_binned_export_a_peak_is_named_only_when_one_formula_fits():
    """The SurfaceLab fixture, binned by 200 channels (bins about 2,000 ppm wide at 35 u): its
    Cl- peak was named OF- in a run (28 ppm from the bin's centre, Cl- 670 ppm). Within half
    a bin several formulas fit, so such a peak keeps its m/z name and lists them; so does a
    peak whose one formula within half a bin lies beyond tolerance_ppm (O-, 800 ppm)."""
    from simsflow.io.spectra import read_spectrum

    from .conftest import FIXTURES

    spectrum = read_spectrum(FIXTURES / "iontof-ascii" / "N_Ru-Pt_Bi3_1.txt")
    proposed = propose_mass_list(spectrum.mz, spectrum.intensity.astype(float), polarity="negative")
    chlorine = proposed.loc[(proposed["mz"] - 35.0).abs() < 0.05].iloc[0]
    assert chlorine["ion"].startswith("m34.99") and chlorine["formula"] == ""
    assert chlorine["candidates"].startswith("Cl- (+") and "OF- (" in chlorine["candidates"]
    oxygen = proposed.loc[(proposed["mz"] - 15.98).abs() < 0.05].iloc[0]
    assert oxygen["ion"].startswith("m15.9") and oxygen["candidates"].startswith("O- (-")
    # at bins this coarse no peak of the fixture has one formula alone within tolerance_ppm
    assert (proposed["formula"] == "").all()


def test_the_proposal_on_the_binned_study_reads_back_as_a_mass_list(tmp_path, mass_schema):
    """The SurfaceLab fixture shifted 1,000 ppm, as a recalibration may move it: named by any
    formula alone within half a bin (0.07 u at 172 u), the proposal named peaks up to 0.076 u
    from their formula (FeNi2- in a run), which the run then refused to read ('mz disagrees
    with formula'); a coarse peak's formula now lies within tolerance_ppm."""
    from simsflow.io.spectra import read_spectrum

    from .conftest import FIXTURES

    spectrum = read_spectrum(FIXTURES / "iontof-ascii" / "N_Ru-Pt_Bi3_1.txt")
    proposed = propose_mass_list(
        spectrum.mz * (1 - 1000e-6), 6 * spectrum.intensity.astype(float), polarity="negative"
    )
    path = tmp_path / "proposed.tsv"
    write_tsv(proposed, path, float_format="%.6f")
    read = read_mass_list(path, mass_schema)
    assert len(read) == len(proposed)
