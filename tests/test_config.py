"""Config, sample-sheet and mass-list validation: every error names file, line and column."""

import codecs
import os
import re

import pytest
import yaml

from simsflow.config import (
    _plainly_valid,
    _validate_each,
    check_yaml_size,
    read_sample_sheet,
    validate_config,
    validate_rows,
)
from simsflow.errors import ConfigError
from simsflow.io.masslist import read_mass_list

from .conftest import ROOT


def _config(tmp_path, text):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return yaml.safe_load(text), path


GOOD = """\
studies:
  demo:
    sample_sheet: s.tsv
    mass_list: m.tsv
    data_dir: data
"""


def test_shipped_config_is_valid_and_defaults_are_filled(config_schema):
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    filled = validate_config(config, config_schema)
    assert filled["studies"]["lithium"]["simulate"]["seed"] == 1
    assert filled["studies"]["cathode"]["mass_window"] == {"ppm": 300}
    assert "mass_window" not in config["studies"]["cathode"]  # the input is not modified


def test_defaults_come_from_the_schema(tmp_path, config_schema):
    config, _ = _config(tmp_path, GOOD)
    assert validate_config(config, config_schema)["studies"]["demo"]["polarity"] == "negative"


@pytest.mark.parametrize(
    ("extra", "line", "column", "message"),
    [
        ("    polarity: neg\n", 6, "studies.demo.polarity", "'neg' is not one of"),
        ("    colour: red\n", 6, "studies.demo.colour", "unknown key 'colour' (known here: "),
        (
            "    scaling: {methds: {}}\n",
            6,
            "studies.demo.scaling.methds",
            "unknown key 'methds' (did you mean 'methods'?)",
        ),
        (
            "    simulate: {design: lithium, seed: one}\n",
            6,
            "studies.demo.simulate.seed",
            "'one' is not of type 'integer'",
        ),
        ("    mass_window: {ppm: -5}\n", 6, "studies.demo.mass_window.ppm", "less than or equal"),
    ],
    ids=["enum", "unknown-key", "misspelled-key", "type", "range"],
)
def test_config_errors_name_file_line_and_key(
    tmp_path, config_schema, extra, line, column, message
):
    config, path = _config(tmp_path, GOOD + extra)
    with pytest.raises(ConfigError) as err:
        validate_config(config, config_schema, [path])
    text = str(err.value)
    assert text.startswith(f"{path}, line {line}, column '{column}': ")
    assert message in text


def test_missing_required_key_is_named(tmp_path, config_schema):
    config, path = _config(tmp_path, GOOD.replace("    data_dir: data\n", ""))
    with pytest.raises(
        ConfigError, match=r"line 2, column 'studies.demo.data_dir': 'data_dir' is a required"
    ):
        validate_config(config, config_schema, [path])


def test_misspelled_required_key_is_named_as_misspelled_not_as_missing(tmp_path, config_schema):
    config, path = _config(tmp_path, GOOD.replace("sample_sheet:", "sample_shet:"))
    with pytest.raises(ConfigError) as err:
        validate_config(config, config_schema, [path])
    assert str(err.value).startswith(
        f"{path}, line 3, column 'studies.demo.sample_shet': unknown key 'sample_shet' "
        "(did you mean 'sample_sheet'?)"
    )


def _nested_aliases(levels: int, width: int = 9) -> str:
    """A list under a known key whose anchors and aliases expand to width**levels strings
    ("billion laughs")."""
    value = "&l0 [" + ", ".join(["lol"] * width) + "]"
    for k in range(1, levels):
        value = f"&l{k} [{value}, " + ", ".join([f"*l{k - 1}"] * (width - 1)) + "]"
    return value


def _nested_merge_keys(levels: int) -> str:
    """Mappings merged into mappings (``<<``): constructing them expands every level."""
    lines = ["    simulate:", "      m0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8}"]
    for k in range(1, levels):
        merged = ", ".join([f"*m{k - 1}"] * 8)
        lines.append(f"      m{k}: &m{k} {{<<: [{merged}]}}")
    return "\n".join(lines) + "\n"


def test_config_whose_aliases_expand_hugely_is_refused_naming_the_key(tmp_path, config_schema):
    text = GOOD + f"    scaling:\n      important_ions: {_nested_aliases(9)}\n"
    config, path = _config(tmp_path, text)  # 9**9 strings once expanded; shared when loaded
    expected = (
        f"{path}, line 7, column 'studies.demo.scaling.important_ions': the value expands to "
        "more than 100,000 values"
    )
    with pytest.raises(ConfigError) as err:
        check_yaml_size(path)
    assert str(err.value).startswith(expected)
    with pytest.raises(ConfigError) as err:
        validate_config(config, config_schema, [path])
    assert str(err.value).startswith(expected)
    assert len(str(err.value)) < 400


