"""The batched numerics of simsflow.peakfit give what solving one problem at a time gives.

The fit solves many small problems together (every cluster in every spectrum of a sample);
these tests hold each shortcut to the plain computation it replaces: NNLS to SciPy's, the
clusters fitted together to each fitted alone, the windowed bin edges to the spectrum's, the
tailed peak evaluated piecewise to its formula evaluated everywhere.
"""

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import nnls
from scipy.special import ndtr

from simsflow.chemistry import ion_mz
from simsflow.peakfit import (
    TAIL_START,
    FitIon,
    _batched_nnls,
    _local_edges,
    _nnls_supports,
    _peak_windows,
    bin_edges,
    estimate_shape,
    fit_cluster,
    fit_clusters,
    fit_sample,
    fit_samples,
    tailed_cdf,
)
from simsflow.simulate.overlap import CALIBRANTS, overlap_spectrum, pair_counts


def _random_problems(rng, count=300, length=30, k=4):
    """Non-negative designs; true coefficients of which about a third are zero, and counts
    with noise, so that many solutions have active constraints and many have none."""
    design = rng.uniform(0.0, 1.0, (count, length, k))
    truth = rng.uniform(0.5, 3.0, (count, k)) * (rng.uniform(size=(count, k)) > 0.3)
    counts = np.einsum("vlk,vk->vl", design, truth) + rng.normal(0.0, 0.3, (count, length))
    weight = rng.uniform(0.5, 2.0, (count, length))
    return design, counts, weight


@pytest.mark.parametrize("k", [1, 2, 4, 6])
def test_batched_nnls_agrees_with_scipy_nnls(k):
    rng = np.random.default_rng(k)
    design, counts, weight = _random_problems(rng, k=k)
    got = _batched_nnls(design, counts, weight)
    expected = np.array(
        [nnls(d * w[:, None], c * w)[0] for d, c, w in zip(design, counts, weight, strict=True)]
    )
    np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10)
    zeros = (expected == 0).any(axis=1)
    assert zeros.any() and (~zeros).any()  # both kinds of problem were there
    assert (got >= 0).all()


def test_nnls_over_supports_agrees_with_scipy_where_constraints_are_active():
    rng = np.random.default_rng(11)
    design, counts, weight = _random_problems(rng, count=200, k=5)
    counts[:50] = -np.abs(counts[:50])  # nothing positive fits: the solution is zero
    a, yw = design * weight[..., None], counts * weight
    gram = np.einsum("vlk,vlm->vkm", a, a)
    b = np.einsum("vlk,vl->vk", a, yw)
    scale = np.einsum("vkk->vk", gram).max(axis=1)[:, None, None]
    got = _nnls_supports(gram, b, scale)
    expected = np.array([nnls(d, y)[0] for d, y in zip(a, yw, strict=True)])
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9)
    assert (got[:50] == 0).all()


def test_wide_designs_go_to_scipy_one_at_a_time():
    rng = np.random.default_rng(3)
    design, counts, weight = _random_problems(rng, count=5, length=40, k=9)
    got = _batched_nnls(design, counts, weight)
    for v in range(5):
        expected, _ = nnls(design[v] * weight[v][:, None], counts[v] * weight[v])
        np.testing.assert_array_equal(got[v], expected)


def _tailed_cdf_everywhere(x, sigma, tail, tail_start=TAIL_START):
    # the formula with both special functions evaluated at every point
    lam = tail * sigma
    root = sigma * np.sqrt(2.0 * np.pi)
    g_j = np.exp(-0.5 * tail_start * tail_start)
    core = root * ndtr(np.minimum(x / sigma, tail_start))
    beyond = np.maximum(x - tail_start * sigma, 0.0)
    tail_part = g_j * lam * -np.expm1(-beyond / lam)
    return (core + tail_part) / (root * ndtr(tail_start) + g_j * lam)


def test_tailed_cdf_piecewise_is_the_formula_evaluated_everywhere():
    rng = np.random.default_rng(5)
    x = rng.normal(0.0, 0.05, (40, 70))
    x[3, 5], x[7, 0] = np.nan, 1.5 * 0.004  # a NaN, and a point on the knee
    sigma = rng.uniform(0.002, 0.006, (40, 1))
    sigma[7] = 0.004
    tail = rng.uniform(0.5, 6.0, (40, 1))
    got = tailed_cdf(x, sigma, tail)
    np.testing.assert_array_equal(got, _tailed_cdf_everywhere(x, sigma, tail))
    assert np.isnan(got[3, 5]) and np.isfinite(np.delete(got.ravel(), 3 * 70 + 5)).all()
    # scalars broadcast as before
    assert tailed_cdf(0.3, 1.0, 4.0) == _tailed_cdf_everywhere(0.3, 1.0, 4.0)


