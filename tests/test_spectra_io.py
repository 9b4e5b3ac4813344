"""Reading spectrum exports: real SurfaceLab fixtures, plain CSV/TSV, and precise errors."""

import codecs

import numpy as np
import pytest

from simsflow.errors import InputFileError
from simsflow.io.importer import import_sample
from simsflow.io.spectra import format_spectrum, parse_spectrum_text, read_spectrum

from .conftest import FIXTURES

REAL = sorted((FIXTURES / "iontof-ascii").glob("*.txt"))


def _data_lines(path):
    """The file's data rows, parsed independently of the reader."""
    lines = path.read_bytes().decode().splitlines()
    rows = [ln.split("\t") for ln in lines if ln and not ln.startswith("#")][1:]
    return [(int(c), float(m), float(i)) for c, m, i in rows]


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_real_surfacelab_exports_import_completely(path):
    spectrum = read_spectrum(path)
    rows = _data_lines(path)
    assert spectrum.mz.size == len(rows) > 7000  # every data line kept
    assert np.all(np.diff(spectrum.mz) > 0)
    assert spectrum.intensity.sum() == sum(r[2] for r in rows)
    assert spectrum.channel[-1] == rows[-1][0]
    assert spectrum.header == ["# Binning: 200 channels", "# Deadtime Correction: on"]
    assert spectrum.deadtime_corrected is True


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_real_exports_round_trip_byte_for_byte(path):
    assert format_spectrum(read_spectrum(path)).encode() == path.read_bytes()


def test_sample_import_keeps_provenance(tmp_path):
    table, meta = import_sample("s", "ru", ["N", "P"], REAL)
    assert table.num_rows == sum(len(_data_lines(p)) for p in REAL)
    assert set(table.column("spot").to_pylist()) == {"N", "P"}
    assert [s["file"] for s in meta["spots"]] == [str(p) for p in REAL]
    assert all(len(s["sha256"]) == 64 for s in meta["spots"])


@pytest.mark.parametrize(
    "text",
    [
        "m/z,Intensity\n1.5,3\n2.5,4\n",
        "1.5\t3\n2.5\t4\n",
        "1.5;3\r\n2.5;4\r\n",
        "1.5 3\n2.5 4\n",
        "\ufeffMass (u)\tCounts\n1.5\t3\n2.5\t4\n",
    ],
    ids=["csv-header", "tsv-no-header", "semicolon-crlf", "spaces", "bom"],
)
def test_plain_two_column_files(text, tmp_path):
    path = tmp_path / "plain.txt"
    path.write_bytes(text.encode("utf-8"))
    spectrum = read_spectrum(path)
    np.testing.assert_array_equal(spectrum.mz, [1.5, 2.5])
    np.testing.assert_array_equal(spectrum.intensity, [3, 4])
    assert spectrum.channel is None


@pytest.mark.parametrize(
    "text",
    [
        "m/z;Intensity\n0,000274;1,5E+03\n27,0235;2\n",
        "Channel\tm/z\tIntensity\n100\t0,000274\t1.500\n300\t27,0235\t2\n",
    ],
    ids=["semicolons", "tabs-digits-grouped"],
)
def test_exports_with_a_decimal_comma_are_read(text, tmp_path):
    """An export saved by Excel in a decimal-comma locale (it was 'not a number')."""
    path = tmp_path / "x.txt"
    path.write_text(text)
    spectrum = read_spectrum(path)
    np.testing.assert_array_equal(spectrum.mz, [0.000274, 27.0235])
    np.testing.assert_array_equal(spectrum.intensity, [1500, 2])


def test_a_clean_decimal_comma_export_is_parsed_by_pyarrow(tmp_path, monkeypatch):
    """Not line by line in Python (a 300,000-line export: 6.5 s, 0.4 s by pyarrow)."""
    import simsflow.io.spectra as spectra_io

    def careful(*args):
        raise AssertionError("parsed line by line")

    monkeypatch.setattr(spectra_io, "_careful_parse", careful)
    path = tmp_path / "x.txt"
    path.write_text("Channel\tm/z\tIntensity\r\n100\t0,000274\t1,5E+03\r\n300\t27,0235\t2\r\n")
    spectrum = read_spectrum(path)
    np.testing.assert_array_equal(spectrum.mz, [0.000274, 27.0235])
    np.testing.assert_array_equal(spectrum.intensity, [1500, 2])


def test_empty_cells_a_spreadsheet_pads_rows_with_are_dropped(tmp_path):
    """An export re-saved by a spreadsheet with a tab after the last column (refused before as
    a column named ''); a value in that column is still refused."""
    path = tmp_path / "x.txt"
    path.write_text("Channel\tm/z\tIntensity\t\n100\t1.5\t3\t\n300\t2.5\t4\t\n")
    spectrum = read_spectrum(path)
    assert (spectrum.mz.tolist(), spectrum.intensity.tolist()) == ([1.5, 2.5], [3, 4])
    path.write_text("Channel\tm/z\tIntensity\t\n100\t1.5\t3\t7\n")
    with pytest.raises(InputFileError, match=r"line 2: expected 3 values separated by tabs"):
        read_spectrum(path)