def test_config_whose_merge_keys_expand_hugely_is_refused_before_it_is_loaded(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(GOOD + _nested_merge_keys(12))  # yaml.safe_load would not return
    with pytest.raises(ConfigError) as err:
        check_yaml_size(path)
    # m5 is the first of them to pass 100,000 values (8**5 times 16 keys and values)
    assert str(err.value).startswith(f"{path}, line 12, column 'studies.demo.simulate.m5': ")


def test_aliases_that_stay_small_are_fine(tmp_path, config_schema):
    text = GOOD + (
        "    scaling:\n      methods:\n        a: &chain [{method: total_ion}]\n        b: *chain\n"
    )
    config, path = _config(tmp_path, text)
    check_yaml_size(path)
    methods = validate_config(config, config_schema, [path])["studies"]["demo"]["scaling"]
    assert methods["methods"]["b"] == [{"method": "total_ion"}]


def test_a_huge_value_is_never_rendered_whole(tmp_path, config_schema):
    huge = "x" * 200_000
    config, path = _config(tmp_path, GOOD + f"    polarity: {huge}\n")
    with pytest.raises(ConfigError) as err:
        validate_config(config, config_schema, [path])
    text = str(err.value)
    assert text.startswith(f"{path}, line 6, column 'studies.demo.polarity': 'xxx")
    assert "characters]... xxx" in text
    assert text.endswith(
        "' is not one of ['negative', 'positive'] (see workflow/schemas/config.schema.yaml "
        "for the allowed keys and values)"
    )
    assert len(text) < 600


def test_overlay_config_is_blamed_for_its_own_value(tmp_path, config_schema):
    base, base_path = _config(tmp_path, GOOD)
    overlay_path = tmp_path / "overlay.yaml"
    overlay_path.write_text("studies:\n  demo:\n    polarity: sideways\n")
    base["studies"]["demo"]["polarity"] = "sideways"
    with pytest.raises(ConfigError, match=r"overlay.yaml, line 3, column 'studies.demo.polarity'"):
        validate_config(base, config_schema, [overlay_path, base_path])


# --- sample sheets -------------------------------------------------------------------------

HEADER = "sample\tspot\tfile\trole\tlabel\n"


@pytest.fixture
def data_dir(tmp_path):
    d = tmp_path / "data"
    (d / "raw").mkdir(parents=True)
    for name in ("a1", "a2", "b1", "b2", "b3"):
        (d / "raw" / f"{name}.txt").write_text("1\t2\n")
    return d


def _sheet(tmp_path, rows):
    path = tmp_path / "samples.tsv"
    path.write_text(HEADER + "".join(rows))
    return path


def test_good_sheet_resolves_paths(tmp_path, data_dir, sheet_schema):
    path = _sheet(tmp_path, ["A\t1\traw/a1.txt\ttrain\tLiOH\n", "B\t1\traw/b1.txt\tpredict\t\n"])
    sheet = read_sample_sheet(path, sheet_schema, data_dir=data_dir)
    assert list(sheet["sample"]) == ["A", "B"]
    assert list(sheet["spot"]) == ["1", "1"]  # ids stay text
    assert list(sheet["polarity"]) == ["negative", "negative"]
    assert os.path.isfile(sheet["path"][0])


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            ["A\t1\traw/a1.txt\ttrain\tx\n", "A\t1\traw/a2.txt\ttrain\tx\n"],
            "line 3, column 'spot': duplicate sample 'A' spot '1' (first on line 2)",
        ),
        (["A\t1\traw/zz.txt\ttrain\tx\n"], "line 2, column 'file': file "),
        (
            ["A\t1\traw\\a1.txt\ttrain\tx\n"],
            "a1.txt' does not exist (write folders with '/', not '\\'; paths are relative",
        ),
        (
            ["A\t1\t../outside.txt\ttrain\tx\n"],
            "line 2, column 'file': path '../outside.txt' leaves",
        ),
        (["A\t1\t/etc/passwd\ttrain\tx\n"], "line 2, column 'file': path '/etc/passwd' leaves"),
        (
            ["A\t1\traw/a1.txt\tpredict\tLiOH\n"],
            "line 2, column 'label': a predict row must not carry a label (found 'LiOH')",
        ),
        (["A\t1\traw/a1.txt\ttrain\t\n"], "line 2, column 'label': a train row needs a label"),
        (["A\t1\traw/a1.txt\ttrainee\tx\n"], "line 2, column 'role': 'trainee' is not one of"),
        (["A\\b\t1\traw/a1.txt\ttrain\tx\n"], "line 2, column 'sample': sample 'A\\\\b' holds"),
        (["A\t1\traw/a1.txt\ttrain\n"], "line 2: 4 cells, but the header has 5 columns"),
        (
            ["A\t1\traw/a1.txt\ttrain\tx\n", HEADER, "B\t1\traw/b1.txt\ttrain\tx\n"],
            "line 3: the header of line 1 again: two tables joined into one?",
        ),
        ([], "no rows"),
    ],
    ids=[
        "duplicate",
        "missing-file",
        "windows-path",
        "dotdot",
        "absolute",
        "label-on-predict",
        "train-no-label",
        "bad-role",
        "bad-sample-name",
        "short-row",
        "header-again",
        "empty",
    ],
)
def test_sheet_errors_name_line_and_column(tmp_path, data_dir, sheet_schema, rows, expected):
    path = _sheet(tmp_path, rows)
    with pytest.raises(ConfigError) as err:
        read_sample_sheet(path, sheet_schema, data_dir=data_dir)
    assert str(err.value).startswith(str(path))
    assert expected in str(err.value)


