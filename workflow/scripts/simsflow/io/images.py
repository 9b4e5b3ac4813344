"""Ion images: SurfaceLab ASCII image exports, imzML, and (optionally) IONTOF .ita via pySPM.

Every reader returns an image stack: a DataFrame with one row per pixel, integer columns x and
y, one float32 column per ion (counts) and ``total`` (all counts of the pixel). SurfaceLab writes
one file per ion and region, named ``<region> (<n>) - <ion>.txt``, with ``#`` header lines and
whitespace-separated ``x y counts`` rows, plus a ``total`` image.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..chemistry import normalize_ion_name
from ..errors import InputFileError, SimsflowError
from .spectra import _decode

IMAGE_NAME = re.compile(r"^(?P<region>.+) \((?P<n>\d+)\) - (?P<ion>.+)\.txt$")
TOTAL = "total"


def read_image_file(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """x, y, counts and header lines of one SurfaceLab ion-image export."""
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        raise InputFileError(f"cannot read: {err.strerror}", file=source) from None
    lines = _decode(raw, source).split("\n")
    header, start = [], 0
    while start < len(lines) and lines[start].startswith("#"):
        header.append(lines[start].rstrip("\r"))
        start += 1
    body = [ln for ln in lines[start:] if ln.strip()]
    if not body:
        raise InputFileError("no pixel rows", file=source, hint="export the image again")
    try:
        values = pd.read_csv(
            io.StringIO("\n".join(body)), sep=r"\s+", header=None, dtype=float, engine="c"
        ).to_numpy()
    except (ValueError, pd.errors.ParserError):
        for number, line in enumerate(lines[start:], start=start + 1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 3:
                raise InputFileError(
                    f"expected 3 values (x y counts), found {len(fields)}",
                    file=source,
                    line=number,
                ) from None
            for name, field in zip(("x", "y", "counts"), fields, strict=True):
                try:
                    float(field)
                except ValueError:
                    raise InputFileError(
                        f"'{field[:40]}' is not a number", file=source, line=number, column=name
                    ) from None
        raise InputFileError("unreadable pixel rows", file=source) from None
    if values.ndim != 2 or values.shape[1] != 3:
        raise InputFileError("expected 3 values (x y counts) per row", file=source)
    bad = ~np.isfinite(values) | (values[:, 2:] < 0).any(axis=1)[:, None]
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        raise InputFileError(
            "non-finite coordinate or negative/non-finite counts",
            file=source,
            line=start + 1 + _nonblank_index(lines[start:], row),
        )
    return values[:, 0].astype(np.int32), values[:, 1].astype(np.int32), values[:, 2], header


def _nonblank_index(lines, row):
    seen = -1
    for i, line in enumerate(lines):
        if line.strip():
            seen += 1
            if seen == row:
                return i
    return len(lines)


def region_files(folder: str | Path) -> dict[str, dict[str, Path]]:
    """SurfaceLab image exports in a folder, grouped by region: {region: {ion: path}}."""
    regions: dict[str, dict[str, Path]] = {}
    for path in sorted(Path(folder).glob("*.txt")):
        match = IMAGE_NAME.match(path.name)
        if match is None:
            raise SimsflowError(
                "not a SurfaceLab image export name",
                file=str(path),
                hint="expected '<region> (<n>) - <ion>.txt'",
            )
        ion = match.group("ion")
        ion = TOTAL if ion.lower() == TOTAL else normalize_ion_name(ion)
        regions.setdefault(match.group("region"), {})[ion] = path
    return regions


def read_surfacelab_region(files: dict[str, Path], ions: list[str]) -> pd.DataFrame:
    """One region's stack from its per-ion files (ions not exported are an error)."""
    missing = [i for i in [*ions, TOTAL] if i not in files]
    if missing:
        raise SimsflowError(
            f"no image export for {', '.join(missing[:6])}",
            file=str(next(iter(files.values())).parent),
            hint="export every mass-list ion and the total image",
        )
    x, y, total, _ = read_image_file(files[TOTAL])
    order = np.lexsort((x, y))
    stack = {"x": x[order], "y": y[order]}
    for ion in ions:
        xi, yi, counts, _ = read_image_file(files[ion])
        o = np.lexsort((xi, yi))
        if xi.size != x.size or not (
            np.array_equal(xi[o], stack["x"]) and np.array_equal(yi[o], stack["y"])
        ):
            raise InputFileError(
                f"pixels differ from the total image: {xi.size} pixels "
                f"({_extent(xi, yi)}), the total image {files[TOTAL].name} has {x.size} "
                f"({_extent(x, y)})",
                file=str(files[ion]),
                hint="export every image of the region with the same size and binning",
            )
        stack[ion] = counts[o].astype(np.float32)
    stack[TOTAL] = total[order].astype(np.float32)
    return pd.DataFrame(stack)