def test_latin1_header_is_read(tmp_path):
    path = tmp_path / "x.txt"
    path.write_bytes("# Operator: J\xfcrgen\r\nm/z\tIntensity\r\n1.0\t2\r\n".encode("latin-1"))
    assert read_spectrum(path).header == ["# Operator: J\xfcrgen"]


HEAD = "# Binning: 16 channels\nChannel\tm/z\tIntensity\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            HEAD + "8\t1.0\t2\n24\t1,5\t3\n",
            "line 4, column 'm/z': '1,5' has a decimal comma, but '1.0' (line 3, column 'm/z') "
            "has a decimal point: the table mixes decimal marks",
        ),
        (HEAD + "8\t1.0\t2\n24\t1.5\n", "line 4: expected 3 values separated by tabs, found 2"),
        (HEAD + "8\t1.0\t2\n24\t1.5\tnan\n", "line 4, column 'Intensity': value is nan"),
        (HEAD + "8\t1.0\t2\n24\t1.5\t-3\n", "line 4, column 'Intensity': negative intensity -3"),
        (HEAD + "8\t1.0\t2\n24\t0.5\t3\n", "line 4, column 'm/z': m/z decreases (1 then 0.5)"),
        (HEAD + "8\t1.0\t2\n24\t1.0\t3\n", "line 4, column 'm/z': m/z repeats"),
        (HEAD + "8\t1.0\t2\n8\t1.5\t3\n", "line 4, column 'Channel': Channel repeats"),
        # the values that the quick whole-array check must not let through
        (HEAD + "8\t1.0\t2\n24\tinf\t3\n", "line 4, column 'm/z': value is inf"),
        (HEAD + "8\tnan\t2\n24\t1.5\t3\n", "line 3, column 'm/z': value is nan"),
        (HEAD + "8\t1.0\t2\n24\t1.5\t-inf\n", "line 4, column 'Intensity': value is -inf"),
        (HEAD + "8\t1.0\t2\n24.5\t1.5\t3\n", "line 4, column 'Channel': channel 24.5 is not"),
        (HEAD + "nan\t1.0\t2\n24\t1.5\t3\n", "line 3, column 'Channel': value is nan"),
        ("# Binning: 16 channels\n", "no data lines"),
        ("", "empty file"),
        ("Channel\tmass\tfoo\n1\t2\t3\n", "line 1, column 'foo': unknown or repeated column"),
        (HEAD + "8\t1.0\t2\n\n24\t1.5\t3\n", "line 4: empty line inside the data"),
    ],
    ids=[
        "decimal-comma",
        "truncated-row",
        "nan",
        "negative",
        "decreasing",
        "duplicate-mz",
        "duplicate-channel",
        "inf-mz-last",
        "nan-mz-first",
        "minus-inf-intensity",
        "fractional-channel",
        "nan-channel-first",
        "header-only",
        "empty",
        "bad-column",
        "blank-line",
    ],
)
def test_bad_spectra_name_line_and_column(text, expected):
    with pytest.raises(InputFileError) as err:
        parse_spectrum_text(text, "bad.txt")
    assert str(err.value).startswith("bad.txt")
    assert expected in str(err.value)


def test_binary_garbage_is_refused(tmp_path):
    path = tmp_path / "garbage.txt"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(InputFileError, match=r"garbage\.txt: binary data"):
        read_spectrum(path)


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
        lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
        lambda text: text.replace("\r\n", "\r").encode("utf-8"),
    ],
    ids=["utf16-le-bom", "utf16-be-bom", "cr-only-line-ends"],
)
def test_exports_saved_as_utf16_or_with_cr_line_ends_are_read_whole(encode, tmp_path):
    original = read_spectrum(REAL[0])
    path = tmp_path / "x.txt"
    path.write_bytes(encode(REAL[0].read_bytes().decode("utf-8")))
    spectrum = read_spectrum(path)
    np.testing.assert_array_equal(spectrum.mz, original.mz)
    np.testing.assert_array_equal(spectrum.intensity, original.intensity)
    np.testing.assert_array_equal(spectrum.channel, original.channel)
    assert spectrum.header == original.header


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "m/z\tIntensity\r\n1.0\t2\r\n".encode("utf-16-le"),
            "x.txt: UTF-16 text without a byte-order mark: save it as UTF-8 (export",
        ),
        (
            codecs.BOM_UTF32_LE + "m/z\tIntensity\n1.0\t2\n".encode("utf-32-le"),
            "x.txt: UTF-32 text: save it as UTF-8 (export",
        ),
        (codecs.BOM_UTF16_LE + b"\x00\xd8m\x00", "x.txt: UTF-16 text with a broken character"),
    ],
    ids=["utf16-without-bom", "utf32", "broken-utf16"],
)
def test_text_that_cannot_be_read_safely_is_named(raw, expected, tmp_path):
    path = tmp_path / "x.txt"
    path.write_bytes(raw)
    with pytest.raises(InputFileError) as err:
        read_spectrum(path)
    assert str(err.value).startswith(str(tmp_path))
    assert expected in str(err.value)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(InputFileError, match=r"nope\.txt: cannot read"):
        read_spectrum(tmp_path / "nope.txt")