def test_local_edges_are_the_spectrum_bin_edges():
    mz = np.sort(np.random.default_rng(1).uniform(1.0, 50.0, 200))
    edges = bin_edges(mz)
    for lo, hi in [(0, 5), (0, 200), (1, 2), (17, 60), (150, 200), (199, 200), (0, 1)]:
        np.testing.assert_array_equal(_local_edges(mz, lo, hi), edges[lo : hi + 1])


def _spectra_and_shapes(count, seed):
    rng = np.random.default_rng(seed)
    spectra, shapes = [], []
    candidates = [(ion_mz(n), n in ("H+", "Na+")) for n in CALIBRANTS]
    for k in range(count):
        pair = ("Al+/C2H3+", "K+/C3H3+")[k % 2]
        sim = overlap_spectrum(pair_counts(pair, (0.1, 1.0, 10.0)[k % 3]), 4000, rng)
        mz, counts = sim.spectrum.mz, sim.spectrum.intensity.astype(float)
        known = [m for m, _ in candidates] + [ion_mz(n) for n in pair.split("/")]
        shape = estimate_shape(mz, counts, candidates, known)
        assert shape is not None
        spectra.append((mz, counts))
        shapes.append(shape)
    return spectra, shapes


def _fit_ion(name, half=0.008, masses=None, abundances=None):
    mz = ion_mz(name)
    masses = np.array([mz] if masses is None else masses)
    abundances = np.ones(1) if abundances is None else np.array(abundances)
    return FitIon(name, mz - half, mz + half, masses, abundances, 0, False, True)


def test_clusters_fitted_together_equal_each_fitted_alone():
    spectra, shapes = _spectra_and_shapes(6, seed=8)
    k39, k41 = ion_mz("K+"), ion_mz("K+") + 1.998
    clusters = [
        [_fit_ion("Al+"), _fit_ion("C2H3+")],
        [_fit_ion("K+", masses=[k39, k41], abundances=[0.933, 0.067]), _fit_ion("C3H3+")],
        [_fit_ion("Na+")],  # a cluster of one: another group of the same call
        [_fit_ion("C3H7+")],
    ]
    together = fit_clusters(spectra, clusters, shapes)
    fields = ("area", "area_se", "total", "total_se", "shift_ppm", "residual_pct", "chi2_per_bin")
    for c, ions in enumerate(clusters):
        # one cluster in the same spectra: what fit_sample did cluster by cluster
        alone = fit_clusters(spectra, [ions], shapes)[0]
        for v, (mz, counts) in enumerate(spectra):
            both, one = together[c][v], alone[v]
            assert both is not None and one is not None
            assert both.ions == one.ions == [ion.name for ion in ions]
            for field in fields:
                np.testing.assert_allclose(
                    getattr(both, field), getattr(one, field), rtol=1e-7, atol=1e-9
                )
            np.testing.assert_array_equal(both.mz, one.mz)
            np.testing.assert_array_equal(both.counts, one.counts)
            np.testing.assert_allclose(both.components, one.components, rtol=1e-7, atol=1e-7)
            np.testing.assert_allclose(both.baseline, one.baseline, rtol=1e-7, atol=1e-7)
            # and in one spectrum at a time: Al+ and C2H3+ are absent from every other
            # spectrum (a singular Fisher matrix there), which changes nothing in the others
            single = fit_cluster(mz, counts, ions, shapes[v])
            np.testing.assert_allclose(single.area_se, both.area_se, rtol=1e-6)
            np.testing.assert_allclose(single.total_se, both.total_se, rtol=1e-6)
            np.testing.assert_allclose(single.area, both.area, rtol=1e-9, atol=1e-9)


def test_a_cluster_outside_a_spectrum_is_none_there_only():
    spectra, shapes = _spectra_and_shapes(2, seed=9)
    mz, counts = spectra[1]
    cut = mz < 30.0  # the second spectrum ends before K+ and C3H3+
    spectra[1] = (mz[cut], counts[cut])
    clusters = [[_fit_ion("K+"), _fit_ion("C3H3+")], [_fit_ion("Na+")]]
    fits = fit_clusters(spectra, clusters, shapes)
    assert fits[0][0] is not None and fits[0][1] is None
    assert fits[1][0] is not None and fits[1][1] is not None
    assert fit_clusters(spectra, [], shapes) == []


