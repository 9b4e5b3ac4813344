"""Peak areas: counts summed within each mass-list interval of each calibrated spectrum.

Vectorized: per spectrum, one ``searchsorted`` call and one ``reduceat`` give every ion's area
(a bin belongs to an interval when lower <= m/z < upper at its centre). Optional steps, in the
order a careful analyst applies them: dead-time (Poisson) correction of counts when the
export says the instrument did not apply it (needs the number of primary shots), then a local
baseline (the lower of the mean counts per bin just below and just above the interval) is
subtracted. ``total_counts`` is the sum over the whole spectrum (after dead-time correction).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from . import deadtime
from .calibrate import calibrated_spots
from .errors import SimsflowError
from .io.tables import concat_frames
from .peakfit import FIT_COLUMNS, SampleFit, fit_samples, mz_or_none
from .spots import Spot

NOTE_COLUMNS = ["study", "sample", "spot", "ion", "issue"]  # integration QC notes
# with method fit or auto, one note per spectrum and fitted ion also carries the fit
FIT_NOTE_COLUMNS = [*NOTE_COLUMNS, *FIT_COLUMNS]
# how the note on intervals that hold no bin of a spectrum begins (integration_warning)
NARROW_INTERVALS = "interval(s) narrower than the bins hold no bin"


@dataclass(frozen=True)
class IntegrationSettings:
    """A study's integration settings (baseline, dead-time correction, out-of-range policy)."""

    baseline: str = "none"  # or "flank"
    baseline_bins: int = 5
    deadtime_shots: float | None = None  # primary shots; None: no correction possible
    dead_time_ns: float = 65.0
    channel_width_ns: float = 0.05
    out_of_range: str = "error"  # or "warn": the ion's area is NaN and listed in QC
    method: str = "interval"  # or "fit" (every ion) or "auto" (overlapping ions): peakfit
    max_shift_ppm: float = 60.0  # a fitted cluster's peaks may move together this far


