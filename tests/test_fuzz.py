"""Fuzzing the readers and validators: any input parses to a valid table or raises the
project's own error - never another exception, a hang, or a silently wrong table."""

import contextlib

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simsflow.config import read_sample_sheet
from simsflow.errors import SimsflowError
from simsflow.io.images import read_image_file
from simsflow.io.masslist import read_mass_list
from simsflow.io.spectra import format_spectrum, parse_spectrum_text, read_spectrum

from .conftest import SCHEMAS

FUZZ = settings(
    max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
NUMBERISH = st.sampled_from(
    [
        "1",
        "2.5",
        "-3",
        "nan",
        "inf",
        "1e400",
        "0,5",
        "",
        " ",
        "x",
        "1.0.0",
        "\t",
        ";",
        ",",
        "#",
        "\r",
        "Channel",
        "m/z",
        "Intensity",
        "7",
    ]
)


def _valid_spectrum(s):
    assert s.mz.size == s.intensity.size > 0
    assert np.all(np.isfinite(s.mz)) and np.all(np.isfinite(s.intensity))
    assert np.all(np.diff(s.mz) > 0)
    assert np.all(s.intensity >= 0)
    if s.channel is not None:
        assert np.all(np.diff(s.channel) > 0)


@FUZZ
@given(st.text(max_size=400))
def test_spectrum_reader_on_any_text(text):
    try:
        spectrum = parse_spectrum_text(text, "fuzz.txt")
    except SimsflowError:
        return
    _valid_spectrum(spectrum)


@FUZZ
@given(
    st.lists(st.lists(NUMBERISH, min_size=1, max_size=4), max_size=30),
    st.sampled_from(["\t", ",", ";", " "]),
    st.sampled_from(["\n", "\r\n"]),
)
def test_spectrum_reader_on_near_valid_tables(rows, delimiter, newline):
    text = newline.join(delimiter.join(r) for r in rows)
    try:
        spectrum = parse_spectrum_text(text, "fuzz.txt")
    except SimsflowError:
        return
    _valid_spectrum(spectrum)


@FUZZ
@given(
    st.lists(st.floats(0.001, 2000, allow_nan=False), min_size=1, max_size=200, unique=True),
    st.data(),
)
def test_valid_spectra_round_trip(mz, data):
    from simsflow.io.spectra import Spectrum

    mz = np.round(np.sort(np.asarray(mz)), 6)
    mz = np.unique(mz)
    counts = np.asarray(
        data.draw(st.lists(st.integers(0, 10**7), min_size=mz.size, max_size=mz.size)), dtype=float
    )
    channel = np.arange(mz.size, dtype=np.int64) * 200 + 100
    text = format_spectrum(Spectrum(mz, counts, channel, ["# Binning: 200 channels"]))
    back = parse_spectrum_text(text)
    np.testing.assert_array_equal(back.mz, mz)
    np.testing.assert_array_equal(back.intensity, counts)
    np.testing.assert_array_equal(back.channel, channel)


@FUZZ
@given(st.binary(max_size=300))
def test_spectrum_and_image_readers_on_any_bytes(tmp_path, blob):
    path = tmp_path / "blob.txt"
    path.write_bytes(blob)
    with contextlib.suppress(SimsflowError):
        _valid_spectrum(read_spectrum(path))
    try:
        x, y, counts, _ = read_image_file(path)
        assert x.size == y.size == counts.size > 0
        assert np.all(np.isfinite(counts)) and np.all(counts >= 0)
    except SimsflowError:
        pass


MASS_CELLS = st.sampled_from(
    [
        "",
        "O-",
        "CO3-",
        "Li",
        "12.0",
        "12.05",
        "11.95",
        "nan",
        "abc",
        "-1",
        "1e9",
        "C_2H-",
        "total",
        "Xx-",
        "60.0",
    ]
)


@FUZZ
@given(st.lists(st.lists(MASS_CELLS, min_size=6, max_size=6), max_size=8))
def test_mass_list_reader(tmp_path, rows):
    from simsflow.config import load_schema

    path = tmp_path / "mass_list.tsv"
    path.write_text(
        "ion\tformula\tmz\tlower\tupper\tgroup\n" + "".join("\t".join(r) + "\n" for r in rows)
    )
    try:
        table = read_mass_list(path, load_schema(SCHEMAS / "mass_list.schema.yaml"))
    except SimsflowError:
        return
    assert (table["lower"] < table["upper"]).all()
    assert (table["lower"] <= table["mz"]).all() and (table["mz"] <= table["upper"]).all()
    assert (table["upper"].to_numpy()[:-1] <= table["lower"].to_numpy()[1:]).all()
    assert table["ion"].is_unique


SHEET_CELLS = st.sampled_from(
    [
        "",
        "A",
        "B",
        "1",
        "2",
        "a.txt",
        "../a.txt",
        "/etc/passwd",
        "train",
        "predict",
        "x",
        "negative",
        "up",
        "A b",
        "image",
    ]
)


@FUZZ
@given(st.lists(st.lists(SHEET_CELLS, min_size=6, max_size=6), max_size=6))
def test_sheet_validator(tmp_path, rows):
    from simsflow.config import load_schema

    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "a.txt").write_text("1\t2\n")
    path = tmp_path / "samples.tsv"
    path.write_text(
        "sample\tspot\tfile\trole\tlabel\tpolarity\n" + "".join("\t".join(r) + "\n" for r in rows)
    )
    try:
        sheet = read_sample_sheet(
            path, load_schema(SCHEMAS / "samples.schema.yaml"), data_dir=tmp_path / "data"
        )
    except SimsflowError:
        return
    assert not sheet.duplicated(["sample", "spot"]).any()
    assert sheet["path"].map(lambda p: p.startswith(str(tmp_path / "data"))).all()
    assert (sheet.loc[sheet["role"] == "predict", "label"] == "").all()


TSV_CELLS = st.text(alphabet='ab ,;"#\r\n\t\x00é', max_size=6)


@FUZZ
@given(st.lists(st.lists(TSV_CELLS, min_size=3, max_size=3), max_size=8))
def test_tsv_rows_one_per_non_empty_line(tmp_path, cells):
    """Whatever the quotes, commas and line ends in the cells, a TSV either reads with one row
    per non-empty, non-comment line after the header (none merged, none lost), or is refused
    as a SimsflowError."""
    import re

    from simsflow.config import read_tsv_rows

    text = "a\tb\tc\n" + "".join("\t".join(row) + "\n" for row in cells)
    path = tmp_path / "t.tsv"
    path.write_bytes(text.encode("utf-8"))
    try:
        _, rows = read_tsv_rows(path)
    except SimsflowError:
        return
    lines = re.split(r"\r\n|\r|\n", text)
    data = [k + 1 for k, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")]
    assert [line for line, _ in rows] == data[1:]
