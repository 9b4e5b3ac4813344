"""Per-sample statistics of scaled peak areas, and the change relative to a reference sample.

For each sample and ion over its spots: n, min, Q1, median, mean, Q3, max and the sample
standard deviation (ddof=1), with quartiles by linear interpolation - the same numbers pandas'
``describe`` gives - and rel_diff_pct = 100 * (mean - mean of the reference sample) / mean of the
reference sample (Lombardo et al., JVST A 2023, report differences this way).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .errors import SimsflowError

log = logging.getLogger(__name__)
STAT_COLUMNS = ["n", "min", "q1", "median", "mean", "q3", "max", "std"]


def sample_statistics(
    scaled: pd.DataFrame, ions: list[str], groups: dict[str, str], reference: str | None
) -> pd.DataFrame:
    """Long table: one row per sample x ion with the statistics and rel_diff_pct."""
    samples = list(dict.fromkeys(scaled["sample"]))
    if reference is not None and reference not in samples:
        raise SimsflowError(
            f"reference sample '{reference}' is not in the study",
            hint=f"choose one of {', '.join(samples)}",
        )
    long = scaled.melt(id_vars=["sample"], value_vars=ions, var_name="ion", value_name="value")
    grouped = long.groupby(["sample", "ion"], sort=False)["value"]
    table = pd.DataFrame(
        {
            "n": grouped.count(),
            "min": grouped.min(),
            "q1": grouped.quantile(0.25),
            "median": grouped.median(),
            "mean": grouped.mean(),
            "q3": grouped.quantile(0.75),
            "max": grouped.max(),
            "std": grouped.std(ddof=1),
        }
    ).reset_index()
    if reference is not None:
        ref = table[table["sample"] == reference].set_index("ion")["mean"]
        ref_mean = table["ion"].map(ref).to_numpy(dtype=float)
        zero = ref_mean == 0
        if zero.any():
            log.warning(
                "rel_diff_pct left empty: the reference mean is 0 for %s",
                ", ".join(sorted(set(table.loc[zero, "ion"]))),
            )
        table["rel_diff_pct"] = np.where(
            zero, np.nan, 100.0 * (table["mean"] - ref_mean) / np.where(zero, 1.0, ref_mean)
        )
    else:
        table["rel_diff_pct"] = np.nan
    order = {s: i for i, s in enumerate(samples)}
    ion_order = {ion: i for i, ion in enumerate(ions)}
    table = table.sort_values(
        ["sample", "ion"], key=lambda c: c.map(order if c.name == "sample" else ion_order)
    )
    table.insert(0, "study", scaled["study"].iloc[0] if "study" in scaled else "")
    table.insert(3, "group", [groups.get(ion, "") for ion in table["ion"]])
    return table.reset_index(drop=True)


def important_ions(
    ions: list[str], groups: dict[str, str], names: list[str], group_names: list[str] | None
) -> tuple[list[str], list[str]]:
    """Split ions into the important ones (named, or in the named groups) and the extra ones.

    By default (no names, no groups) every ion outside the group 'contamination' is important.
    """
    if names or group_names is not None:
        chosen = set(names) | {i for i in ions if groups.get(i) in set(group_names or [])}
    else:
        chosen = {i for i in ions if groups.get(i) != "contamination"}
    unknown = sorted(set(names) - set(ions))
    if unknown:
        raise SimsflowError(f"important ion(s) {', '.join(unknown)} are not in the mass list")
    return [i for i in ions if i in chosen], [i for i in ions if i not in chosen]


BOXPLOT_LIMIT = 300  # ions: above this the group figures show the important ions only
ALL_UP_TO = 30  # ions: a mass list this short gets a figure per ion by default
MOST_INTENSE = 10  # otherwise, with no important ions configured: the most intense get one


def most_intense(ions: list[str], peaks: pd.DataFrame | None, n: int) -> list[str]:
    """The ``n`` ions of the largest mean peak area over every spectrum of ``peaks`` (missing
    areas left out), in mass-list order; ties, and a missing table, in mass-list order."""
    if peaks is None or not ions:
        return ions[:n]
    means = peaks[ions].astype(float).mean().to_numpy()
    order = np.argsort(-np.nan_to_num(means, nan=-np.inf), kind="stable")
    chosen = set(order[:n].tolist())
    return [ion for k, ion in enumerate(ions) if k in chosen]


def boxplot_selection(
    ions: list[str],
    groups: dict[str, str],
    names: list[str],
    group_names: list[str] | None,
    boxplots: str | list[str] = "important",
    peaks: pd.DataFrame | None = None,
    limit: int = BOXPLOT_LIMIT,
) -> dict:
    """Which box plots a scaling draws: ``overview`` - the ions of the group figures (every
    ion; above ``limit`` ions only the important ones), ``important`` - the ions with a
    figure of their own, ``extra`` - those drawn in extra/ on request, and ``note``, a line
    saying what was chosen for the user or left out (None when nothing needs saying).

    Important are the ions named in the config (``names``) or in the named groups
    (``important_groups``). With neither, a mass list of up to ``ALL_UP_TO`` ions has every
    ion but the group 'contamination' important, a longer one its ``MOST_INTENSE`` most
    intense (by mean peak area in ``peaks``; ``most_intense``). ``boxplots`` asks for more:
    'important' - nothing more, 'all' - every other ion in extra/ (up to ``limit`` ions), a
    list - those ions in extra/.
    """
    configured = bool(names) or group_names is not None
    important, _ = important_ions(ions, groups, names, group_names)
    wanted = [] if isinstance(boxplots, str) else list(boxplots)
    unknown = sorted(set(wanted) - set(ions))
    if unknown:
        raise SimsflowError(f"box-plot ion(s) {', '.join(unknown)} are not in the mass list")
    notes = []
    if not configured and len(important) > ALL_UP_TO:
        important = most_intense(important, peaks, MOST_INTENSE)
        notes.append(
            f"box plots: {len(ions)} ions and no important ions configured, so the "
            f"{len(important)} most intense (mean peak area) have a figure of their own; "
            "choose them with scaling.important_ions or important_groups, or ask for "
            "scaling.boxplots: all"
        )
    if len(ions) > limit and len(important) > limit:
        notes.append(f"box plots: the first {limit} of {len(important)} important ions drawn")
        important = important[:limit]
    chosen = set(important)
    if boxplots == "all":
        extra = [i for i in ions if i not in chosen]
        if len(ions) > limit:
            notes.append(
                f"box plots: the mass list has {len(ions)} ions, more than {limit}; "
                "boxplots: all draws no ion in extra/ - list the ions wanted instead"
            )
            extra = []
    else:
        extra = [i for i in ions if i in set(wanted) and i not in chosen]
    overview = list(ions)
    if len(ions) > limit:
        overview = list(important)
        n_groups = len({groups.get(i) or "ungrouped" for i in overview})
        notes.append(
            f"box plots: the mass list has {len(ions)} ions, more than {limit}; the group "
            f"figures show only the {len(overview)} important ions, of {n_groups} group(s). "
            "The statistics of every ion are in the stats table."
        )
    return {
        "important": important,
        "extra": extra,
        "overview": overview,
        "note": " ".join(notes) or None,
    }