def _non_empty_lines_after_the_header(text: str) -> int:
    return sum(1 for line in re.split(r"\r\n|\r|\n", text)[1:] if line.strip())


def test_a_stray_quote_never_merges_rows(tmp_path, data_dir, sheet_schema):
    """The issue's sheet: a remark opening a quote that a later row closes (csv's quoting
    folded the rows between into one cell)."""
    text = (
        "sample\tspot\tfile\trole\tlabel\tremark\n"
        'A\t1\traw/a1.txt\ttrain\tx\t"powder, batch A\n'
        "A\t2\traw/a2.txt\ttrain\tx\tpowder\n"
        'B\t1\traw/b1.txt\ttrain\ty\tgrey" stripes\n'
        'B\t2\traw/b2.txt\ttrain\ty\t"sealed, argon"\n'
        'B\t3\traw/b3.txt\ttrain\ty\t"6"" wafer"\n'
    )
    path = tmp_path / "samples.tsv"
    path.write_text(text)
    sheet = read_sample_sheet(path, sheet_schema, data_dir=data_dir)
    assert len(sheet) == _non_empty_lines_after_the_header(text) == 5
    assert sheet["remark"].tolist() == [
        '"powder, batch A',  # a quote that opens a cell is an ordinary character
        "powder",
        'grey" stripes',
        "sealed, argon",  # a spreadsheet's quotes around a whole cell are taken off
        '6" wafer',
    ]
    assert sheet["sheet_line"].tolist() == [2, 3, 4, 5, 6]


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
        lambda text: text.replace("\n", "\r").encode("utf-8"),
        lambda text: text.replace("\n", "\r\n").encode("utf-8"),
        lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
    ],
    ids=["utf16-bom", "cr-only", "crlf", "utf8-bom"],
)
def test_sheets_saved_as_utf16_or_with_cr_line_ends_are_read_whole(
    tmp_path, data_dir, sheet_schema, encode
):
    text = HEADER + "".join(f"A\t{k}\traw/a{k}.txt\ttrain\tLi\u2082O\n" for k in (1, 2))
    path = tmp_path / "samples.tsv"
    path.write_bytes(encode(text + "\nB\t1\traw/b1.txt\tpredict\t\n"))
    sheet = read_sample_sheet(path, sheet_schema, data_dir=data_dir)
    assert sheet["label"].tolist() == ["Li\u2082O", "Li\u2082O", ""]
    assert sheet["sheet_line"].tolist() == [2, 3, 5]


def test_empty_cells_a_spreadsheet_pads_rows_with_are_dropped(tmp_path, data_dir, sheet_schema):
    """Excel writes a tab for every column that once held something (refused before as an
    empty column name); a value under no header is still refused."""
    path = tmp_path / "samples.tsv"
    path.write_text(HEADER.replace("\n", "\t\t\n") + "A\t1\traw/a1.txt\ttrain\tx\t\t\n")
    sheet = read_sample_sheet(path, sheet_schema, data_dir=data_dir)
    assert sheet[["sample", "label"]].to_numpy().tolist() == [["A", "x"]]
    path.write_text(HEADER + "A\t1\traw/a1.txt\ttrain\tx\t\tz\n")
    with pytest.raises(ConfigError, match=r"line 2: 7 cells, but the header has 5 columns"):
        read_sample_sheet(path, sheet_schema, data_dir=data_dir)


