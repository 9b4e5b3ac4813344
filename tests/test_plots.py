"""Figures stay usable for large studies: bounded size, every spot drawn, readable labels."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba

from simsflow import plots


def _scaled(n_samples: int, spots: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    samples = np.repeat([f"S{k:03d}" for k in range(n_samples)], spots)
    return pd.DataFrame({"sample": samples, "A-": rng.random(samples.size)})


def test_box_plot_of_hundreds_of_samples_is_bounded_and_shows_every_spot():
    scaled = _scaled(300)
    fig = plots.ion_boxplot(scaled, "A-", "total_ion", reference="S007")
    ax = fig.axes[0]
    assert fig.get_size_inches()[0] <= plots.MAX_WIDTH
    # the spots: one marker line for the reference sample (orange), one for the others
    others, ref = ax.lines[-2:]
    reference = (scaled["sample"] == "S007").to_numpy()
    np.testing.assert_allclose(others.get_ydata(), scaled["A-"][~reference])
    np.testing.assert_allclose(ref.get_ydata(), scaled["A-"][reference])
    assert to_rgba(ref.get_color(), ref.get_alpha()) == to_rgba("#dd8452", 0.8)
    assert to_rgba(others.get_color(), others.get_alpha()) == to_rgba("#4c72b0", 0.8)
    assert len(ax.get_xticklabels()) <= plots.MAX_LABELS


def test_group_overview_and_calibration_figure_are_bounded():
    scaled = _scaled(200).assign(**{"B-": 1.0, "C-": 2.0})
    fig = plots.group_boxplots(scaled, ["A-", "B-", "C-"], "g", "total_ion")
    assert fig.get_size_inches()[0] <= plots.MAX_WIDTH
    cal = pd.DataFrame(
        {
            "sample": np.repeat([f"S{k:03d}" for k in range(200)], 10),
            "ppm_before": 100.0,
            "ppm_after": 2.0,
            "status": "ok",
        }
    )
    fig = plots.calibration_errors(cal)
    assert fig.get_size_inches()[0] <= plots.MAX_WIDTH
    assert len(fig.axes[0].get_xticklabels()) <= plots.MAX_LABELS


def test_small_studies_keep_one_label_per_sample():
    fig = plots.ion_boxplot(_scaled(5), "A-", "total_ion")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == [f"S{k:03d}" for k in range(5)]


def test_box_statistics_match_matplotlib():
    from matplotlib.cbook import boxplot_stats

    rng = np.random.default_rng(1)
    groups = np.repeat(np.arange(40), rng.integers(1, 12, 40))
    values = rng.standard_t(2, groups.size)
    values[::17] = np.nan  # left out, as a missing area
    stats = plots.box_statistics(values, groups, 41)  # group 40 has no values
    for g in range(40):
        data = values[groups == g]
        ref = boxplot_stats(data[np.isfinite(data)])[0]
        row = stats.loc[g]
        assert row["q1"] == pytest.approx(ref["q1"])
        assert row["median"] == pytest.approx(ref["med"])
        assert row["q3"] == pytest.approx(ref["q3"])
        assert row["whisker_low"] == pytest.approx(ref["whislo"])
        assert row["whisker_high"] == pytest.approx(ref["whishi"])
    assert stats.loc[40].isna().all()


def test_box_plots_drawn_in_parallel_are_the_same_files(tmp_path):
    scaled = _scaled(12).assign(**{"B-": 1.0, "C-": np.linspace(0, 1, 36)})
    args = (scaled, ["A-", "B-"], ["C-"], {"A-": "g", "B-": "g"}, "total_ion", "S003")
    plots.save_boxplots(tmp_path / "one", *args, workers=1)
    plots.save_boxplots(tmp_path / "two", *args, workers=2)
    names = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*.png"))
    # C- has no group: the group figures show every ion given, C- among the ungrouped
    assert [str(n) for n in names] == [
        "A-.png",
        "B-.png",
        "extra/C-.png",
        "group_g.png",
        "group_ungrouped.png",
    ]
    for name in names:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_a_long_mass_list_draws_only_the_chosen_ions_and_says_so(tmp_path):
    from simsflow.names import read_index
    from simsflow.stats import BOXPLOT_LIMIT, MOST_INTENSE, boxplot_selection

    ions = [f"I{k}-" for k in range(BOXPLOT_LIMIT + 1)]  # a few hundred ions: more than the limit
    groups = {ion: ("contamination" if k % 7 == 0 else f"g{k % 3}") for k, ion in enumerate(ions)}
    # by default (nothing chosen) only the most intense ions of a long list get a figure, and
    # the group figures show only them
    default = boxplot_selection(ions, groups, [], None)
    assert len(default["important"]) == MOST_INTENSE and default["extra"] == []
    assert default["overview"] == default["important"]
    assert (
        f"the mass list has {BOXPLOT_LIMIT + 1} ions, more than {BOXPLOT_LIMIT}"
        in (default["note"])
    )
    # chosen ions and groups are drawn, in mass-list order, nothing in extra/
    chosen = boxplot_selection(ions, groups, ["I7-"], ["g1"])
    expected = [i for i in ions if i == "I7-" or groups[i] == "g1"]
    assert chosen["important"] == chosen["overview"] == expected and chosen["extra"] == []
    assert f"show only the {len(expected)} important ions, of 2 group(s)" in chosen["note"]
    # too many chosen: the first ones up to the limit
    capped = boxplot_selection(ions, groups, [], ["g0", "g1", "g2", "contamination"], limit=10)
    assert capped["important"] == ions[:10]
    assert f"the first 10 of {len(ions)}" in capped["note"]
    # all: no ion of a list this long goes to extra/ (naming them does)
    every = boxplot_selection(ions, groups, ["I7-"], None, "all")
    assert every["extra"] == [] and "boxplots: all draws no ion" in every["note"]
    assert boxplot_selection(ions, groups, ["I7-"], None, ["I9-", "I7-"])["extra"] == ["I9-"]
    # the note stands in the figure folder's index
    scaled = _scaled(3).rename(columns={"A-": "I1-"})
    plots.save_boxplots(tmp_path, scaled, ["I1-"], [], groups, "total_ion", note=chosen["note"])
    index = read_index(tmp_path / "names.tsv")
    assert index.loc[index["kind"] == "note", "name"].tolist() == [chosen["note"]]
    assert not (tmp_path / "extra").exists()


def test_by_default_groups_and_important_ions_are_drawn_the_rest_on_request():
    from simsflow.stats import ALL_UP_TO, MOST_INTENSE, boxplot_selection

    n = ALL_UP_TO + 10
    ions = [f"I{k}-" for k in range(n)]
    groups = {ion: ("contamination" if k == n - 1 else f"g{k % 4}") for k, ion in enumerate(ions)}
    rng = np.random.default_rng(2)
    areas = np.arange(1, n + 1) * (1 + 0.01 * rng.random((6, n)))  # the last: most intense
    areas[:, n - 1] *= 100  # the most intense of all, but contamination
    peaks = pd.DataFrame(areas, columns=ions)
    default = boxplot_selection(ions, groups, [], None, peaks=peaks)
    assert default["important"] == ions[n - 1 - MOST_INTENSE : n - 1]
    assert default["overview"] == ions and default["extra"] == []
    assert "10 most intense" in default["note"]
    # important ions configured: those, nothing chosen for the user, the rest on request
    named = boxplot_selection(ions, groups, ["I3-"], ["g1"], peaks=peaks)
    assert named["important"] == [i for i in ions if i == "I3-" or groups[i] == "g1"]
    assert named["extra"] == [] and named["note"] is None
    every = boxplot_selection(ions, groups, ["I3-"], ["g1"], "all", peaks=peaks)
    assert every["extra"] == [i for i in ions if i not in named["important"]]
    listed = boxplot_selection(ions, groups, ["I3-"], None, ["I5-", "I3-"], peaks=peaks)
    assert listed["important"] == ["I3-"] and listed["extra"] == ["I5-"]
    with pytest.raises(Exception, match="box-plot ion"):
        boxplot_selection(ions, groups, [], None, ["Xx-"])
    # a short list: every ion but contamination, as before
    short = boxplot_selection(ions[:5], {}, [], None)
    assert short["important"] == ions[:5] and short["note"] is None


def test_a_reused_figure_draws_the_same_png_as_a_fresh_one(tmp_path):
    rng = np.random.default_rng(3)
    scaled = _scaled(6, spots=4).assign(
        **{"B-": rng.random(24) * 1e-4, "C-": 5.0, "D-": np.r_[np.nan, rng.random(23)]}
    )
    groups = {"A-": "g", "B-": "g", "C-": "h", "D-": "g"}
    args = (groups, "total_ion", "S002")
    together = tmp_path / "together"
    plots.save_boxplots(together, scaled, ["A-", "B-", "C-", "D-"], [], *args)
    for ion in ("A-", "B-", "C-", "D-"):
        alone = tmp_path / ion
        plots.save_boxplots(alone, scaled, [ion], [], *args, overview=[ion])
        assert (alone / f"{ion}.png").read_bytes() == (together / f"{ion}.png").read_bytes()
    # group pages of the same shape reuse one figure too: g (3 ions) and h (1) differ in
    # shape, so the page of g drawn after a page of another group of three is the same
    other = tmp_path / "other"
    moved = {"A-": "f", "B-": "f", "C-": "f", "D-": "g"}
    plots.save_boxplots(other, scaled, [], [], moved, "total_ion", "S002", overview=list(moved))
    alone = tmp_path / "page"
    plots.save_boxplots(alone, scaled, [], [], moved, "total_ion", "S002", overview=["D-"])
    assert (alone / "group_g.png").read_bytes() == (other / "group_g.png").read_bytes()


def test_a_large_group_continues_on_pages(tmp_path):
    from simsflow.names import read_index
    from simsflow.plots.boxplots import PANELS_PER_PAGE

    n = PANELS_PER_PAGE + 3
    scaled = _scaled(2, spots=2)
    for k in range(n):
        scaled[f"I{k}-"] = float(k) + np.arange(4)
    ions = [f"I{k}-" for k in range(n)]
    plots.save_boxplots(tmp_path, scaled, [], [], {i: "g" for i in ions}, "m", overview=ions)
    index = read_index(tmp_path / "names.tsv")
    assert index[["slug", "kind"]].to_numpy().tolist() == [
        ["group_g", "group"],
        ["group_g_2", "group page"],
    ]
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["group_g.png", "group_g_2.png"]


def test_group_pages_name_samples_under_the_lowest_panel_of_each_column_only(tmp_path):
    from simsflow.plots.boxplots import GroupPage, _Layout, _page_shape

    scaled = _scaled(30, spots=2)
    ions = [f"I{k}-" for k in range(8)]
    for k, ion in enumerate(ions):
        scaled[ion] = np.arange(len(scaled)) * (k + 1.0)
    layout = _Layout(scaled, None)
    boxes = layout.boxes(ions)
    assert _page_shape(7) == _page_shape(8) == (2, 4)
    page = GroupPage(layout, 2, 4)
    samples = [f"S{k:03d}" for k in range(30)]

    def names(fig):
        return [[t.get_text() for t in ax.get_xticklabels()] for ax in fig.axes]

    def png(fig, name):
        fig.savefig(tmp_path / name)
        return (tmp_path / name).read_bytes()

    # 7 ions: the first row's fourth panel is the lowest of its column (the second row has 3)
    seven = page.draw({i: boxes[i] for i in ions[:7]}, "seven")
    # panels without names hold no tick objects at all (making them was most of the drawing)
    assert names(seven) == [[]] * 3 + [samples] * 4 + [[]]
    assert [len(ax.get_xticks()) for ax in seven.axes[:3]] == [0, 0, 0]
    first = png(seven, "first.png")
    eight = page.draw({i: boxes[i] for i in ions}, "eight")
    assert names(eight) == [[]] * 4 + [samples] * 4
    # and back: the page drawn again with 7 ions is the one drawn first, byte for byte
    assert png(page.draw({i: boxes[i] for i in ions[:7]}, "seven"), "again.png") == first


def test_summed_spectrum_panels_of_a_coarsely_binned_export_show_the_peak_s_bins():
    """On the SurfaceLab fixture (binned by 200 channels, bins of about 0.07 u at 35 u) a
    300 ppm interval's panel showed two points joined by a line (or none, for Cl-): every
    panel now shows at least seven bins, drawn as steps with a marker each."""
    from simsflow.io.spectra import read_spectrum

    from .conftest import FIXTURES

    spectrum = read_spectrum(FIXTURES / "iontof-ascii" / "N_Ru-Pt_Bi3_1.txt")
    summed = pd.DataFrame({"mz": spectrum.mz, "counts": spectrum.intensity.astype(float)})
    mz = np.array([15.995, 34.969, 194.965])
    mass_list = pd.DataFrame(
        {"ion": ["O-", "Cl-", "Pt-"], "mz": mz, "lower": mz * (1 - 3e-4), "upper": mz * (1 + 3e-4)}
    )
    fig = plots.summed_spectrum(summed, mass_list)
    for ax, ion in zip(fig.axes[1:], mass_list["ion"], strict=True):
        (line,) = ax.lines[:1]
        assert ax.get_title() == ion
        assert line.get_xdata().size >= 7 and line.get_drawstyle() == "steps-mid"
        assert line.get_marker() == "."
    assert max(fig.axes[2].lines[0].get_ydata()) == 693458  # the Cl- peak's bin is shown
