"""Peak integration: hand-computed areas, truth on simulated peaks, dead time, range checks."""

import numpy as np
import pandas as pd
import pytest

from simsflow.calibrate import CalibrationSettings, calibrate_sample, reference_ions_for
from simsflow.errors import SimsflowError
from simsflow.integrate import (
    NOTE_COLUMNS,
    IntegrationSettings,
    Intervals,
    integrate_sample,
    study_peak_table,
)
from simsflow.simulate.instrument import Instrument, simulate_spectrum

from .helpers import spectra_frame


def test_areas_hand_computed():
    mz = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    counts = np.array([1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0])
    # lower bound inclusive, upper exclusive
    areas = Intervals.of([2.0, 4.5, 0.0], [4.0, 6.0, 0.5]).areas(mz, counts)
    np.testing.assert_array_equal(areas, [110.0, 10000.0, 0.0])


@pytest.mark.parametrize("seed", range(3))
def test_areas_equal_a_point_by_point_sum(seed):
    # both paths: sorted disjoint intervals (reduceat) and overlapping or unsorted ones
    # (gather), with empty intervals, intervals past either end and an empty spectrum part
    rng = np.random.default_rng(seed)
    for _ in range(100):
        mz = np.unique(rng.uniform(0, 100, rng.integers(0, 60)))
        counts = rng.poisson(5, mz.size).astype(float)
        edges = np.sort(rng.uniform(-5, 105, 2 * rng.integers(0, 8)))
        disjoint = edges.reshape(-1, 2)
        overlapping = np.sort(rng.uniform(-5, 105, (rng.integers(0, 8), 2)), axis=1)
        for lower, upper in (disjoint.T, overlapping.T):
            expected = [
                counts[(mz >= lo) & (mz < hi)].sum() for lo, hi in zip(lower, upper, strict=True)
            ]
            np.testing.assert_array_equal(Intervals.of(lower, upper).areas(mz, counts), expected)


def test_flank_baseline_hand_computed():
    mz = np.arange(10.0)
    counts = np.array([2, 2, 2, 2, 50, 60, 4, 4, 4, 4], dtype=float)
    area = Intervals.of([4.0], [6.0]).areas(mz, counts, "flank", 2)
    assert area[0] == pytest.approx(110 - 2 * 2)  # lower flank mean (2) x 2 bins


def _sample(spectra, deadtime_corrected=True):
    return spectra_frame(spectra, deadtime_corrected=deadtime_corrected)


IONS = {"C-": 5e4, "CH-": 8e4, "O-": 2e5, "OH-": 1e5, "C2-": 6e4, "C2H-": 9e4, "CO3-": 1e5}


def _mass_list(names, half_width=0.06):
    from simsflow.chemistry import ion_mz

    mz = np.array([ion_mz(n) for n in names])
    return pd.DataFrame(
        {"ion": names, "mz": mz, "lower": mz - half_width, "upper": mz + half_width, "group": ""}
    )


def test_isolated_peak_areas_equal_the_true_counts_within_poisson_noise():
    inst = Instrument(mass_max=80.0, n_shots=10**12, background_per_bin=0.0)
    rng = np.random.default_rng(8)
    spectra = [(f"{i}", simulate_spectrum(inst, IONS, rng)) for i in range(3)]
    table, meta = _sample(spectra)
    cal = calibrate_sample(table, CalibrationSettings(reference_ions_for("negative", ["CO3-"])))
    names = ["C2H-", "CO3-", "OH-"]
    peaks, notes = integrate_sample(table, cal, _mass_list(names), meta, IntegrationSettings())
    assert notes.empty and list(notes.columns) == NOTE_COLUMNS
    for (_, spectrum), (_, row) in zip(spectra, peaks.iterrows(), strict=True):
        # truth: the expected counts of the bins of each interval, on the true mass axis
        p = spectrum.params
        true_mz = ((spectrum.channel * inst.channel_width_ns - p.t0_ns) / p.k_ns) ** 2
        for name, lo, hi in _mass_list(names)[["ion", "lower", "upper"]].itertuples(index=False):
            truth = spectrum.expected[(true_mz >= lo) & (true_mz < hi)].sum()
            assert abs(row[name] - truth) < 4 * np.sqrt(truth), name
        assert row["total_counts"] == spectrum.intensity.sum()


def test_deadtime_correction_restores_saturated_areas():
    inst = Instrument(mass_max=80.0, n_shots=300_000, background_per_bin=0.0)
    rng = np.random.default_rng(9)
    spectra = [("1", simulate_spectrum(inst, IONS, rng))]
    table, meta = _sample(spectra, deadtime_corrected=False)
    cal = calibrate_sample(table, CalibrationSettings(reference_ions_for("negative", ["CO3-"])))
    ml = _mass_list(["O-"], half_width=0.1)
    raw, notes = integrate_sample(table, cal, ml, meta, IntegrationSettings())
    assert "dead-time correction off" in notes["issue"].iloc[0]
    fixed, _ = integrate_sample(table, cal, ml, meta, IntegrationSettings(deadtime_shots=3e5))
    truth = 2e5 * 0.99757  # 16O share of O-
    assert raw["O-"][0] < 0.8 * truth
    assert fixed["O-"][0] == pytest.approx(truth, rel=0.03)


