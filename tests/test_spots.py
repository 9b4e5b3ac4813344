"""The fast spectrum path: bytes-level parsing, spot views, batches of samples in one process."""

import io
import logging
import multiprocessing
import re
import time
from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from simsflow.batch import SampleJob, process_sample, process_samples
from simsflow.calibrate import CalibrationSettings, calibrate_sample, reference_ions_for
from simsflow.errors import InputFileError, SimsflowError
from simsflow.integrate import IntegrationSettings, integrate_sample
from simsflow.io import spectra as spectra_io
from simsflow.io.importer import import_sample, read_sample, spectra_table
from simsflow.io.spectra import (
    _parse_fast,
    load_spectra_together,
    parse_spectrum_text,
    read_spectra_together,
    read_spectrum,
)
from simsflow.io.tables import write_parquet
from simsflow.runlog import logged
from simsflow.spots import concatenated, iter_spots, read_spectra
from simsflow.summed import sample_summed

from .badinputs import MASS_LIST
from .conftest import FIXTURES

REAL = sorted((FIXTURES / "iontof-ascii").glob("*.txt"))


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_clean_exports_take_the_bytes_path_and_agree_with_the_text_path(path):
    raw = path.read_bytes()
    fast = _parse_fast(raw, str(path))
    assert fast is not None  # a clean export never needs the slow, line-by-line pass
    text = parse_spectrum_text(raw.decode("utf-8"), str(path))
    for name in ("mz", "intensity", "channel"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(text, name))
    assert fast.header == text.header


def test_a_byte_order_mark_is_skipped_on_the_bytes_path():
    raw = b"\xef\xbb\xbf# Binning: 1\r\nm/z\tIntensity\r\n1.5\t3\r\n"
    fast = _parse_fast(raw, "x")
    assert fast.header == ["# Binning: 1"] and fast.mz.tolist() == [1.5]


@pytest.mark.parametrize(
    "raw",
    [
        b"# Sample: caf\xe9\r\nm/z\tIntensity\r\n1.5\t3\r\n",  # Latin-1 header
        b"# a\n\nm/z\tIntensity\n1.5\t3\n",  # blank line before the columns
        b"1.5\t3\n2.5\t4\n",  # no header at all
        b"m/z\tIntensity\n1,5\t3\n",  # decimal comma: the text path names line and column
    ],
)
def test_unusual_files_leave_the_bytes_path_to_the_text_path(raw):
    assert _parse_fast(raw, "x") is None


def _sample_table():
    table, _ = import_sample("st", "A", ["1", "2"], REAL)
    return table


def test_spots_are_the_same_from_memory_parquet_and_pandas(tmp_path):
    table = _sample_table()
    write_parquet(table, tmp_path / "A.parquet")
    from_file = read_spectra(tmp_path / "A.parquet")
    assert pa.types.is_dictionary(from_file.schema.field("spot").type)
    plain = pa.parquet.read_table(tmp_path / "A.parquet")
    assert plain.schema.field("spot").type == pa.string()  # files hold plain strings
    views = [list(iter_spots(t)) for t in (table, from_file, plain, plain.to_pandas())]
    for spots in views:
        assert [s.key for s in spots] == [("st", "A", "1"), ("st", "A", "2")]
        for spot, path in zip(spots, REAL, strict=True):
            assert spot.mz.size == sum(
                1 for ln in path.read_bytes().splitlines() if ln[:1].isdigit()
            )
            np.testing.assert_array_equal(spot.mz, views[0][REAL.index(path)].mz)


def test_spots_as_read_are_the_spots_of_the_written_table(tmp_path):
    """A batch job hands the spots it read straight to calibration: they must be what the
    per-sample jobs get from the written table, also for an export without channels."""
    plain = tmp_path / "plain.txt"
    plain.write_text("m/z\tIntensity\n1.5\t3\n2.5\t4\n")
    files = [REAL[0], plain, REAL[1]]
    spots, _ = read_sample("st", "A", ["1", "2", "3"], files)
    table = spectra_table(spots)
    write_parquet(table, tmp_path / "A.parquet")
    from_file = list(iter_spots(read_spectra(tmp_path / "A.parquet")))
    assert [s.key for s in from_file] == [s.key for s in spots]
    for read, written in zip(spots, from_file, strict=True):
        for name in ("mz", "intensity", "channel"):
            a, b = getattr(read, name), getattr(written, name)
            assert (a is None) == (b is None)
            if a is not None:
                assert a.dtype == b.dtype == np.float64
                np.testing.assert_array_equal(a, b)
    channel = table.column("channel")
    assert channel.null_count == 2  # the plain file's two rows
    assert (
        table.column("spot").to_pylist()
        == ["1"] * spots[0].mz.size + ["2", "2"] + ["3"] * spots[2].mz.size
    )
    assert spectra_table([]).num_rows == 0