def _extent(x: np.ndarray, y: np.ndarray) -> str:
    """An image's size as 'width x height' of its pixel coordinates."""
    if x.size == 0:
        return "empty"
    return f"{int(x.max() - x.min()) + 1} x {int(y.max() - y.min()) + 1}"


def format_image(x, y, counts, header=("# SurfaceLab ion image",)) -> str:
    rows = [
        f"{a} {b} {int(c)}" for a, b, c in zip(x.tolist(), y.tolist(), counts.tolist(), strict=True)
    ]
    return "\r\n".join([*header, *rows]) + "\r\n"


def write_surfacelab_region(folder, region: str, stack: pd.DataFrame, ions: list[str]) -> None:
    """Write a stack as SurfaceLab image exports (one file per ion and the total)."""
    from .atomic import atomic_write_text

    for n, ion in enumerate([*ions, TOTAL], start=1):
        atomic_write_text(
            Path(folder) / f"{region} ({n}) - {ion}.txt",
            format_image(stack["x"].to_numpy(), stack["y"].to_numpy(), stack[ion].to_numpy()),
        )


def open_imzml(path: str | Path):
    """A pyimzml parser of an imzML image whose .ibd holds every spectrum it points to."""
    from pyimzml.ImzMLParser import ImzMLParser

    source = str(path)
    try:
        parser = ImzMLParser(source)
    except Exception as err:  # pyimzml raises bare exceptions on damaged files
        raise InputFileError(f"not a readable imzML file: {err}", file=source) from None
    _check_ibd_size(parser)
    return parser


def imzml_spectrum(parser, pixel: int) -> tuple[np.ndarray, np.ndarray]:
    """One pixel's spectrum (m/z ascending, intensities as floats), read from the .ibd alone:
    an image is never held whole, whatever the size of its .ibd."""
    mz, intensity = parser.getspectrum(pixel)
    order = np.argsort(mz, kind="stable")
    return np.asarray(mz)[order], np.asarray(intensity, dtype=float)[order]


def _check_ibd_size(parser) -> None:
    """The .ibd holds every spectrum the .imzML points to (a copy cut short does not: reading
    past its end would fail in numpy, naming neither file nor size)."""
    import os

    mz_size = np.dtype(parser.mzPrecision).itemsize
    intensity_size = np.dtype(parser.intensityPrecision).itemsize
    needed = 0
    for offsets, lengths, size in (
        (parser.mzOffsets, parser.mzLengths, mz_size),
        (parser.intensityOffsets, parser.intensityLengths, intensity_size),
    ):
        if len(offsets):
            ends = np.asarray(offsets, dtype=np.int64) + np.asarray(lengths, dtype=np.int64) * size
            needed = max(needed, int(ends.max()))
    has = os.fstat(parser.m.fileno()).st_size
    if has < needed:
        raise InputFileError(
            f"truncated: {has} bytes, but its .imzML points to spectra up to byte {needed}",
            file=parser.m.name,
            hint="copy or export the .imzML and .ibd pair again",
        )


def read_ita_region(path: str | Path, mass_list: pd.DataFrame) -> pd.DataFrame:
    """An IONTOF .ita image through pySPM (an optional extra: ``pip install pySPM``)."""
    try:
        import pySPM
    except ImportError:
        raise SimsflowError(
            "reading IONTOF .ita files needs the optional package pySPM",
            file=str(path),
            hint="pip install pySPM (into .venv), or export the images as ASCII from SurfaceLab",
        ) from None
    ita = pySPM.ITA(str(path))
    images = {}
    for ion, lo, hi in mass_list[["ion", "lower", "upper"]].itertuples(index=False):
        images[ion] = np.asarray(ita.getAddedImageByMass((lo + hi) / 2, (hi - lo) / 2))
    total = np.asarray(ita.getAddedImageByMass(0, 1e6))
    ny, nx = total.shape
    y, x = np.mgrid[0:ny, 0:nx]
    stack = pd.DataFrame({"x": x.ravel().astype(np.int32), "y": y.ravel().astype(np.int32)})
    for ion, image in images.items():
        stack[ion] = image.ravel().astype(np.float32)
    stack[TOTAL] = total.ravel().astype(np.float32)
    return stack