def _tiny():
    inst = Instrument(mass_max=40.0, n_shots=10**12)
    spectra = [("1", simulate_spectrum(inst, IONS, np.random.default_rng(1)))]
    table, meta = _sample(spectra)
    cal = calibrate_sample(table, CalibrationSettings(reference_ions_for("negative")))
    return table, meta, cal


def test_ion_outside_the_mass_range_is_an_error_or_a_listed_warning():
    table, meta, cal = _tiny()
    ml = _mass_list(["O-", "CO3-"])  # CO3- (60 u) lies beyond a 40 u spectrum
    with pytest.raises(SimsflowError, match=r"1\.txt: ion\(s\) CO3- outside the mass range"):
        integrate_sample(table, cal, ml, meta, IntegrationSettings())
    peaks, notes = integrate_sample(table, cal, ml, meta, IntegrationSettings(out_of_range="warn"))
    assert np.isnan(peaks["CO3-"][0]) and peaks["O-"][0] > 0
    assert notes.to_dict("records") == [
        {"study": "t", "sample": "s", "spot": "1", "ion": "CO3-", "issue": "outside the mass range"}
    ]


def test_excluded_spots_are_left_out_and_the_study_table_joins_the_sheet():
    table, meta, cal = _tiny()
    table2 = table.assign(spot="2")
    cal2 = cal.assign(spot="2", status="excluded")
    both = pd.concat([table, table2], ignore_index=True)
    meta["spots"].append({**meta["spots"][0], "spot": "2"})
    peaks, _ = integrate_sample(
        both, pd.concat([cal, cal2]), _mass_list(["O-"]), meta, IntegrationSettings()
    )
    assert peaks["spot"].tolist() == ["1"]
    sheet = pd.DataFrame(
        {
            "sample": ["s", "s"],
            "spot": ["1", "2"],
            "role": ["train", "train"],
            "label": ["A", "A"],
            "path": ["x", "y"],
            "sheet_line": [2, 3],
        }
    )
    study = study_peak_table(sheet, [peaks])
    assert study.columns.tolist() == [
        "study",
        "sample",
        "spot",
        "role",
        "label",
        "O-",
        "total_counts",
    ]
    assert study["spot"].tolist() == ["1"]


@pytest.mark.parametrize("window", [1, 3, 7, 50])
def test_dead_window_sums_equal_a_direct_sum(window):
    from simsflow import deadtime

    values = np.random.default_rng(window).poisson(3.0, 40).astype(float)
    expected = [values[max(i - window, 0) : i].sum() for i in range(values.size)]
    np.testing.assert_array_equal(deadtime.preceding_sum(values, window), expected)


def test_a_study_without_calibrated_spectra_has_no_summed_spectrum_and_says_why():
    from simsflow.summed import combine

    empty = pd.DataFrame({"sample": [], "mz": [], "counts": [], "step": []})
    with pytest.raises(SimsflowError, match=r"^qc/calibration\.tsv: no calibrated spectrum"):
        combine([empty, empty], source="qc/calibration.tsv")


def test_summed_spectrum_keeps_every_count_and_adds_spectra_in_one_pass():
    from simsflow.summed import sum_on_grid

    rng = np.random.default_rng(4)
    spectra = [
        (np.sort(rng.uniform(1, 100, 500)), rng.poisson(20, 500).astype(float)) for _ in range(3)
    ]
    mz, total = sum_on_grid(spectra, 0.01)
    assert total.sum() == pytest.approx(sum(c.sum() for _, c in spectra), rel=1e-12)
    # summing all spectra at once equals adding each one's own grid
    grids = [sum_on_grid([one], 0.01)[1] for one in spectra]
    each = sum(np.pad(g, (0, total.size - g.size)) for g in grids)
    np.testing.assert_allclose(total, each, rtol=1e-12, atol=1e-9)
    centre = np.sqrt(mz)
    assert np.allclose(np.diff(centre), 0.01)  # uniform in sqrt(m/z)


