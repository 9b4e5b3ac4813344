"""Parquet tables as simsflow writes them: plain types on disk, provenance, encodings."""

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from simsflow.errors import SimsflowError
from simsflow.io.tables import (
    concat_frames,
    read_parquet_metadata,
    read_peak_table,
    write_parquet,
)

from .conftest import ROOT


def _table() -> pa.Table:
    labels = pa.DictionaryArray.from_arrays(
        pa.array(np.repeat([0, 1], 500).astype(np.int32)), pa.array(["01", "02"])
    )
    mz = np.linspace(1.0, 300.0, 1000)
    return pa.table(
        {
            "spot": labels,
            "channel": pa.array(np.arange(1000, dtype=np.int64)),
            "mz": mz,
            "intensity": np.round(1e4 * np.exp(-mz / 50.0)),
        }
    )


def test_a_table_is_written_with_plain_types_and_its_provenance(tmp_path):
    path = tmp_path / "t.parquet"
    write_parquet(_table(), path, metadata={"files": ["a.txt"], "sha256": ["00"]})
    back = pq.read_table(path)
    assert back.schema.field("spot").type == pa.string()  # not the in-memory dictionary
    assert back.column("spot").to_pylist()[499:501] == ["01", "02"]
    np.testing.assert_array_equal(back.column("mz").to_numpy(), _table().column("mz").to_numpy())
    assert read_parquet_metadata(path) == {"files": ["a.txt"], "sha256": ["00"]}
    frame = pd.DataFrame({"sample": ["A", "B"], "area": [1.5, 2.5]})
    write_parquet(frame, tmp_path / "f.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "f.parquet"), frame)


def test_floats_byte_stream_split_integers_delta_encoded_labels_dictionary_encoded(tmp_path):
    path = tmp_path / "t.parquet"
    write_parquet(_table(), path)
    group = pq.ParquetFile(path).metadata.row_group(0)
    encodings = {
        group.column(k).path_in_schema: set(group.column(k).encodings)
        for k in range(group.num_columns)
    }
    assert "BYTE_STREAM_SPLIT" in encodings["mz"]
    assert "BYTE_STREAM_SPLIT" in encodings["intensity"]
    assert "BYTE_STREAM_SPLIT" not in encodings["channel"]
    assert "DELTA_BINARY_PACKED" in encodings["channel"]
    assert "RLE_DICTIONARY" in encodings["spot"]
    assert "RLE_DICTIONARY" not in encodings["mz"]
    assert group.column(0).compression == "ZSTD"


def test_the_same_table_gives_the_same_bytes(tmp_path):
    for name in ("a", "b"):
        write_parquet(_table(), tmp_path / f"{name}.parquet", metadata={"k": 1})
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()


def test_a_peak_table_without_spectra_is_an_error_naming_it(tmp_path):
    path = tmp_path / "peaks.parquet"
    write_parquet(pd.DataFrame({"sample": ["A"], "spot": ["1"], "C-": [5.0]}), path)
    assert read_peak_table(path)["C-"].tolist() == [5.0]
    write_parquet(pd.DataFrame({"sample": [], "spot": [], "C-": []}), path)
    with pytest.raises(SimsflowError, match=rf"^{re.escape(str(path))}: no spectra: every"):
        read_peak_table(path)


def test_every_rule_script_reads_the_study_peak_table_through_read_peak_table():
    scripts = sorted((ROOT / "workflow" / "scripts").glob("*.py"))
    readers = [p.name for p in scripts if "snakemake.input.peaks" in p.read_text()]
    assert len(readers) >= 5  # scale, train_classifier, predict, pca_views, degradation
    for path in scripts:
        text = path.read_text()
        uses = text.count("snakemake.input.peaks")
        assert text.count("read_peak_table(snakemake.input.peaks)") == uses, path.name


def test_frames_without_rows_add_no_rows_and_no_column_types():
    empty = pd.DataFrame({"sample": pd.Series([], dtype=object), "C-": pd.Series([], dtype=object)})
    full = pd.DataFrame({"sample": ["A", "B"], "C-": [1.5, 2.5]})
    out = concat_frames([empty, full, empty])
    assert out["C-"].dtype == np.float64  # pandas alone would make it object
    assert out["sample"].tolist() == ["A", "B"] and out.index.tolist() == [0, 1]
    assert list(concat_frames([empty, empty]).columns) == ["sample", "C-"]
    assert concat_frames([]).empty
