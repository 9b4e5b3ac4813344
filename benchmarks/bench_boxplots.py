"""Benchmark h: the box plots of one scaling of a study-shaped peak table (10 samples x 5 spots =
50 spectra, 200 ions in 8 groups), drawn as the scale job draws them.

Run: .venv/bin/python benchmarks/bench_boxplots.py   (prints one JSON line)

Each variant runs in a fresh process, as a job does: the time counts matplotlib's import and
the choice of the ions (``stats.boxplot_selection``), not the scaling (milliseconds). Variants:
the defaults (one figure per group, 16 panels to a page, and one per important ion - here the
10 most intense, as no important ion is configured), the same on 2 worker processes
(``--set-threads scale=2``), and every ion with a figure of its own (``boxplots: all``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = HERE.parent / "workflow" / "scripts"
VARIANTS = {"defaults": ("important", 1), "defaults_2_workers": ("important", 2), "all": ("all", 1)}


def peak_table(n_samples: int, spots: int, n_ions: int, n_groups: int, seed: int = 5):
    """A peak table shaped like a study's: ion areas spread over decades, spot-to-spot noise,
    sample effects; ions in ``n_groups`` groups."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    ions = [f"ion{k:03d}-" for k in range(n_ions)]
    level = 10 ** rng.uniform(1, 5, n_ions)
    effect = rng.lognormal(0, 0.4, (n_samples, n_ions))
    rows = np.repeat(np.arange(n_samples), spots)
    areas = level * effect[rows] * rng.lognormal(0, 0.2, (rows.size, n_ions))
    table = pd.DataFrame(areas, columns=ions)
    table.insert(0, "total_counts", areas.sum(axis=1) * 1.5)
    table.insert(0, "spot", [f"spot{k % spots + 1}" for k in range(rows.size)])
    table.insert(0, "sample", [f"sample_{k:02d}" for k in rows])
    table.insert(0, "study", "bench")
    groups = {ion: f"group{k % n_groups}" for k, ion in enumerate(ions)}
    return table, ions, groups


def run_variant(variant: str, out: Path, n_samples: int, spots: int, n_ions: int) -> dict:
    """Draw one variant in this process; seconds from before the imports (``import_s``: the
    imports, the peak table and its scaling; ``draw_s``: the choice of ions and the figures)."""
    start, cpu = time.perf_counter(), time.process_time()
    sys.path.insert(0, str(SCRIPTS))
    from simsflow import plots
    from simsflow.plots.boxplots import PANELS_PER_PAGE
    from simsflow.scaling import scale_table
    from simsflow.stats import boxplot_selection

    peaks, ions, groups = peak_table(n_samples, spots, n_ions, 8)
    scaled = scale_table(peaks, ions, [{"method": "total_ion"}])
    plots.style._pyplot()  # matplotlib's import, counted apart from the drawing
    imported = time.perf_counter()
    boxplots, workers = VARIANTS[variant]
    chosen = boxplot_selection(ions, groups, [], None, boxplots, peaks=peaks)
    plots.save_boxplots(
        out,
        scaled,
        chosen["important"],
        chosen["extra"],
        groups,
        "total_ion",
        workers=workers,
        overview=chosen["overview"],
    )
    end = time.perf_counter()
    figures = len(list(out.rglob("*.png")))
    panels = len(chosen["overview"]) + len(chosen["important"]) + len(chosen["extra"])
    pages = figures - len(chosen["important"]) - len(chosen["extra"])
    return {
        "variant": variant,
        "workers": workers,
        "ions": n_ions,
        "spectra": n_samples * spots,
        "figures": figures,
        "group_pages": pages,
        "panels_per_page": PANELS_PER_PAGE,
        "ion_figures": len(chosen["important"]) + len(chosen["extra"]),
        "ions_drawn": panels,
        "import_s": round(imported - start, 2),
        "draw_s": round(end - imported, 2),
        "total_s": round(end - start, 2),
        "cpu_s": round(time.process_time() - cpu, 2),
        "s_per_ion_of_the_study": round((end - start) / n_ions, 4),
        "s_per_ion_drawn": round((end - imported) / panels, 4),
    }


def bench_boxplots(n_samples: int = 10, spots: int = 5, n_ions: int = 200) -> dict:
    """Every variant in a fresh process; variant -> its figures (``run_variant``)."""
    results = {}
    for variant in VARIANTS:
        with tempfile.TemporaryDirectory() as tmp:
            command = [
                sys.executable,
                str(Path(__file__)),
                "--variant",
                variant,
                "--out",
                str(Path(tmp) / "boxplots"),
                "--samples",
                str(n_samples),
                "--spots",
                str(spots),
                "--ions",
                str(n_ions),
            ]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            results[variant] = json.loads(done.stdout.strip().splitlines()[-1])
    return results


def markdown_rows(h: dict) -> list[str]:
    """The rows of results.md for h."""
    d, two, every = h["defaults"], h["defaults_2_workers"], h["all"]
    return [
        f"| h. box plots of one scaling, {d['spectra']} spectra x {d['ions']} ions in 8 groups, "
        f"defaults ({d['group_pages']} group pages of up to {d['panels_per_page']} panels, "
        f"{d['ion_figures']} figures of the most intense ions), one process as the job draws "
        f"them | {d['total_s']} s ({d['s_per_ion_of_the_study']} s per ion of the study; "
        f"{d['s_per_ion_drawn']} s per ion drawn) | goal: < 20 s for 200 ions | "
        f"imports, table and scaling {d['import_s']} s, drawing {d['draw_s']} s |",
        f"| h. the same on 2 worker processes (`--set-threads scale=2`) | {two['total_s']} s | "
        f"| drawing {two['draw_s']} s |",
        f"| h. every ion with a figure of its own too (`boxplots: all`, {every['figures']} "
        f"files) | {every['total_s']} s ({every['s_per_ion_drawn']} s per ion drawn) | | "
        f"drawing {every['draw_s']} s |",
    ]


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variant", choices=sorted(VARIANTS))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--spots", type=int, default=5)
    parser.add_argument("--ions", type=int, default=200)
    args = parser.parse_args(argv)
    if args.variant:
        result = run_variant(args.variant, args.out, args.samples, args.spots, args.ions)
    else:
        result = bench_boxplots(args.samples, args.spots, args.ions)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