def test_a_sheet_column_named_in_other_case_is_named(tmp_path, data_dir, sheet_schema):
    """'File' was read as another column, and the sheet called 'file' missing on line 2."""
    path = tmp_path / "samples.tsv"
    path.write_text("sample\tspot\tFile\nA\t1\traw/a1.txt\n")
    with pytest.raises(ConfigError) as err:
        read_sample_sheet(path, sheet_schema, data_dir=data_dir)
    assert str(err.value) == (
        f"{path}, line 1, column 'File': column 'File' is column 'file' written in other case "
        "(column names are case-sensitive: rename it 'file')"
    )


def test_ids_that_look_alike_but_are_encoded_otherwise_are_named(tmp_path, data_dir, sheet_schema):
    """'\u00fc' typed, 'u' + U+0308 from a macOS file name: silently two samples before."""
    path = tmp_path / "samples.tsv"
    path.write_text(HEADER + "M\u00fcller\t1\traw/a1.txt\t\t\nMu\u0308ller\t2\traw/a2.txt\t\t\n")
    with pytest.raises(ConfigError) as err:
        read_sample_sheet(path, sheet_schema, data_dir=data_dir)
    assert str(err.value).startswith(
        f"{path}, line 3, column 'sample': sample 'Mu\u0308ller' looks like sample "
        "'M\u00fcller' on line 2 but is encoded otherwise ('Mu\\u0308ller' against 'M\\xfcller')"
    )


def test_a_sheet_in_windows_ansi_reads_its_dashes_and_micro_signs(tmp_path, data_dir, sheet_schema):
    """Excel's "Text (tab delimited)" on Windows writes code page 1252: '\u2013' is 0x96 (a
    control character in latin-1, which made the id refused), '\u00b5' is 0xB5."""
    path = tmp_path / "samples.tsv"
    path.write_bytes((HEADER + "Cu\u20131\t10\u00b5m\traw/a1.txt\ttrain\tx\n").encode("cp1252"))
    sheet = read_sample_sheet(path, sheet_schema, data_dir=data_dir)
    assert sheet[["sample", "spot"]].to_numpy().tolist() == [["Cu\u20131", "10\u00b5m"]]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            (HEADER + "A\t1\traw/a1.txt\ttrain\tx\n").encode("utf-16-le"),
            ": UTF-16 text without a byte-order mark: save it as UTF-8 (save the table as "
            "tab-separated text (UTF-8))",
        ),
        (
            b"sample,spot,file\nA,1,raw/a1.txt\n",
            ", line 1: expected tab-separated columns; found commas (save the table as "
            "tab-separated text (TSV), not CSV)",
        ),
        (
            b"# made by hand\nsample;spot;file\nA;1;raw/a1.txt\n",
            ", line 2: expected tab-separated columns; found semicolons",
        ),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ": binary data, not a tab-separated text file"),
        (
            (HEADER + "10\u00b5m\t1\traw/a1.txt\ttrain\tx\n").encode("utf-8")
            + "10\u00b5m\t2\traw/a2.txt\ttrain\tx\n".encode("cp1252"),
            ", line 3: byte 0xB5 is not UTF-8, but line 2 holds UTF-8 text ('\u00b5'): the file "
            "mixes two encodings (save the table as tab-separated text (UTF-8))",
        ),
    ],
    ids=["utf16-without-bom", "commas", "semicolons", "binary", "utf8-and-windows-ansi"],
)
def test_sheets_that_are_not_tab_separated_text_say_what_they_are(
    tmp_path, data_dir, sheet_schema, raw, expected
):
    path = tmp_path / "samples.tsv"
    path.write_bytes(raw)
    with pytest.raises(ConfigError) as err:
        read_sample_sheet(path, sheet_schema, data_dir=data_dir)
    assert str(err.value).startswith(str(path) + expected)


