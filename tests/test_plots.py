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
    points = ax.collections[-1]
    assert len(points.get_offsets()) == len(scaled)
    np.testing.assert_allclose(np.sort(points.get_offsets()[:, 1]), np.sort(scaled["A-"]))
    colours = points.get_facecolors()
    reference = (scaled["sample"] == "S007").to_numpy()
    assert np.allclose(colours[reference], to_rgba("#dd8452", 0.8))
    assert np.allclose(colours[~reference], to_rgba("#4c72b0", 0.8))
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
    assert [str(n) for n in names] == ["A-.png", "B-.png", "extra/C-.png", "group_g.png"]
    for name in names:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_a_long_mass_list_draws_only_the_chosen_ions_and_says_so(tmp_path):
    from simsflow.names import read_index
    from simsflow.stats import BOXPLOT_LIMIT, boxplot_selection, important_ions

    ions = [f"I{k}-" for k in range(BOXPLOT_LIMIT + 1)]  # a few hundred ions: more than the limit
    groups = {ion: ("contamination" if k % 7 == 0 else f"g{k % 3}") for k, ion in enumerate(ions)}
    # by default (nothing chosen) no ion of a long list gets a figure
    default = boxplot_selection(ions, groups, [], None)
    assert default["important"] == default["extra"] == []
    assert (
        f"the mass list has {BOXPLOT_LIMIT + 1} ions, more than {BOXPLOT_LIMIT}"
        in (default["note"])
    )
    # chosen ions and groups are drawn, in mass-list order, nothing in extra/
    chosen = boxplot_selection(ions, groups, ["I7-"], ["g1"])
    expected = [i for i in ions if i == "I7-" or groups[i] == "g1"]
    assert chosen["important"] == expected and chosen["extra"] == []
    assert f"drawn only for {len(expected)} important ions and their 2 group(s)" in (chosen["note"])
    # too many chosen: the first ones up to the limit
    capped = boxplot_selection(ions, groups, [], ["g0", "g1", "g2", "contamination"], limit=10)
    assert capped["important"] == ions[:10]
    assert f"(the first 10 of {len(ions)})" in capped["note"]
    # a short list is unchanged
    short = boxplot_selection(ions[:20], groups, [], None)
    assert (short["important"], short["extra"]) == important_ions(ions[:20], groups, [], None)
    assert short["note"] is None
    # the note stands in the figure folder's index
    scaled = _scaled(3).rename(columns={"A-": "I1-"})
    plots.save_boxplots(tmp_path, scaled, ["I1-"], [], groups, "total_ion", note=chosen["note"])
    index = read_index(tmp_path / "names.tsv")
    assert index.loc[index["kind"] == "note", "name"].tolist() == [chosen["note"]]
    assert not (tmp_path / "extra").exists()
