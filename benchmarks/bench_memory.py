"""Benchmark g: peak memory of importing one large export, and of integrating a large imzML.

Each measurement runs in a fresh Python process (the way a job runs) and reports its base RSS
(after the job's imports) and its peak RSS (ru_maxrss), so the growth per byte of file is the
memory that reading the file itself costs.

    .venv/bin/python benchmarks/bench_memory.py --mb 20 100 --ibd-mb 256   # a quick look

`make bench` runs it with 20, 100 and 200 MB exports and a 1 GB .ibd (results.md, g).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SCRIPTS = HERE.parent / "workflow" / "scripts"

# one export's import as the import job does it: read, table, Parquet
_IMPORT = """
import json, sys
sys.path.insert(0, {scripts!r})
import numpy, pandas, pyarrow.parquet  # the job's own imports, part of the base
{hwm}
from simsflow.io.importer import import_sample
from simsflow.io.tables import write_parquet
base = hwm()
table, meta = import_sample("bench", "big", ["1"], [{path!r}])
write_parquet(table, {out!r}, metadata=meta)
peak = hwm()
print(json.dumps({{"base_mb": base / 1024, "peak_mb": peak / 1024, "rows": table.num_rows}}))
"""

# one imzML region integrated over a mass list per pixel, as the image import does it
_IMZML = """
import json, sys
sys.path.insert(0, {scripts!r})
import numpy, pandas
import pandas as pd
{hwm}
from simsflow.image_regions import imzml_region
base = hwm()
centres = numpy.linspace(20, 400, 50)
ions = pd.DataFrame({{"ion": [f"m{{c:.1f}}" for c in centres], "lower": centres - 0.2,
                     "upper": centres + 0.2}})
stack = imzml_region({path!r}, ions)
peak = hwm()
print(json.dumps({{"base_mb": base / 1024, "peak_mb": peak / 1024, "pixels": len(stack)}}))
"""

# the process's peak RSS so far (VmHWM: unlike ru_maxrss it starts anew at exec, so the
# benchmark process's own memory does not show in its children's figures)
_HWM = """
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
"""

BYTES_PER_ROW = 18.9  # "123456\t12.345678\t3\r\n" and its neighbours
MB = 1e6


def write_export(path: Path, megabytes: float, seed: int = 3) -> Path:
    """A SurfaceLab-like unbinned export of about ``megabytes`` MB (channel, m/z, counts)."""
    rows = int(megabytes * MB / BYTES_PER_ROW)
    rng = np.random.default_rng(seed)
    with open(path, "w", newline="") as out:
        out.write(
            "# Deadtime Correction: on\r\n# Binning: 1 channels\r\nChannel\tm/z\tIntensity\r\n"
        )
        for start in range(0, rows, 1_000_000):
            stop = min(rows, start + 1_000_000)
            channel = np.arange(start, stop) + 10_000
            mz = (1.0 + channel * 2e-6) ** 2
            counts = rng.poisson(3, stop - start)
            out.write(
                "".join(
                    f"{c}\t{m:.6f}\t{i}\r\n"
                    for c, m, i in zip(channel.tolist(), mz.tolist(), counts.tolist(), strict=True)
                )
            )
    return path


def write_imzml(path: Path, megabytes: float, points: int = 8192, seed: int = 5) -> Path:
    """An imzML of float32 spectra whose .ibd is about ``megabytes`` (every pixel has the same
    m/z axis, which pyimzml stores once: the .ibd is the pixels' intensities)."""
    from pyimzml.ImzMLWriter import ImzMLWriter

    pixels = int(megabytes * MB / (4 * points))
    side = int(np.ceil(np.sqrt(pixels)))
    rng = np.random.default_rng(seed)
    mz = np.linspace(10, 500, points).astype(np.float32)
    with ImzMLWriter(str(path), mz_dtype=np.float32, intensity_dtype=np.float32) as writer:
        for k in range(pixels):
            writer.addSpectrum(
                mz, rng.poisson(2, points).astype(np.float32), (k % side + 1, k // side + 1)
            )
    return path


def _measure(code: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def bench_memory(work: Path, sizes_mb=(20, 100, 200), ibd_mb: float = 1024) -> dict:
    """Peak RSS of one export's import per size, and of one large imzML's integration."""
    work.mkdir(parents=True, exist_ok=True)
    exports = []
    for size in sizes_mb:
        path = write_export(work / f"export_{size}mb.txt", size)
        m = _measure(
            _IMPORT.format(
                hwm=_HWM, scripts=str(SCRIPTS), path=str(path), out=str(work / "out.parquet")
            )
        )
        file_mb = path.stat().st_size / MB
        exports.append(
            {
                "file_mb": round(file_mb, 1),
                "rows": m["rows"],
                "base_mb": round(m["base_mb"], 1),
                "peak_mb": round(m["peak_mb"], 1),
                "bytes_per_file_byte": round((m["peak_mb"] - m["base_mb"]) / file_mb, 2),
            }
        )
        path.unlink()
    result = {"exports": exports}
    if len(exports) > 1:  # what one more byte of file costs, fixed costs aside
        small, large = exports[0], exports[-1]
        result["marginal_bytes_per_file_byte"] = round(
            (large["peak_mb"] - small["peak_mb"]) / (large["file_mb"] - small["file_mb"]), 2
        )
    if ibd_mb:
        imzml = write_imzml(work / "large.imzML", ibd_mb)
        ibd = imzml.with_suffix(".ibd")
        m = _measure(_IMZML.format(hwm=_HWM, scripts=str(SCRIPTS), path=str(imzml)))
        result["imzml"] = {
            "ibd_mb": round(ibd.stat().st_size / MB, 1),
            "pixels": m["pixels"],
            "base_mb": round(m["base_mb"], 1),
            "peak_mb": round(m["peak_mb"], 1),
        }
        imzml.unlink()
        ibd.unlink()
    return result


def markdown_rows(g: dict) -> list[str]:
    """The rows of results.md for g."""
    rows = [
        f"| g. peak RSS importing one unbinned export of {e['file_mb']} MB ({e['rows']} rows) "
        f"in a fresh process (read, table, Parquet) | {e['peak_mb']} MB | base after the job's "
        f"imports: {e['base_mb']} MB | {e['bytes_per_file_byte']} bytes of RSS per byte of file |"
        for e in g["exports"]
    ]
    if "marginal_bytes_per_file_byte" in g:
        small, large = g["exports"][0], g["exports"][-1]
        rows.append(
            f"| g. growth of the peak from {small['file_mb']} to {large['file_mb']} MB | "
            f"{g['marginal_bytes_per_file_byte']} bytes of RSS per byte of file | | |"
        )
    if "imzml" in g:
        i = g["imzml"]
        rows.append(
            f"| g. peak RSS integrating a processed imzML of {i['ibd_mb']} MB ({i['pixels']} "
            f"pixels) over 50 ions | {i['peak_mb']} MB | base: {i['base_mb']} MB | |"
        )
    return rows


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=float, nargs="+", default=[20, 100, 200])
    parser.add_argument("--ibd-mb", type=float, default=1024, help="0: no imzML")
    parser.add_argument("--work", type=Path, default=HERE / "work" / "memory")
    args = parser.parse_args(argv)
    result = bench_memory(args.work, args.mb, args.ibd_mb)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