def test_the_same_file_twice_names_both_rows(tmp_path, data_dir, sheet_schema):
    (data_dir / "raw" / "alias.txt").symlink_to(data_dir / "raw" / "a1.txt")
    os.link(data_dir / "raw" / "a2.txt", data_dir / "raw" / "hard.txt")
    cases = {
        "raw/a1.txt": "'raw/a1.txt' is the same file as 'raw/a1.txt' on line 2",
        "raw//./a1.txt": "'raw//./a1.txt' is the same file as 'raw/a1.txt' on line 2",
        "raw/alias.txt": "'raw/alias.txt' is the same file as 'raw/a1.txt' on line 2",
        "raw/hard.txt": "'raw/hard.txt' is the same file as 'raw/a2.txt' on line 3",
    }
    for again, expected in cases.items():
        rows = ["A\t1\traw/a1.txt\ttrain\tx\n", "A\t2\traw/a2.txt\ttrain\tx\n"]
        path = _sheet(tmp_path, [*rows, f"B\t1\t{again}\ttrain\tx\n"])
        with pytest.raises(ConfigError) as err:
            read_sample_sheet(path, sheet_schema, data_dir=data_dir)
        assert str(err.value) == (
            f"{path}, line 4, column 'file': {expected} (list each export once; a spectrum "
            "listed twice would be counted twice)"
        )


def test_an_empty_folder_is_not_an_image_region(tmp_path, data_dir, sheet_schema):
    (data_dir / "region1").mkdir()
    (data_dir / "region1" / "notes.md").write_text("no exports yet\n")
    path = _sheet(tmp_path, ["A\t1\traw/a1.txt\ttrain\tx\n", "I\t1\tregion1\t\t\n"])
    with pytest.raises(ConfigError) as err:
        read_sample_sheet(path, sheet_schema, data_dir=data_dir)
    assert str(err.value).startswith(
        f"{path}, line 3, column 'file': folder 'region1' holds no image exports (*.txt)"
    )
    (data_dir / "region1" / "r (1) - total.txt").write_text("1\n")
    assert read_sample_sheet(path, sheet_schema, data_dir=data_dir)["kind"].tolist() == [
        "spectrum",
        "image",
    ]


def test_symlink_out_of_the_data_directory_is_refused(tmp_path, data_dir, sheet_schema):
    outside = tmp_path / "secret.txt"
    outside.write_text("1\t2\n")
    (data_dir / "raw" / "link.txt").symlink_to(outside)
    path = _sheet(tmp_path, ["A\t1\traw/link.txt\ttrain\tx\n"])
    with pytest.raises(ConfigError, match=r"line 2, column 'file': .*outside the data directory"):
        read_sample_sheet(path, sheet_schema, data_dir=data_dir)


def test_files_are_resolved_through_linked_folders(tmp_path, data_dir, sheet_schema):
    """Each folder of a sheet is resolved once for all its files: a linked folder inside the
    data directory is followed, one leading out of it is refused, and a file that is itself a
    link is resolved on its own."""
    (data_dir / "same").symlink_to(data_dir / "raw", target_is_directory=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "e.txt").write_text("1\t2\n")
    (data_dir / "out").symlink_to(elsewhere, target_is_directory=True)
    (elsewhere / "back.txt").symlink_to(data_dir / "raw" / "b1.txt")
    (data_dir / "raw" / "away.txt").symlink_to(elsewhere / "e.txt")
    rows = ["A\t1\traw/a1.txt\ttrain\tx\n", "A\t2\tsame/a2.txt\ttrain\tx\n"]
    back = [*rows, "A\t3\tout/back.txt\ttrain\tx\n"]  # out of it and back in: inside
    sheet = read_sample_sheet(_sheet(tmp_path, back), sheet_schema, data_dir=data_dir)
    assert list(sheet["path"]) == [
        str(data_dir / p) for p in ("raw/a1.txt", "same/a2.txt", "out/back.txt")
    ]
    for name in ("out/e.txt", "raw/away.txt"):
        path = _sheet(tmp_path, [*rows, f"B\t1\t{name}\ttrain\tx\n"])
        with pytest.raises(ConfigError) as err:
            read_sample_sheet(path, sheet_schema, data_dir=data_dir)
        assert str(err.value).startswith(
            f"{path}, line 4, column 'file': path '{name}' points outside the data directory"
        )
    # a missing file in a linked folder: named as written, after the data directory
    path = _sheet(tmp_path, [*rows, "B\t1\tsame/none.txt\ttrain\tx\n"])
    with pytest.raises(ConfigError, match=r"line 4, column 'file': file '.*/same/none.txt' does"):
        read_sample_sheet(path, sheet_schema, data_dir=data_dir)
    # a symlink loop: named with its line, not a traceback
    (data_dir / "raw" / "loop.txt").symlink_to(data_dir / "raw" / "loop.txt")
    path = _sheet(tmp_path, [*rows, "B\t1\traw/loop.txt\ttrain\tx\n"])
    with pytest.raises(ConfigError) as err:
        read_sample_sheet(path, sheet_schema, data_dir=data_dir)
    assert str(err.value) == (
        f"{path}, line 4, column 'file': path 'raw/loop.txt' cannot be looked up: too many "
        "levels of symbolic links (point the link at the export itself, or copy the file "
        f"into {data_dir})"
    )


