"""The benchmark command keeps working (a tiny run; speed is never asserted in tests)."""

import importlib.util
import json
import subprocess
import sys

import pytest

from .conftest import ROOT


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_a_slow_snakemake_start_is_flagged_in_the_results():
    bench = _bench_module()
    assert bench.slow_start_warning(0.8) == ""
    warning = bench.slow_start_warning(9.8)
    assert "`snakemake --version` took 9.8 s" in warning and "scontrol" in warning


def test_the_peakfit_benchmark_states_both_cost_ratios():
    bench = _bench_module()
    result = bench.bench_peakfit(10, repeats=1)  # one sample: the figures, not their size
    assert result["spectra"] == 10 and result["clusters"] == 6
    for method in ("auto", "fit"):
        ratio = result[f"ratio_{method}_to_interval"]
        assert ratio > 0 and result[f"{method}_s"] > 0
        assert result[f"added_by_{method}"] == pytest.approx(ratio - 1, abs=0.11)
    summary = bench.peakfit_summary(result)
    assert f"auto/interval {result['ratio_auto_to_interval']}x" in summary
    assert f"fit/interval {result['ratio_fit_to_interval']}x" in summary


def test_the_peakfit_benchmark_times_the_whole_stage_with_each_method(tmp_path):
    bench = _bench_module()
    result = bench.bench_peakfit(10, repeats=1, folder=tmp_path, stage_repeats=1)
    assert len(list(tmp_path.glob("S000/*.txt"))) == 10  # the exports the stage reads
    for method in ("interval", "auto", "fit"):
        assert result[f"stage_{method}_s"] > 0
    assert result["stage_auto_to_interval"] > 0 and result["stage_fit_to_interval"] > 0
    summary = bench.peakfit_summary(result)
    assert f"interval {result['stage_interval_s']} s, auto {result['stage_auto_s']} s" in summary
    row = next(r for r in bench.markdown_rows_peakfit(result) if "raw -> peaks" in r)
    assert f"{result['stage_auto_s']} s" in row


@pytest.mark.workflow  # runs Snakemake on copies of the project: about two minutes
def test_benchmark_runs_and_writes_results(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run.py"),
            "--spectra",
            "20",
            "--small",
            "10",
            "--regions",
            "1",
            "--size",
            "32",
            "--ions",
            "20",
            "--batch",
            "20",
            "--memory-mb",
            "1",
            "6",
            "--ibd-mb",
            "2",
            "--real",
            "binned",
            "--real-samples",
            "3",  # 3 classes (2 make a one-row coefficient matrix the classifier trips over)
            "--real-spots",
            "1",
            "--batch-study",
            "6",
            "--boxplot-ions",
            "8",  # one per group of the box-plot study: every group has a page
            "--out",
            str(tmp_path),
            "--work",  # not the checkout's benchmarks/work, where a full-size run may be
            str(tmp_path / "work"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert len(list((tmp_path / "work" / "spectra").rglob("*.txt"))) == 20  # data under --work
    assert results["spectra"]["spectra"] == 20
    assert results["growth"]["spectra_small"] == 10 and results["growth"]["spectra"] == 20
    # e end to end: the smaller study through snakemake too
    assert results["growth"]["workflow"]["small_wall_s"] > 0
    assert (tmp_path / "work" / "project_small" / "results" / "bench_negative").is_dir()
    assert results["images"]["pixels"] == 32 * 32
    # d and its floor (the same DAG with empty jobs; run.py fails if their job counts differ)
    workflow = results["workflow"]["batches_of_20"]
    assert workflow["jobs"] == workflow["timed_jobs"] > 0
    assert min(workflow["floor_wall_s"], workflow["nothing_to_do_wall_s"]) > 0
    assert 0 < workflow["fixed_share"] < workflow["floor_share"] < 1
    assert workflow["floor_core_s_per_job"] > 0
    text = (tmp_path / "results.md").read_text()
    assert "import + calibration + integration" in text and "speed-up" in text
    assert "floor: the same DAG, every job empty" in text
    assert "one batch per study (1 sample)" in text  # 20 spectra: 1 sample per polarity
    assert "growth end to end" in text
    # g: one export's import (read whole at 1 MB, streamed at 6 MB) and one imzML, each in a
    # fresh process whose base and peak RSS are its own
    memory, sizes = results["memory"], _bench_module().bench_memory.__globals__
    rows = [int(mb * sizes["MB"] / sizes["BYTES_PER_ROW"]) for mb in (1, 6)]
    assert [e["rows"] for e in memory["exports"]] == rows
    assert all(0 < e["base_mb"] <= e["peak_mb"] for e in memory["exports"])
    assert memory["imzml"]["pixels"] == int(2 * sizes["MB"] / (4 * 8192))
    assert memory["imzml"]["peak_mb"] > 0
    assert "g. peak RSS importing one unbinned export" in text and "g. growth of the peak" in text
    # f: the real-shaped study (3 samples x 3 primary ions x 1 spot x 2 polarities) through the
    # sheet command, then 6 spectra without a batch column, in automatic batches and per sample
    real = results["real"]
    assert real["binned"]["spectra"] == 18 and real["binned"]["binning"] == 200
    assert real["binned"]["to_peaks"]["jobs"] == 4  # one batch and one peak table per study
    assert real["binned"]["peaks_to_classification"]["jobs"] > 0
    sheet = (tmp_path / "work/real/project_binned/config/real_negative/samples.tsv").read_text()
    assert sheet.splitlines()[0].split("\t")[-1] == "batch"  # the sheet command's default
    batches = real["batches"]
    assert batches["spectra"] == 6
    assert batches["automatic_batches"]["jobs"] == 4  # as the sheet's batches
    assert batches["per_sample"]["jobs"] == 2 * (3 * 3 + 1)  # 3 samples x 3 stages + peak table
    assert "f. real-shaped study" in text and "automatic batches" in text
    # h: the box plots of one scaling (8 ions: short enough for a figure per ion by default)
    boxes = results["boxplots"]
    assert boxes["defaults"]["ions"] == 8 and boxes["defaults"]["ion_figures"] == 8
    assert boxes["defaults_2_workers"]["figures"] == boxes["defaults"]["figures"]
    assert boxes["all"]["s_per_ion_drawn"] > 0
    assert "h. box plots of one scaling" in text


def test_the_overhead_summary_states_each_run_s_shares():
    bench = _bench_module()
    run = {
        "wall_s": 50.0,
        "jobs": 12,
        "cpu_s": 80.0,
        "outside_library_share": 0.374,
        "floor_share": 0.301,
        "fixed_share": 0.05,
        "snakemake_version_s": 1.2,
    }
    summary = bench.overhead_summary({"batches_of_20": run})
    assert summary.startswith("batches_of_20: 50.0 s wall, 12 jobs, 80.0 s CPU;")
    assert "outside the library 37 % of cores x wall (the floor's DAG 30 %" in summary