def _peak_windows_one_by_one(mz, counts, candidates, known, min_counts):
    # the candidates' tests one candidate at a time, on the spectrum's bin edges
    edges, out = bin_edges(mz), []
    for m0, atomic in candidates:
        if not mz[0] < m0 < mz[-1]:
            continue
        i = int(np.searchsorted(mz, m0))
        width = edges[i + 1] - edges[i]
        near = counts[max(i - 8, 0) : min(i + 9, mz.size)]
        if near.max() <= 0:
            continue
        sigma0 = max(max(np.count_nonzero(near > near.max() / 2), 1) * width / 2.3548, width / 2)
        lo_m, hi_m = m0 - 10 * sigma0, m0 + (TAIL_START + 18.0) * sigma0
        if ((known > lo_m) & (known < hi_m) & (np.abs(known - m0) > 1e-6)).any():
            continue
        lo, hi = np.searchsorted(mz, [lo_m, hi_m])
        if hi - lo < 6 or counts[lo:hi].sum() < min_counts:
            continue
        out.append((m0, atomic, width, edges[lo : hi + 1], counts[lo:hi], sigma0))
    return out


def test_peak_windows_tested_together_as_one_at_a_time():
    rng = np.random.default_rng(6)
    mz = np.sort(rng.uniform(10.0, 12.0, 400))
    counts = rng.poisson(2.0, mz.size).astype(float)
    for centre, height in [(10.5, 500.0), (11.0, 80.0), (11.5, 900.0), (11.52, 700.0)]:
        counts += rng.poisson(height * np.exp(-0.5 * ((mz - centre) / 0.004) ** 2))
    counts[:20] = 0.0  # nothing at the low end
    candidates = [(m, m < 11.2) for m in (10.5, 11.0, 11.5, mz[3], mz[-1] - 1e-9, 9.0, 12.5)]
    known = np.array([10.5, 11.0, 11.5, 11.52])
    for min_counts, accepted in [(500.0, 1), (0.0, 3)]:  # weak, crowded, outside; then the ends
        got = _peak_windows(mz, counts, candidates, known, min_counts, max_peaks=10)
        expected = _peak_windows_one_by_one(mz, counts, candidates, known, min_counts)
        assert len(got) == accepted and got[0][0] == 10.5
        for (m, atomic, width, window), (m_, atomic_, width_, edges, y, sigma0) in zip(
            got, expected, strict=True
        ):
            assert (m, atomic) == (m_, atomic_) and width == width_
            np.testing.assert_array_equal(window[0], edges)
            np.testing.assert_array_equal(window[1], y)
            assert window[3] == pytest.approx(sigma0, rel=1e-4)
    assert _peak_windows(mz, counts, [], known, 500.0, max_peaks=10) == []


def _overlap_sample(rng, resolution, binning, spots=3):
    """A sample's spectra of both overlap pairs at one resolution and binning."""
    spectra = []
    for k in range(spots):
        ions = {**pair_counts("Al+/C2H3+", (0.3, 3.0, 1.0)[k % 3]), **pair_counts("K+/C3H3+", 2.0)}
        sim = overlap_spectrum(ions, resolution, rng, binning=binning)
        spectra.append((sim.spectrum.mz, sim.spectrum.intensity.astype(float)))
    return spectra


def test_samples_fitted_together_give_each_sample_its_own_numbers_bit_for_bit():
    # samples whose windows differ in length (resolution, binning): solved together on
    # padded arrays, each must still get exactly what it gets alone, so that a batch job's
    # tables are byte for byte those of per-sample jobs
    rng = np.random.default_rng(21)
    samples = [_overlap_sample(rng, r, b) for r, b in [(3000, 16), (5000, 8), (8000, 4)]]
    samples[2][1] = (samples[2][1][0][::2].copy(), samples[2][1][1][::2].copy())  # other bins
    names = ["H+", "CH3+", "Na+", "C2H3+", "Al+", "C2H5+", "C3H3+", "K+", "C3H7+"]
    mz = np.array([ion_mz(n) for n in names])
    mass_list = pd.DataFrame({"ion": names, "mz": mz, "lower": mz - 0.02, "upper": mz + 0.02})
    refs = [[list(CALIBRANTS)] * len(s) for s in samples]
    for method in ("auto", "fit"):
        together = fit_samples(samples, refs, mass_list, method)
        lengths = set()
        for spectra, shape_ions, pooled in zip(samples, refs, together, strict=True):
            alone = fit_sample(spectra, shape_ions, mass_list, method)
            assert np.isfinite(alone.areas).any()
            np.testing.assert_array_equal(pooled.areas, alone.areas)
            assert pooled.rows == alone.rows
            assert pooled.shapes == alone.shapes
            lengths |= {fit.mz.size for spot in alone.fits for fit in spot}
        assert len(lengths) > 3  # windows of many lengths were solved together
