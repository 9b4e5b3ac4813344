"""Peak search proposes intervals holding the simulated ions, named by the right formula."""

import numpy as np
import pytest

from simsflow.chemistry import ion_mz
from simsflow.peaksearch import candidate_formulas, propose_mass_list
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
