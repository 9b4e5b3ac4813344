"""A batch's files: one per stage for all its samples, written a sample at a time, and read
back by the study's rules in sheet order."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from simsflow.io.batches import (
    STAGES,
    in_sheet_order,
    read_in_sheet_order,
    sample_provenance,
    skipped_spectra,
    write_batch,
)
from simsflow.io.importer import spectra_table
from simsflow.io.tables import parquet_parts, read_parquet_metadata, write_parquet
from simsflow.spots import Spot
from simsflow.summed import by_sample, combine, sum_on_grid


def _result(sample: str, n_spots: int = 2, skipped: tuple = ()) -> SimpleNamespace:
    """What ``process_samples`` yields for a sample, small."""
    rng = np.random.default_rng(len(sample) + ord(sample[0]))
    spots = [
        Spot("s", sample, f"{k}", None, np.linspace(1.0, 50.0, 100), rng.poisson(5, 100) * 1.0)
        for k in range(1, n_spots + 1)
    ]
    spot_names = [s.spot for s in spots]
    mz, counts = sum_on_grid([(s.mz, s.intensity) for s in spots], 1e-3)
    return SimpleNamespace(
        spectra=spectra_table(spots),
        calibration=pd.DataFrame({"sample": sample, "spot": spot_names, "a": 1.0}),
        peaks=pd.DataFrame({"sample": sample, "spot": spot_names, "Li+": rng.random(n_spots)}),
        notes=pd.DataFrame(columns=["study", "sample", "spot", "ion", "issue"]),
        summed=pd.DataFrame({"sample": sample, "mz": mz, "counts": counts, "step": 1e-3}),
        provenance={
            "study": "s",
            "sample": sample,
            "spots": [{"spot": s} for s in spot_names],
            "skipped": [
                {"study": "s", "sample": sample, "spot": s, "file": f"{s}.txt", "reason": "bad"}
                for s in skipped
            ],
        },
    )


def _paths(folder) -> dict:
    return {stage: folder / f"{stage}.{suffix}" for stage, suffix in STAGES.items()}


def test_a_batch_is_one_file_per_stage_with_a_row_group_per_sample(tmp_path):
    results = [_result("A"), _result("B", 3, skipped=("9",))]
    paths = _paths(tmp_path)
    provenance = write_batch(iter(results), paths)
    assert [p["sample"] for p in provenance] == ["A", "B"]
    spectra = pq.ParquetFile(paths["spectra"])
    assert spectra.metadata.num_row_groups == 2  # one per sample: read a sample at a time
    assert spectra.schema_arrow.field("sample").type == "string"
    assert read_parquet_metadata(paths["spectra"]) == {"samples": provenance}
    assert sample_provenance(paths["spectra"]) == provenance
    table = pd.read_parquet(paths["spectra"])
    assert table.groupby("sample", sort=False).size().to_dict() == {"A": 200, "B": 300}
    np.testing.assert_array_equal(
        table["intensity"].to_numpy(),
        np.concatenate([r.spectra.column("intensity").to_numpy() for r in results]),
    )
    for stage in ("calibration", "peaks", "summed"):
        expected = pd.concat([getattr(r, stage) for r in results], ignore_index=True)
        pd.testing.assert_frame_equal(pd.read_parquet(paths[stage]), expected)
    assert paths["qc"].read_text() == "study\tsample\tspot\tion\tissue\n"
    skipped = skipped_spectra([str(paths["spectra"])], ["A", "B"])
    assert skipped[["sample", "spot", "reason"]].to_numpy().tolist() == [["B", "9", "bad"]]


def test_a_failing_batch_leaves_no_file_behind(tmp_path):
    def results():
        yield _result("A")
        raise ValueError("B: unreadable")

    paths = _paths(tmp_path)
    with pytest.raises(ValueError, match="B: unreadable"):
        write_batch(results(), paths)
    assert list(tmp_path.iterdir()) == []


def test_parts_written_in_turn_read_back_as_one_table(tmp_path):
    path = tmp_path / "parts.parquet"
    first, second = _result("A").spectra, _result("B").spectra
    with parquet_parts(path, first.schema) as parts:
        parts.add(first)
        parts.add(second.to_pandas())  # a frame (dictionary labels as categories) casts back
        parts.metadata = {"samples": ["A", "B"]}
    whole = tmp_path / "whole.parquet"
    write_parquet(pd.concat([first.to_pandas(), second.to_pandas()]), whole)
    pd.testing.assert_frame_equal(pd.read_parquet(path), pd.read_parquet(whole))
    assert read_parquet_metadata(path) == {"samples": ["A", "B"]}


def test_tables_of_interleaved_batches_come_back_in_sheet_order():
    # batch b1 holds A and C, b2 holds B: files in the order b1, b2
    b1 = pd.DataFrame({"sample": ["A", "A", "C"], "spot": ["1", "2", "1"]})
    b2 = pd.DataFrame({"sample": ["B", "B"], "spot": ["2", "1"]})
    ordered = in_sheet_order(pd.concat([b1, b2], ignore_index=True), ["A", "B", "C"])
    assert ordered.to_numpy().tolist() == [
        ["A", "1"],
        ["A", "2"],
        ["B", "2"],
        ["B", "1"],
        ["C", "1"],
    ]


def test_summed_spectra_of_batches_add_up_in_sheet_order_like_per_sample_files(tmp_path):
    per_sample = [_result(s).summed for s in "ABC"]
    write_parquet(pd.concat([per_sample[0], per_sample[2]]), tmp_path / "b1.parquet")  # A, C
    write_parquet(per_sample[1], tmp_path / "B.parquet")
    files = [str(tmp_path / "b1.parquet"), str(tmp_path / "B.parquet")]
    split = by_sample(read_in_sheet_order(files, pd.read_parquet, ["A", "B", "C"]))
    for got, expected in zip(split, per_sample, strict=True):
        pd.testing.assert_frame_equal(got.reset_index(drop=True), expected)
    pd.testing.assert_frame_equal(combine(split), combine(per_sample))