def test_the_spectrum_jobs_start_without_scipy():
    """Interval integration (the default) needs no SciPy: the modules the spectrum jobs import
    at their start leave it out (scipy.optimize alone took 0.5 s of each job's start); a fit
    imports it when it runs."""
    import re
    import subprocess
    import sys

    from .conftest import ROOT

    scripts = ROOT / "workflow" / "scripts"
    modules = set()
    for name in ("import_spectra", "calibrate", "integrate", "spectra_batch", "peak_table"):
        text = (scripts / f"{name}.py").read_text()
        modules |= set(re.findall(r"^\s*from (simsflow[\w.]*) import", text, re.M))
    assert {"simsflow.batch", "simsflow.integrate"} <= modules
    code = "; ".join(f"import {m}" for m in sorted(modules))
    code += "; import sys; print(sorted(m for m in sys.modules if m.startswith('scipy')))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=scripts, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def _real_export_job():
    from simsflow.batch import SampleJob
    from simsflow.calibrate import CalibrationSettings

    from .conftest import FIXTURES

    path = FIXTURES / "iontof-ascii" / "N_Ru-Pt_Bi3_1.txt"
    return SampleJob("st", "Ru-Pt (ref)", ["1"], [str(path)],
                     CalibrationSettings(reference_ions_for("negative")))  # fmt: skip


def test_intervals_narrower_than_the_bins_of_a_real_export_take_the_bins_around_m_z():
    """A mass list written by hand (m/z only, the default 300 ppm window) on the SurfaceLab
    fixture, binned by 200 channels (about 2,000 ppm at 35 u): Cl-, O-, CN- and 37Cl- held no
    bin centre and got an area of 0, the strongest peaks of the spectrum, without a word."""
    from simsflow.batch import process_sample
    from simsflow.integrate import integration_warning

    names = ["O-", "OH-", "CN-", "Cl-", "37Cl-"]
    mz = np.array([15.995, 17.003, 26.003, 34.969, 36.966])
    hand = pd.DataFrame(
        {"ion": names, "mz": mz, "lower": mz * (1 - 3e-4), "upper": mz * (1 + 3e-4)}
    )
    wide = hand.assign(lower=mz - 0.04, upper=mz + 0.04)  # a bin wide: each holds two bins
    result = process_sample(_real_export_job(), IntegrationSettings(), hand)
    peaks = result.peaks
    expected = process_sample(_real_export_job(), IntegrationSettings(), wide)
    # the two bins around each m/z hold the peak, also where the calibration (here on the
    # default reference ions, up to 25 u) puts the 37Cl- peak's bin second nearest
    others = ["O-", "OH-", "CN-", "37Cl-"]
    np.testing.assert_array_equal(peaks[others].to_numpy(), expected.peaks[others].to_numpy())
    assert peaks.loc[0, "Cl-"] == 693458 + 4951  # the spectrum's highest bin and the one below
    (issue,) = result.notes["issue"]
    assert issue.startswith(
        "interval(s) narrower than the bins hold no bin: O-, CN-, Cl-, 37Cl- integrated over "
        "the two bins around their m/z (bins "
    )
    assert "at least a bin wide" in issue
    # and the end of the run says so (it named calibration problems only)
    notes = pd.concat([result.notes, result.notes.assign(spot="2")])
    assert integration_warning(notes, "results/st/qc/integration.tsv").startswith(
        "simsflow: warning: results/st/qc/integration.tsv: 2 spectra have mass-list intervals "
        "narrower than their bins"
    )
    assert integration_warning(expected.notes, "x") is None


def test_a_bin_is_counted_for_one_ion_only():
    from simsflow.batch import process_sample

    # calibrated, the bins near 35 u lie at 34.911 (4,951 counts), 34.982 (693,458: the Cl-
    # peak) and 35.053 (1,566). 'wide' holds the peak's bin; the bin below is nearer 'far's
    # m/z than Cl-'s: Cl- has no bin left, 'near' the one above, 'far' the one below
    mz = np.array([34.969, 34.99, 34.989, 34.93])
    mass_list = pd.DataFrame(
        {
            "ion": ["Cl-", "wide", "near", "far"],
            "mz": mz,
            "lower": [34.965, 34.975, 34.9885, 34.929],
            "upper": [34.972, 34.988, 34.9895, 34.931],
        }
    ).sort_values("lower", ignore_index=True)
    result = process_sample(_real_export_job(), IntegrationSettings(), mass_list)
    peaks = result.peaks.iloc[0]
    assert peaks["wide"] == 693458 and peaks["Cl-"] == 0 and peaks["near"] == 1566
    assert peaks["far"] == 4951
    (issue,) = result.notes["issue"]
    assert "; far, near: one bin only (the others belong to another ion's interval" in issue
    assert "; Cl-: no bin, area 0" in issue


@pytest.mark.parametrize("seed", range(3))
def test_held_elsewhere_equals_a_direct_test_of_every_interval(seed):
    from simsflow.integrate import _held_elsewhere

    rng = np.random.default_rng(seed)
    for _ in range(200):
        lower = rng.random(rng.integers(1, 8)) * 10
        upper = lower + rng.random(lower.size) * 3  # overlapping and in any order
        points = rng.random(20) * 14
        direct = (lower[None, :] <= points[:, None]) & (points[:, None] < upper[None, :])
        np.testing.assert_array_equal(_held_elsewhere(points, lower, upper), direct.any(axis=1))