def test_rows_of_a_spot_out_of_order_are_refused():
    frame = _sample_table().to_pandas()
    shuffled = pd.concat([frame.iloc[:10], frame.iloc[-10:], frame.iloc[10:-10]])
    with pytest.raises(SimsflowError, match="rows of sample 'A' spot '1' are not contiguous"):
        list(iter_spots(shuffled))


def _per_sample_rules(job, integration, mass_list):
    """What the per-sample rules compute (import, calibrate, integrate, summed spectrum), each
    from the table the one before wrote: the reference for a batch."""
    table, provenance = import_sample(job.study, job.sample, job.spots, job.files)
    calibration = calibrate_sample(table, job.calibration)
    peaks, notes = integrate_sample(table, calibration, mass_list, provenance, integration)
    return table, calibration, peaks, notes, sample_summed(table, calibration)


def test_reading_ahead_gives_the_same_results_as_one_sample_at_a_time():
    settings = CalibrationSettings(reference_ions_for("negative"))
    other = CalibrationSettings(("H-", "C-", "O-", "OH-"))  # fewer reference ions
    integration = IntegrationSettings()
    mass_list = pd.read_csv(io.StringIO(MASS_LIST), sep="\t")
    # B has other calibration settings: a chunk ends before it and after it
    jobs = [
        SampleJob("st", s, ["1", "2"], REAL, other if s == "B" else settings)
        for s in ("A", "B", "C", "D")
    ]
    references = [_per_sample_rules(job, integration, mass_list) for job in jobs]
    with_other = _per_sample_rules(replace(jobs[0], calibration=other), integration, mass_list)
    assert not with_other[1].equals(references[0][1])  # the settings matter here
    # one chunk per run of equal settings, chunks of two, of one; and process_sample
    runs = [list(process_samples(jobs, integration, mass_list, chunk=c)) for c in (8, 2, 1)]
    runs.append([process_sample(job, integration, mass_list) for job in jobs])
    for results in runs:
        assert [r.peaks["sample"].iloc[0] for r in results] == ["A", "B", "C", "D"]
        for result, (table, calibration, peaks, notes, summed) in zip(
            results, references, strict=True
        ):
            assert result.spectra.equals(table)
            pd.testing.assert_frame_equal(result.calibration, calibration)
            pd.testing.assert_frame_equal(result.peaks, peaks)
            pd.testing.assert_frame_equal(result.notes, notes)
            pd.testing.assert_frame_equal(result.summed, summed)
    assert list(process_samples([], integration, mass_list)) == []


def test_samples_of_a_chunk_fail_in_the_order_one_at_a_time_would(tmp_path):
    settings = CalibrationSettings(reference_ions_for("negative"))
    integration = IntegrationSettings()
    mass_list = pd.read_csv(io.StringIO(MASS_LIST), sep="\t")
    negative = FIXTURES / "iontof-ascii" / "N_Ru-Pt_Bi3_1.txt"
    missing = str(tmp_path / "missing.txt")
    good = SampleJob("st", "A", ["1"], [negative], settings)
    # B cannot be read: A's results come first, then B's error
    results = process_samples(
        [good, SampleJob("st", "B", ["1"], [missing], settings)], integration, mass_list
    )
    assert next(results).peaks["sample"].iloc[0] == "A"
    with pytest.raises(InputFileError, match=r"missing\.txt"):
        next(results)
    # C's calibration fails (it needs more reference ions than the export holds) before D's
    # file is found missing: one sample at a time, C's error comes first
    demanding = CalibrationSettings(reference_ions_for("negative"), min_ions=20, on_failure="stop")
    jobs = [
        SampleJob("st", "C", ["1"], [negative], demanding),
        SampleJob("st", "D", ["1"], [missing], demanding),
    ]
    with pytest.raises(SimsflowError, match="calibration of sample 'C' spot '1' failed"):
        process_sample(jobs[0], integration, mass_list)
    with pytest.raises(SimsflowError, match="calibration of sample 'C' spot '1' failed"):
        list(process_samples(jobs, integration, mass_list))


def _burn(seconds: float) -> None:
    """Use ``seconds`` of CPU time."""
    start = time.process_time()
    while time.process_time() - start < seconds:
        pass


def test_a_job_log_ends_with_its_timing(tmp_path):
    with logged(tmp_path / "job.log") as log:
        log.info("working")
        # work done in worker processes counts as CPU time of the job
        with multiprocessing.get_context("fork").Pool(2) as pool:
            pool.map(_burn, [0.3, 0.3])
    lines = (tmp_path / "job.log").read_text().splitlines()
    assert lines[0] == "INFO simsflow: working"
    match = re.fullmatch(
        r"INFO simsflow.runlog: timing: imports [\d.]+ s, work [\d.]+ s \(CPU ([\d.]+) s\), "
        r"peak memory \d+ MB",
        lines[-1],
    )
    assert match and float(match.group(1)) >= 0.6
    logging.getLogger().handlers.clear()


