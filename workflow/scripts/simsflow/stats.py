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


BOXPLOT_LIMIT = 300  # ions: above this a mass list gets box plots of its chosen ions only


def boxplot_selection(
    ions: list[str],
    groups: dict[str, str],
    names: list[str],
    group_names: list[str] | None,
    limit: int = BOXPLOT_LIMIT,
) -> dict:
    """The ions with a box plot of their own (``important``, each also in its group's
    overview) and those drawn in extra/ (``extra``), and a ``note`` when figures are left out.

    Up to ``limit`` ions every ion is drawn (``important_ions``). A longer mass list (a
    SurfaceLab peak search gives thousands) is drawn only for the ions chosen by name or group
    in the config, at most ``limit`` of them in mass-list order; its other ions get no figure,
    only their statistics, and the note says so."""
    important, extra = important_ions(ions, groups, names, group_names)
    if len(ions) <= limit:
        return {"important": important, "extra": extra, "note": None}
    chosen = important if (names or group_names is not None) else []
    drawn = chosen[:limit]
    n_groups = len({groups.get(i) or "ungrouped" for i in drawn})
    note = (
        f"box plots: the mass list has {len(ions)} ions, more than {limit}; drawn only for "
        f"{len(drawn)} important ions"
        + (f" (the first {limit} of {len(chosen)})" if len(chosen) > limit else "")
        + f" and their {n_groups} group(s); choose them with scaling.important_ions or "
        "important_groups. The statistics of every ion are in the stats table."
    )
    return {"important": drawn, "extra": [], "note": note}
