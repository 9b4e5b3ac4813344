"""Ion-image regions into pixel stacks: a folder of SurfaceLab exports, an .imzML integrated
over the mass list pixel by pixel, or an .ita through pySPM; one sample's regions as one stack.

The readers are ``simsflow.io.images``; this module chooses one per source and integrates what
needs integrating, so the readers depend on no algorithm.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .errors import SimsflowError
from .integrate import Intervals
from .io.images import (
    TOTAL,
    imzml_spectrum,
    open_imzml,
    read_ita_region,
    read_surfacelab_region,
    region_files,
)


def imzml_region(path: str | Path, mass_list: pd.DataFrame) -> pd.DataFrame:
    """An imzML image (continuous or processed) integrated over the mass list per pixel, one
    pixel's spectrum in memory at a time."""
    parser = open_imzml(path)
    intervals = Intervals.of(mass_list["lower"], mass_list["upper"])
    ions = mass_list["ion"].tolist()
    rows = np.zeros((len(parser.coordinates), len(ions)), dtype=np.float32)
    totals = np.zeros(len(parser.coordinates), dtype=np.float32)
    for i in range(len(parser.coordinates)):
        mz, intensity = imzml_spectrum(parser, i)
        rows[i] = intervals.sums(mz, intensity)
        totals[i] = intensity.sum()
    coords = np.asarray(parser.coordinates)
    stack = pd.DataFrame({"x": coords[:, 0].astype(np.int32), "y": coords[:, 1].astype(np.int32)})
    for k, ion in enumerate(ions):
        stack[ion] = rows[:, k]
    stack[TOTAL] = totals
    return stack


def read_region(path: str | Path, mass_list: pd.DataFrame) -> pd.DataFrame:
    """One region's stack from a folder of SurfaceLab exports, an .imzML or an .ita file."""
    path = Path(path)
    ions = mass_list["ion"].tolist()
    if path.is_dir():
        regions = region_files(path)
        if len(regions) != 1:
            raise SimsflowError(
                f"{len(regions)} regions in one folder ({', '.join(sorted(regions)) or 'none'})",
                file=str(path),
                hint="give each region its own folder (one sheet row per region)",
            )
        return read_surfacelab_region(next(iter(regions.values())), ions)
    if path.suffix.lower() == ".imzml":
        return imzml_region(path, mass_list)
    if path.suffix.lower() == ".ita":
        return read_ita_region(path, mass_list)
    raise SimsflowError(
        "not an ion-image source",
        file=str(path),
        hint="a folder of SurfaceLab image exports, an .imzML or an .ita file",
    )


def import_image_sample(
    study: str, sample: str, spots, files, mass_list: pd.DataFrame
) -> tuple[pd.DataFrame, dict]:
    """All regions of one sample as one stack (column ``spot`` = region) and provenance."""
    import hashlib

    parts, provenance = [], []
    for spot, file in zip(spots, files, strict=True):
        stack = read_region(file, mass_list)
        stack.insert(0, "spot", spot)
        parts.append(stack)
        path = Path(file)
        members = sorted(path.glob("*.txt")) if path.is_dir() else [path]
        digest = hashlib.sha256()
        for member in members:
            digest.update(member.name.encode() + b"\0" + member.read_bytes())
        provenance.append(
            {"spot": spot, "file": str(file), "sha256": digest.hexdigest(), "pixels": len(stack)}
        )
    table = pd.concat(parts, ignore_index=True)
    table.insert(0, "sample", sample)
    table.insert(0, "study", study)
    return table, {"study": study, "sample": sample, "spots": provenance}