@pytest.mark.parametrize(
    "column",
    [
        {"type": "string"},
        {"type": "string", "minLength": 1},
        {"enum": ["a", "b", ""], "default": ""},
        {"type": "string", "minLength": 2, "enum": ["ab", "c"]},
        {"type": "integer"},
        {"type": ["string", "null"]},
        {"type": "string", "pattern": "^a"},
        {"type": "string", "maxLength": 1},
        {"enum": [1, "1"]},
        {},
    ],
)
def test_cells_passed_without_jsonschema_are_valid_by_it(column):
    """``_plainly_valid`` says True only where jsonschema does too (else jsonschema is asked)."""
    import jsonschema

    schema = {"type": "object", "properties": {"c": column}}
    for cell in ["", "a", "ab", "abc", "c", "1", "b ", "µ", 1, True, None, ["a"]]:
        if _plainly_valid(column, cell):
            assert jsonschema.Draft202012Validator(schema).is_valid({"c": cell}), (column, cell)


def test_missing_required_column(tmp_path, data_dir, sheet_schema):
    path = tmp_path / "s.tsv"
    path.write_text("sample\tfile\nA\traw/a1.txt\n")
    with pytest.raises(ConfigError, match=r"line 2, column 'spot': 'spot' is a required property"):
        read_sample_sheet(path, sheet_schema, data_dir=data_dir)


def _rows(*dicts):
    return [(line, row) for line, row in enumerate(dicts, start=2)]


def _error(function, rows, schema):
    with pytest.raises(ConfigError) as err:
        function(rows, schema, "s.tsv")
    return str(err.value)


def test_rows_checked_column_by_column_equal_the_row_by_row_check(sheet_schema):
    rows = _rows(
        *({"sample": f"S{k % 7}", "spot": str(k), "file": f"raw/{k}.txt"} for k in range(50)),
        {"sample": "T", "spot": "1", "file": "t.txt", "role": "train", "label": "LiOH"},
    )
    assert validate_rows(rows, sheet_schema, "s.tsv") == _validate_each(rows, sheet_schema, "s.tsv")
    filled = validate_rows(rows, sheet_schema, "s.tsv")[0][1]
    assert list(filled)[:3] == ["sample", "spot", "file"] and filled["polarity"] == ""


@pytest.mark.parametrize(
    "bad",
    [
        # a bad cell in a later row and an earlier one, in other columns: the earlier is named
        [(30, {"role": "trainee"}), (12, {"spot": ""})],
        # a bad value repeated: its first row is named
        [(5, {"polarity": "both"}), (40, {"polarity": "both"})],
        # a missing required column (rows from a caller that builds them itself)
        [(20, {"spot": None}), (25, {"kind": "film"})],
        # two problems in one row: the row-by-row check decides which one is reported
        [(8, {"sample": "", "file": ""})],
    ],
    ids=["earliest-row", "repeated-value", "missing-required", "two-in-one-row"],
)
def test_first_bad_row_raises_the_row_by_row_error(sheet_schema, bad):
    rows = _rows(*({"sample": f"S{k}", "spot": "1", "file": f"{k}.txt"} for k in range(50)))
    for index, change in bad:
        row = rows[index][1]
        row.update(change)
        for key in [k for k, v in change.items() if v is None]:
            del row[key]
    expected = _error(_validate_each, rows, sheet_schema)
    assert f"line {min(i for i, _ in bad) + 2}," in expected
    assert _error(validate_rows, rows, sheet_schema) == expected


def test_a_schema_relating_columns_is_checked_row_by_row():
    # either mz or formula, not both: every cell is valid alone, the third row is not
    schema = {
        "type": "object",
        "properties": {"mz": {"type": "string"}, "formula": {"type": "string"}},
        "not": {"required": ["mz", "formula"]},
    }
    rows = _rows({"mz": "60.99"}, {"formula": "LiCO3"}, {"mz": "60.99", "formula": "LiCO3"})
    assert "line 4: " in _error(validate_rows, rows, schema)


