import numpy as np
import pytest

from simsflow.chemistry import ion_mz, isotope_pattern, normalize_ion_name, parse_ion
from simsflow.errors import SimsflowError

# Values from the project's chemistry notes (monoisotopic masses with the electron mass).
REFERENCE_MZ = {
    "CO3-": 59.98529,
    "LiCO3-": 67.00130,
    "O-": 15.99546,
    "Li3C2O6-": 141.01805,
    "Li+": 7.01545,
    "Li3CO3+": 81.03221,
    "LiO-": 23.01147,
    "H-": 1.00837,
    "LiH2-": 9.03220,
    "S2-": 63.94469,
    "LiP2S6-": 260.79650,
    "NiO2-": 89.92572,
    "35Cl-": 34.96940,
    "37Cl-": 36.96645,
    "PO3-": 78.95906,
}


@pytest.mark.parametrize(("ion", "expected"), sorted(REFERENCE_MZ.items()))
def test_ion_mz_matches_reference_values(ion, expected):
    assert ion_mz(ion) == pytest.approx(expected, abs=2e-5)


def test_surfacelab_subscripts_are_normalized():
    assert normalize_ion_name("C_2H-") == "C2H-"
    assert ion_mz("CO_3Li-") == pytest.approx(ion_mz("LiCO3-"))


def test_lithium_isotopologue_is_1_00088_below_and_n_times_0_0821():
    masses, abundances = isotope_pattern("Li3O+")
    main = np.argmax(abundances)
    six = np.argmin(np.abs(masses - (masses[main] - 1.00088)))
    assert masses[main] - masses[six] == pytest.approx(1.00088, abs=2e-4)
    # each 6Li substitution gives n x 0.0821 of the main peak (n = number of Li atoms)
    assert abundances[six] / abundances[main] == pytest.approx(3 * 0.0821, rel=0.01)


def test_chlorine_pattern_is_natural():
    _, abundances = isotope_pattern("Cl-")
    assert abundances[1] / abundances[0] == pytest.approx(0.320, abs=0.002)


def test_pattern_sums_to_one():
    _, abundances = isotope_pattern("LiP2S6-")
    assert abundances.sum() == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("name", "message"),
    [("LiCO3", "no charge sign"), ("Xx2-", "unknown element 'Xx'"), ("9Li-", "unknown isotope")],
)
def test_bad_ion_names_are_explained(name, message):
    with pytest.raises(SimsflowError, match=message):
        parse_ion(name)
