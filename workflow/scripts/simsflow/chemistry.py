"""Ion formulas, exact m/z and isotopologue patterns computed from isotope data.

Ion names follow the usual ToF-SIMS notation: element symbols with counts and a trailing
charge sign (``LiCO3-``, ``Li3O+``). A leading mass number selects one isotope (``6LiO-``,
``37Cl-``); SurfaceLab's subscript underscores (``C_2H-``) and carets are ignored. The m/z of an
ion is the mass of its atoms plus (anion) or minus (cation) the electron mass. Isotope masses and
abundances are data (``data/isotopes.tsv``, NIST), never typed into code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from .errors import SimsflowError

ELECTRON_MASS = 0.00054858

_TOKEN = re.compile(r"(\d*)([A-Z][a-z]?)(\d*)")
_CHARGE = re.compile(r"^(?P<body>.*?)(?P<count>\d*)(?P<sign>[+-])$")


@dataclass(frozen=True)
class Isotope:
    """One isotope: element, mass number, exact mass (u) and natural abundance."""

    element: str
    mass_number: int
    mass: float
    abundance: float


@cache
def isotope_table() -> dict[str, tuple[Isotope, ...]]:
    """Isotopes of every known element, most abundant first."""
    text = resources.files("simsflow").joinpath("data/isotopes.tsv").read_text("utf-8")
    table: dict[str, list[Isotope]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#") or line.startswith("element\t"):
            continue
        element, number, mass, abundance = line.split("\t")
        table.setdefault(element, []).append(
            Isotope(element, int(number), float(mass), float(abundance))
        )
    return {el: tuple(sorted(isos, key=lambda i: -i.abundance)) for el, isos in table.items()}


def check_elements(elements: dict[str, int]) -> None:
    """Every element of a peak search has isotope data (data/isotopes.tsv)."""
    known = isotope_table()
    unknown = [e for e in elements if e not in known]
    if unknown:
        raise SimsflowError(
            f"unknown element(s) {', '.join(unknown)} in the peak search's elements",
            hint=f"known elements: {', '.join(sorted(known))}",
        )


@dataclass(frozen=True)
class Ion:
    """A parsed ion: atoms as ((element, mass_number or None), count) and its charge."""

    name: str
    atoms: tuple[tuple[tuple[str, int | None], int], ...]
    charge: int

    @property
    def n_atoms(self) -> int:
        """Number of atoms in the ion."""
        return sum(count for _, count in self.atoms)


def normalize_ion_name(name: str) -> str:
    """SurfaceLab writes subscripts as ``C_2H-``; the canonical name drops the markup."""
    return name.strip().replace("_", "").replace("^", "").replace(" ", "")


@cache
def parse_ion(name: str) -> Ion:
    """Parse an ion name such as ``LiCO3-``, ``6LiO-`` or ``Li3O+``."""
    text = normalize_ion_name(name)
    match = _CHARGE.match(text)
    if not match or not match.group("body"):
        raise SimsflowError(
            f"ion '{name}' has no charge sign",
            hint="write ions as formula plus sign, e.g. 'LiCO3-' or 'Li3O+'",
        )
    body = match.group("body")
    count = match.group("count")
    # A trailing digit belongs to the last atom count unless a charge count is explicit
    # (e.g. 'SO42-'); only single charges occur in SIMS of these materials, so keep it simple.
    if count:
        body = body + count
    sign = -1 if match.group("sign") == "-" else 1
    table = isotope_table()
    atoms: dict[tuple[str, int | None], int] = {}
    pos = 0
    for token in _TOKEN.finditer(body):
        if token.start() != pos:
            break
        mass_number, element, n = token.groups()
        if element not in table:
            raise SimsflowError(
                f"ion '{name}': unknown element '{element}'",
                hint=f"known elements: {', '.join(sorted(table))}",
            )
        iso = int(mass_number) if mass_number else None
        if iso is not None and iso not in {i.mass_number for i in table[element]}:
            raise SimsflowError(f"ion '{name}': unknown isotope {iso}{element}")
        key = (element, iso)
        atoms[key] = atoms.get(key, 0) + (int(n) if n else 1)
        pos = token.end()
    if pos != len(body) or not atoms:
        raise SimsflowError(
            f"ion '{name}' is not a formula",
            hint="use element symbols with counts, e.g. 'Li3C2O6-'",
        )
    return Ion(text, tuple(sorted(atoms.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0))), sign)


def _isotope(element: str, mass_number: int | None) -> Isotope:
    isos = isotope_table()[element]
    if mass_number is None:
        return isos[0]
    return next(i for i in isos if i.mass_number == mass_number)


def ion_mz(name: str) -> float:
    """Exact m/z of the most abundant isotopologue (monoisotopic for these elements)."""
    ion = parse_ion(name)
    mass = sum(_isotope(el, iso).mass * n for (el, iso), n in ion.atoms)
    return mass - ion.charge * ELECTRON_MASS


def isotope_pattern(
    name: str, *, min_relative: float = 1e-4, merge_tolerance: float = 1e-4
) -> tuple[np.ndarray, np.ndarray]:
    """m/z and abundance fractions (summing to 1) of an ion's isotopologues.

    Computed by convolving each element's isotope distribution; isotopologues closer than
    ``merge_tolerance`` (u) are merged abundance-weighted, and those below ``min_relative`` of
    the strongest are dropped before renormalizing.
    """
    ion = parse_ion(name)
    masses = np.array([0.0])
    abund = np.array([1.0])
    for (element, mass_number), n in ion.atoms:
        if mass_number is None:
            isos = isotope_table()[element]
            el_m = np.array([i.mass for i in isos])
            el_a = np.array([i.abundance for i in isos])
        else:
            iso = _isotope(element, mass_number)
            el_m, el_a = np.array([iso.mass]), np.array([1.0])
        for _ in range(n):
            masses = (masses[:, None] + el_m[None, :]).ravel()
            abund = (abund[:, None] * el_a[None, :]).ravel()
            masses, abund = _merge(masses, abund, merge_tolerance, min_relative * 1e-2)
    masses, abund = _merge(masses, abund, merge_tolerance, min_relative)
    return masses - ion.charge * ELECTRON_MASS, abund / abund.sum()


def _merge(masses, abund, tolerance, min_relative):
    order = np.argsort(masses, kind="stable")
    masses, abund = masses[order], abund[order]
    group = np.concatenate([[0], np.cumsum(np.diff(masses) > tolerance)])
    total = np.bincount(group, weights=abund)
    centre = np.bincount(group, weights=abund * masses) / total
    keep = total >= min_relative * total.max()
    return centre[keep], total[keep]