def test_column_checks_keep_the_row_by_row_result_for_unusual_cells():
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    # 1 == True in Python, but True is not a JSON integer
    assert "line 3, column 'n': True is not of type 'integer'" in _error(
        validate_rows, _rows({"n": 1}, {"n": True}), schema
    )
    # a row without a column is checked with its default
    bad_default = {"type": "object", "properties": {"n": {"type": "integer", "default": "x"}}}
    assert "line 3, column 'n': 'x' is not of type 'integer'" in _error(
        validate_rows, _rows({"n": 1}, {}), bad_default
    )
    # a cell that is not hashable is checked row by row
    assert "line 2, column 'n': ['1'] is not of type" in _error(
        validate_rows, _rows({"n": ["1"]}), schema
    )


# --- mass lists ----------------------------------------------------------------------------


def _mass_list(tmp_path, text):
    path = tmp_path / "mass_list.tsv"
    path.write_text(text)
    return path


def test_mass_list_fills_mz_from_formula_and_bounds_from_window(tmp_path, mass_schema):
    path = _mass_list(
        tmp_path,
        "ion\tformula\tmz\tlower\tupper\tgroup\n"
        "LiCO3-\tLiCO3\t\t\t\tLi2CO3\nX-\t\t50.0\t49.9\t50.1\t\n",
    )
    ml = read_mass_list(path, mass_schema, window_ppm=100)
    row = ml.set_index("ion").loc["LiCO3-"]
    assert row["mz"] == pytest.approx(67.00130, abs=1e-5)
    assert row["upper"] - row["mz"] == pytest.approx(67.0013 * 100e-6, rel=1e-6)
    assert list(ml["ion"]) == ["X-", "LiCO3-"]  # sorted by mass