def _variants(tmp_path):
    """Exports of one sample as a lab may have them: clean ones, one without the final line
    end, one with another layout, damaged ones and one that is missing."""
    raw = REAL[0].read_bytes()
    files = {
        "clean_1": raw,
        "clean_2": REAL[1].read_bytes(),
        "no_final_newline": raw.rstrip(b"\r\n"),
        "plain": b"m/z\tIntensity\n1.5\t3\n2.5\t4\n",
        "negative": raw.replace(b"\t0\r\n", b"\t-7\r\n", 1),
        "decreasing": raw.replace(b"\r\n", b"\r\n1\t0.0001\t5\r\n", 5)[:-1],
        "trailing_blank": raw + b"\r\n",
    }
    paths = []
    for name, data in files.items():
        path = tmp_path / f"{name}.txt"
        path.write_bytes(data)
        paths.append(path)
    return [*paths, tmp_path / "missing.txt"]


def _outcome(result):
    if isinstance(result, Exception):
        return str(result)
    return (
        result.mz.tolist(),
        result.intensity.tolist(),
        None if result.channel is None else result.channel.tolist(),
        result.header,
        result.sha256,
        result.source,
    )


def _one_by_one(path):
    try:
        return read_spectrum(path)
    except InputFileError as err:
        return err


def test_a_sample_parsed_in_one_call_gives_what_each_file_gives_alone(tmp_path):
    paths = _variants(tmp_path)
    together = read_spectra_together(paths)
    alone = [_one_by_one(p) for p in paths]
    assert [_outcome(r) for r in together] == [_outcome(r) for r in alone]
    kinds = [type(r).__name__ for r in together]
    assert kinds == ["Spectrum"] * 4 + ["InputFileError"] * 2 + ["Spectrum", "InputFileError"]
    # a blank line breaks the joined table: then every file was read alone (as checked above);
    # without it the clean files are parsed together, their arrays pieces of one array, and
    # the damaged one still gets its own error
    chosen = [paths[0], paths[1], paths[2], paths[4]]
    together = read_spectra_together(chosen)
    assert [_outcome(r) for r in together] == [_outcome(_one_by_one(p)) for p in chosen]
    owner = together[0].mz.base
    assert owner is not None and together[1].mz.base is owner and together[2].mz.base is owner
    assert isinstance(together[3], InputFileError)


def test_a_joined_parse_in_many_blocks_gives_what_each_file_gives_alone(tmp_path, monkeypatch):
    # pyarrow parses a table in blocks on several threads when it is larger than one block:
    # small blocks (many per file, cut anywhere) must not change a value or a line number
    monkeypatch.setattr(spectra_io, "PARSE_BLOCK_BYTES", 4096)
    paths = _variants(tmp_path)
    chosen = [paths[0], paths[1], paths[2], paths[4]]
    for files in (paths, chosen, REAL):
        together = read_spectra_together(files)
        assert [_outcome(r) for r in together] == [_outcome(_one_by_one(p)) for p in files]
    assert read_spectra_together(REAL)[0].mz.size * 30 > 4096  # many blocks per file


def test_files_read_ahead_give_what_reading_them_then_gives(tmp_path):
    # a batch reads the next sample in another thread (load_spectra_together) and finishes it
    # here (spectra(): checks, hashes); read_sample takes those spectra as they are
    paths = _variants(tmp_path)
    loaded = load_spectra_together(paths)
    assert [_outcome(r) for r in loaded.spectra()] == [_outcome(_one_by_one(p)) for p in paths]
    spots = [str(k) for k in range(len(REAL))]
    direct = read_sample("st", "A", spots, REAL)
    ahead = read_sample("st", "A", spots, REAL, spectra=load_spectra_together(REAL).spectra())
    assert direct[1] == ahead[1]
    for one, other in zip(direct[0], ahead[0], strict=True):
        np.testing.assert_array_equal(one.mz, other.mz)
        np.testing.assert_array_equal(one.intensity, other.intensity)


def test_pieces_of_one_array_are_joined_without_a_copy():
    whole = np.arange(10.0)
    pieces = [whole[:3], whole[3:7], whole[7:]]
    joined = concatenated(pieces)
    np.testing.assert_array_equal(joined, whole)
    assert np.shares_memory(joined, whole) and not joined.flags.writeable
    for other in (
        [whole[3:7], whole[:3], whole[7:]],  # out of order
        [whole[:3], whole[4:]],  # a gap
        [whole[:3], np.arange(3.0, 10.0)],  # another owner
        [whole[::2], whole[1::2]],  # not contiguous
    ):
        copied = concatenated(other)
        np.testing.assert_array_equal(copied, np.concatenate(other))
        assert not np.shares_memory(copied, whole)