def _window_sums(counts: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """sum(counts[lo[k]:hi[k]]) for every k, touching only the points inside the windows."""
    lengths = np.maximum(hi - lo, 0)
    sums = np.zeros(lo.size)
    filled = lengths > 0
    if not filled.any():
        return sums
    n = lengths[filled]
    ends = np.cumsum(n)
    # positions of every point of every window, window after window
    index = np.arange(ends[-1]) + np.repeat(lo[filled] - (ends - n), n)
    sums[filled] = np.add.reduceat(counts[index], ends - n)
    return sums


@dataclass(frozen=True)
class Intervals:
    """A mass list's intervals, prepared once for integrating many spectra: the bounds
    interleaved (lower, upper, lower, ...) and whether they are sorted and disjoint."""

    bounds: np.ndarray
    disjoint: bool

    @classmethod
    def of(cls, lower, upper) -> Intervals:
        """Intervals from their lower and upper bounds (sorted or not)."""
        bounds = np.empty(2 * len(lower))
        bounds[0::2] = np.asarray(lower, dtype=float)
        bounds[1::2] = np.asarray(upper, dtype=float)
        return cls(bounds, bool(np.all(bounds[1:] >= bounds[:-1])))

    def sums(self, mz: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Sum of counts with lower <= mz < upper for each interval (mz sorted ascending)."""
        return self._sums(np.searchsorted(mz, self.bounds, side="left"), counts)

    def _sums(self, index: np.ndarray, counts: np.ndarray) -> np.ndarray:
        # sorted, disjoint intervals (the usual mass list): one reduceat over the spectrum;
        # others: gather only the points inside them
        if not self.disjoint:
            return _window_sums(counts, index[0::2], index[1::2])
        if not index.size:
            return np.zeros(0)
        if index[-1] == counts.size:  # an interval ends after the last point
            counts = np.append(counts, 0.0)
        areas = np.add.reduceat(counts, index)[0::2].astype(float, copy=False)
        areas[index[0::2] == index[1::2]] = 0.0  # reduceat gives the point itself when empty
        return areas

    def areas(
        self, mz: np.ndarray, counts: np.ndarray, baseline: str = "none", baseline_bins: int = 5
    ) -> np.ndarray:
        """Peak areas of one spectrum, optionally minus a flank baseline."""
        index = np.searchsorted(mz, self.bounds, side="left")
        areas = self._sums(index, counts)
        if baseline == "flank":
            lo, hi, k = index[0::2], index[1::2], baseline_bins
            left_start = np.maximum(lo - k, 0)
            right_end = np.minimum(hi + k, counts.size)
            left = _window_sums(counts, left_start, lo) / np.maximum(lo - left_start, 1)
            right = _window_sums(counts, hi, right_end) / np.maximum(right_end - hi, 1)
            areas = areas - np.minimum(left, right) * (hi - lo)
        elif baseline != "none":
            raise SimsflowError(f"unknown baseline method '{baseline}'", hint="use none or flank")
        return areas


def _binning(header: list[str]) -> int | None:
    for line in header:
        key, _, value = line.lstrip("#").partition(":")
        if key.strip().lower() == "binning":
            digits = "".join(ch for ch in value if ch.isdigit())
            return int(digits) if digits else None
    return None


def integrate_sample(
    spectra: pa.Table | pd.DataFrame | list[Spot],
    calibration: pd.DataFrame,
    mass_list: pd.DataFrame,
    provenance: dict,
    settings: IntegrationSettings,
    *,
    fits: list | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Peak table of one sample (one row per calibrated spot) and its QC notes (columns
    ``NOTE_COLUMNS``, or ``FIT_NOTE_COLUMNS`` with method fit or auto: see ``simsflow.peakfit``).

    Spots whose calibration was excluded are left out (they are listed in the calibration QC).
    With a fit, ``fits`` (a list) receives (spot, ``peakfit.ClusterFit``) of every fitted
    cluster, for figures.
    """
    prepared = prepare_sample(spectra, calibration, mass_list, provenance, settings)
    return finish_samples([prepared], mass_list, settings, fits=[fits])[0]


@dataclass
class PreparedSample:
    """A sample's interval integration done, its fit (with method fit or auto) still to do:
    per spot its key (study, sample, spot), interval areas and total counts; the QC notes so
    far; the calibrated spectra and shape ions the fit needs."""

    rows: list[tuple[tuple[str, str, str], np.ndarray, float]]
    notes: list[dict]
    spectra: list[tuple[np.ndarray, np.ndarray]]
    shape_ions: list[list[str]]


def prepare_sample(
    spectra: pa.Table | pd.DataFrame | list[Spot],
    calibration: pd.DataFrame,
    mass_list: pd.DataFrame,
    provenance: dict,
    settings: IntegrationSettings,
) -> PreparedSample:
    """The interval part of ``integrate_sample``: every error it raises, it raises here."""
    ions = mass_list["ion"].tolist()
    lower = mass_list["lower"].to_numpy(dtype=float)
    upper = mass_list["upper"].to_numpy(dtype=float)
    intervals = Intervals.of(lower, upper)
    spot_meta = {s["spot"]: s for s in provenance.get("spots", [])}
    rows, notes = [], []
    fitting = settings.method != "interval"
    spectra_to_fit, shape_ions = [], []
    references = {}
    if fitting and "reference_ions" in calibration.columns:
        references = dict(zip(calibration["spot"], calibration["reference_ions"], strict=True))
    for (study, sample, spot), mz, intensity in calibrated_spots(spectra, calibration):
        counts = np.asarray(intensity, dtype=float)  # no copy of float counts: not changed
        meta = spot_meta.get(spot, {})
        corrected = meta.get("deadtime_corrected")
        if corrected is False and settings.deadtime_shots:
            binning = _binning(meta.get("header", [])) or 1
            window = deadtime.window_bins(settings.dead_time_ns, settings.channel_width_ns, binning)
            counts = deadtime.correct(counts, settings.deadtime_shots, window)
        elif corrected is False:
            notes.append(
                {
                    "study": study,
                    "sample": sample,
                    "spot": spot,
                    "ion": "",
                    "issue": "dead-time correction off in the export and no shot count configured: "
                    "intense peaks are undercounted",
                }
            )
        outside = (lower < mz[0]) | (upper > mz[-1])
        if outside.any():
            names = [ions[i] for i in np.flatnonzero(outside)]
            message = (
                f"ion(s) {', '.join(names)} outside the mass range of sample '{sample}' spot "
                f"'{spot}' ({mz[0]:.2f}-{mz[-1]:.2f})"
            )
            if settings.out_of_range != "warn":
                raise SimsflowError(
                    message,
                    file=meta.get("file"),
                    hint="remove the ion from the mass list or set integration.out_of_range: warn",
                )
            notes.extend(
                {
                    "study": study,
                    "sample": sample,
                    "spot": spot,
                    "ion": n,
                    "issue": "outside the mass range",
                }
                for n in names
            )
        areas = intervals.areas(mz, counts, settings.baseline, settings.baseline_bins)
        empty = _empty_intervals(mz, lower, upper) & ~outside
        if empty.any() and mz.size > 1:
            note = _nearest_bins(areas, empty, mz, counts, mass_list, settings)
            notes.append({"study": study, "sample": sample, "spot": spot, "ion": "", **note})
        areas[outside] = np.nan
        rows.append(((study, sample, spot), areas, float(counts.sum())))
        if fitting:
            spectra_to_fit.append((mz, counts))
            shape_ions.append([n for n in str(references.get(spot, "")).split(",") if n])
    return PreparedSample(rows, notes, spectra_to_fit, shape_ions)


def _empty_intervals(mz: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Which intervals hold no bin centre of the spectrum (mz sorted ascending)."""
    return np.searchsorted(mz, lower, side="left") == np.searchsorted(mz, upper, side="left")


def _nearest_bins(areas, empty, mz, counts, mass_list, settings) -> dict:
    """Areas of intervals that hold no bin (a coarsely binned export: a SurfaceLab export
    binned by 200 channels has bins of about 2,000 ppm at 35 u, wider than the default 300 ppm
    window): the two bins whose centres bracket the ion's m/z, since the peak lies in one or
    both (a calibration good to half a bin cannot tell which). Summing nothing would give an
    area of 0 for a strong peak, which is no measurement. A bin another interval holds stays
    its own; a bin two such ions want goes to the one whose m/z is nearer its centre.
    ``areas`` is changed in place; returns the QC note's issue, which names the ions and the
    widths."""
    ions = mass_list["ion"].to_numpy()
    centre = mass_list["mz"].to_numpy(dtype=float)
    lower = mass_list["lower"].to_numpy(dtype=float)
    upper = mass_list["upper"].to_numpy(dtype=float)
    index = np.flatnonzero(empty)
    right = np.clip(np.searchsorted(mz, centre[index]), 1, mz.size - 1)
    # (ion, bin) pairs: each empty interval's two bracketing bins
    ion_of = np.repeat(index, 2)
    bin_of = np.column_stack([right - 1, right]).ravel()
    free = ~_held_elsewhere(mz[bin_of], lower, upper)
    # a bin wanted twice goes to the nearer m/z (stable: the first such ion on a tie)
    order = np.lexsort((np.abs(mz[bin_of] - centre[ion_of]), bin_of))
    first = np.zeros(bin_of.size, dtype=bool)
    first[order[np.r_[True, bin_of[order][1:] != bin_of[order][:-1]]]] = True
    keep = (free & first).reshape(-1, 2)  # per empty interval: its lower bin, its upper bin
    pairs = bin_of.reshape(-1, 2)
    n_kept = keep.sum(axis=1)
    some = n_kept > 0
    first_bin = np.where(keep[:, 0], pairs[:, 0], pairs[:, 1])[some]
    last_bin = np.where(keep[:, 1], pairs[:, 1], pairs[:, 0])[some]
    if some.any():
        taken = Intervals.of(mz[first_bin], np.nextafter(mz[last_bin], np.inf))
        areas[index[some]] = taken.areas(mz, counts, settings.baseline, settings.baseline_bins)
    kept = dict(zip(index.tolist(), n_kept.tolist(), strict=True))
    spacing = mz[right] - mz[right - 1]
    bin_ppm = 1e6 * spacing / centre[index]
    window_ppm = 1e6 * (upper[index] - lower[index]) / centre[index]
    issue = (
        f"{NARROW_INTERVALS}: {', '.join(ions[index])} integrated over the two bins around "
        "their m/z"
    )
    for n, what in ((1, "one bin only"), (0, "no bin, area 0")):
        some = [ions[i] for i in index if kept[i] == n]
        if some:
            issue += (
                f"; {', '.join(some)}: {what} (the others belong to another ion's interval "
                "or are nearer another ion's m/z)"
            )
    issue += (
        f" (bins {np.min(bin_ppm):,.0f}-{np.max(bin_ppm):,.0f} ppm wide there, intervals "
        f"{np.min(window_ppm):,.0f}-{np.max(window_ppm):,.0f} ppm): for a binned export give "
        "intervals at least a bin wide (lower and upper, or mass_window), e.g. those of "
        "mass_list.proposed.tsv"
    )
    return {"issue": issue}


def _held_elsewhere(points: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Whether each point lies in some interval lower <= point < upper (intervals in any order,
    overlapping or not): among the intervals starting at or below it, the farthest end."""
    order = np.argsort(lower, kind="stable")
    ends = np.maximum.accumulate(upper[order])
    k = np.searchsorted(lower[order], points, side="right") - 1
    return (k >= 0) & (points < ends[np.maximum(k, 0)])


def finish_samples(
    prepared: list[PreparedSample],
    mass_list: pd.DataFrame,
    settings: IntegrationSettings,
    *,
    fits: list[list | None] | None = None,
) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """Peak table and QC notes of each prepared sample (``integrate_sample``'s results): with
    method fit or auto, the samples' clusters are fitted together (``peakfit.fit_samples``),
    with the same numbers as one sample at a time. ``fits``: per sample, None or a list that
    receives its cluster fits."""
    ions = mass_list["ion"].tolist()
    fitting = settings.method != "interval"
    matrices = [
        np.array([r[1] for r in p.rows], dtype=float).reshape(len(p.rows), len(ions))
        for p in prepared
    ]
    if fitting:
        to_fit = [k for k, p in enumerate(prepared) if p.rows]
        results = fit_samples(
            [prepared[k].spectra for k in to_fit],
            [prepared[k].shape_ions for k in to_fit],
            mass_list,
            settings.method,
            max_shift_ppm=settings.max_shift_ppm,
        )
        for k, result in zip(to_fit, results, strict=True):
            keep = None if fits is None else fits[k]
            matrices[k] = _fitted(matrices[k], prepared[k], result, keep)
    out = []
    for p, matrix in zip(prepared, matrices, strict=True):
        # built column by column: much faster than from a list of row dicts
        table = {
            "study": [r[0][0] for r in p.rows],
            "sample": [r[0][1] for r in p.rows],
            "spot": [r[0][2] for r in p.rows],
        }
        table.update({ion: matrix[:, k] for k, ion in enumerate(ions)})
        table["total_counts"] = np.array([r[2] for r in p.rows], dtype=float)
        columns = FIT_NOTE_COLUMNS if fitting else NOTE_COLUMNS
        out.append((pd.DataFrame(table), pd.DataFrame(p.notes, columns=columns)))
    return out


def _bin_ppm(prepared: PreparedSample) -> str:
    """The median width of a sample's bins at its reference ions, relative to m/z, in ppm
    (rounded, for a message): on coarsely binned exports a peak fits in a bin or two and has
    no shape to learn."""
    widths = []
    for (mz, _), names in zip(prepared.spectra, prepared.shape_ions, strict=True):
        masses = [m for m in map(mz_or_none, names) if m is not None and mz[0] < m < mz[-1]]
        i = np.searchsorted(mz, masses)
        widths.extend((mz[i] - mz[i - 1]) / mz[i])
    return f"{1e6 * float(np.median(widths)):,.0f}" if widths else "?"


def _fitted(matrix, prepared: PreparedSample, result: SampleFit, fits) -> np.ndarray:
    """Interval areas replaced by fitted ones where the mass list's clusters were fitted; the
    fit's QC rows (and any spectrum left to interval integration) added to the notes."""
    rows, notes = prepared.rows, prepared.notes
    (study, sample, _), *_ = rows[0]
    if all(shape is None for shape in result.shapes):
        notes.append(
            {
                "study": study,
                "sample": sample,
                "spot": "",
                "ion": "",
                "issue": "no spectrum has enough isolated strong reference peaks spanning "
                f"several bins to learn the peak shape from (its bins are {_bin_ppm(prepared)} "
                "ppm wide at the reference ions): interval integration kept (add isolated "
                "reference ions, or export with less binning: a peak within one bin has no "
                "shape to learn)",
            }
        )
        return matrix
    for s, shape in enumerate(result.shapes):
        if shape is None:
            notes.append(
                {
                    "study": study,
                    "sample": sample,
                    "spot": rows[s][0][2],
                    "ion": "",
                    "issue": "too few isolated strong reference peaks: the sample's median peak "
                    "shape was used",
                }
            )
    if fits is not None:
        fits.extend((rows[s][0][2], fit) for s, spot in enumerate(result.fits) for fit in spot)
    for row in result.rows:
        key = rows[row.pop("spot_index")][0]
        notes.append({"study": key[0], "sample": key[1], "spot": key[2], **row})
    return np.where(np.isnan(result.areas), matrix, result.areas)


def study_peak_table(sheet: pd.DataFrame, peaks: list[pd.DataFrame]) -> pd.DataFrame:
    """Sample-sheet columns joined with every sample's peak areas, in sheet order."""
    areas = concat_frames(peaks)
    meta = sheet.drop(columns=[c for c in ("path", "sheet_line") if c in sheet.columns])
    table = meta.merge(areas.drop(columns=["study"]), on=["sample", "spot"], how="inner")
    study = areas["study"].iloc[0] if len(areas) else ""
    table.insert(0, "study", study)
    return table.reset_index(drop=True)


def integration_warning(notes: pd.DataFrame, path: str) -> str | None:
    """The end-of-run warning for a study's integration QC table (``path``, as the user finds
    it): how many spectra had intervals narrower than their bins; None when none had."""
    if "issue" not in notes.columns:
        return None
    narrow = notes["issue"].astype(str).str.startswith(NARROW_INTERVALS)
    if not narrow.any():
        return None
    spectra = len(notes.loc[narrow, ["sample", "spot"]].drop_duplicates())
    return (
        f"simsflow: warning: {path}: {spectra} spectra have mass-list intervals narrower than "
        "their bins (a binned export): the two bins around each such ion's m/z were integrated; "
        "give intervals at least a bin wide (the rows there name the ions)."
    )