def test_mass_list_window_in_da(tmp_path, mass_schema):
    path = _mass_list(tmp_path, "ion\nCO3-\n")
    ml = read_mass_list(path, mass_schema, window_ppm=None, window_da=0.02)
    assert ml["upper"][0] - ml["lower"][0] == pytest.approx(0.04)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "ion\tmz\tlower\tupper\nA-\t10\t9.9\t10.1\nB-\t10.05\t10.0\t10.2\n",
            "line 3, column 'lower': interval of 'B-' [10.00000, 10.20000] overlaps 'A-' (line 2)",
        ),
        ("ion\tmz\tlower\tupper\nA-\t10\t10.1\t9.9\n", "line 2, column 'lower': inverted interval"),
        ("ion\tmz\nA-\tten\n", "line 2, column 'mz': 'ten' is not a number"),
        ("ion\nO-\nO-\n", "line 3, column 'ion': ion 'O-' listed twice"),
        ("ion\tformula\nQ-\tQq\n", "line 2, column 'formula': ion 'Qq-': unknown element 'Qq'"),
        ("ion\nmystery\n", "line 2, column 'mz': no m/z for 'mystery'"),
        (
            "ion\tlower\tupper\nC-\t11.95\t12.05\nmystery\t\t30.1\n",
            "line 3, column 'lower': 'mystery' has upper but no lower, and no mz or formula",
        ),
        (
            "ion\tmz\tlower\tupper\nmystery\t\t29.9\t\n",
            "line 2, column 'upper': 'mystery' has lower but no upper",
        ),
        (
            "ion\tlower\tupper\nC-\t11.95\t12.05\nO-\t-16.05\t16.05\n",
            "line 3, column 'lower': lower -16.05 is not a positive m/z",
        ),
        ("ion\tmz\nX-\t0\n", "line 2, column 'mz': mz 0 is not a positive m/z"),
        ("ion\tupper\nC-\t-12\n", "line 2, column 'upper': upper -12 is not a positive m/z"),
        (
            "ion,mz,group\nC-,12.0,hc\n",
            "line 1: expected tab-separated columns; found commas",
        ),
        (
            "ion\tmz\tlower\tupper\nO-\t15,995\t15,95\t16,05\nOH-\t17.003\t\t\n",
            "line 3, column 'mz': '17.003' has a decimal point, but '15,995' (line 2, column "
            "'mz') has a decimal comma: the table mixes decimal marks",
        ),
        (
            "Ion\tmz\nO-\t15.995\n",
            "line 1, column 'Ion': column 'Ion' is column 'ion' written in other case (column "
            "names are case-sensitive: rename it 'ion')",
        ),
        (
            "Mass list, lithium\nion\tmz\nO-\t15.995\n",
            "line 1: 'Mass list, lithium' stands alone above rows of 2 cells: a title line, not "
            "the table's header (delete the lines above the header, or start them with '#')",
        ),
    ],
    ids=[
        "overlap",
        "inverted",
        "not-a-number",
        "duplicate",
        "bad-formula",
        "no-mass",
        "upper-without-lower",
        "lower-without-upper",
        "negative-lower",
        "zero-mz",
        "negative-upper",
        "comma-separated",
        "mixed-decimal-marks",
        "column-in-other-case",
        "title-line",
    ],
)
def test_mass_list_errors(tmp_path, mass_schema, text, expected):
    path = _mass_list(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        read_mass_list(path, mass_schema)
    assert str(err.value).startswith(str(path))
    assert expected in str(err.value)


def test_mass_list_with_decimal_commas_is_read(tmp_path, mass_schema):
    """Excel in a decimal-comma locale writes '15,995' (it was 'not a number'); an m/z is
    never digit-grouped, so its one mark is its decimal mark."""
    path = _mass_list(tmp_path, "ion\tmz\tlower\tupper\nO-\t15,995\t15,95\t16,05\nX-\t1234\t\t\n")
    ml = read_mass_list(path, mass_schema, window_da=0.5)
    assert ml[["ion", "mz", "lower", "upper"]].to_numpy().tolist() == [
        ["O-", 15.995, 15.95, 16.05],
        ["X-", 1234.0, 1233.5, 1234.5],
    ]


def test_an_interval_without_mz_or_formula_is_centred_between_its_bounds(tmp_path, mass_schema):
    path = _mass_list(tmp_path, "ion\tlower\tupper\tgroup\nmystery\t29.9\t30.1\tunknown\n")
    row = read_mass_list(path, mass_schema).iloc[0]
    assert (row["lower"], row["mz"], row["upper"]) == pytest.approx((29.9, 30.0, 30.1))


def test_surfacelab_mass_interval_export_is_accepted_as_is(tmp_path, mass_schema):
    columns = [
        "No.",
        "Center Mass (u)",
        "Lower Mass (u)",
        "Upper Mass (u)",
        "Assignment",
        "Description",
        "Mass Deviation (ppm)",
        "Explained (%)",
        "Resolution",
        "Area",
        "Uncorrected Area",
        "Norm. By Reference Peak",
        "Norm. By Total Ion Intensity",
    ]
    rows = [
        [
            "total",
            "nan",
            "nan",
            "nan",
            "nan",
            "nan",
            "nan",
            "nan",
            "nan",
            "123456",
            "123456",
            "nan",
            "1",
        ],
        [
            "1",
            "24.00055",
            "23.99",
            "24.01",
            "C_2-",
            "nan",
            "3.1",
            "99",
            "4800",
            "500",
            "498",
            "0.1",
            "0.004",
        ],
        [
            "2",
            "59.98529",
            "59.97",
            "60.00",
            "CO_3-",
            "carbonate",
            "-2",
            "98",
            "5100",
            "900",
            "899",
            "0.2",
            "0.007",
        ],
        [
            "3",
            "67.00130",
            "66.99",
            "67.02",
            "CO_3Li-",
            "carbonate",
            "1",
            "97",
            "5200",
            "90",
            "90",
            "0.02",
            "0.0007",
        ],
    ]
    text = "\r\n".join("\t".join(r) for r in [columns, *rows]) + "\r\n"
    path = _mass_list(tmp_path, text)
    ml = read_mass_list(path, mass_schema)
    assert list(ml["ion"]) == ["C2-", "CO3-", "CO3Li-"]
    assert list(ml["group"]) == ["", "carbonate", "carbonate"]
    assert ml["lower"].tolist() == [23.99, 59.97, 66.99]
    assert ml["mz"][2] == pytest.approx(67.0013)


@pytest.mark.parametrize("study", ["lithium", "cathode", "cathode_images"])
def test_shipped_demo_tables_are_what_the_simulator_defines(study, tmp_path, mass_schema):
    """config/<study>/ holds the simulator's sheet and mass list (regenerate if this fails)."""
    from simsflow.io.tables import write_tsv
    from simsflow.simulate.study import mass_list, sample_sheet

    write_tsv(sample_sheet(study), tmp_path / "samples.tsv")
    write_tsv(mass_list(study), tmp_path / "mass_list.tsv", float_format="%.6f")
    for name in ("samples.tsv", "mass_list.tsv"):
        assert (tmp_path / name).read_text() == (ROOT / "config" / study / name).read_text()
    assert len(read_mass_list(ROOT / "config" / study / "mass_list.tsv", mass_schema)) > 10
