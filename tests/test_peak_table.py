"""Peak tables as a study's input: layouts detected, headers resolved, every mistake located,
and a peak table written from the raw-spectrum path read back to the same bytes."""

import codecs

import pandas as pd
import pytest
import yaml

from simsflow.config import load_schema, read_sample_sheet
from simsflow.errors import ConfigError, SimsflowError
from simsflow.integrate import study_peak_table
from simsflow.io.masslist import read_mass_list
from simsflow.io.peaktable import header_mz, peaks_frame, read_peak_table_file
from simsflow.io.tables import write_parquet
from simsflow.scaling import scale_table
from simsflow.studies import check_studies, load_studies

from .conftest import ROOT, SCHEMAS
from .helpers import simulated_peak_rows

SHEET_SCHEMA = load_schema(SCHEMAS / "samples.schema.yaml")
MASS_LIST = pd.DataFrame(
    {
        "ion": ["C2H-", "CN-", "O-"],
        "formula": "",
        "mz": [25.00837, 26.00362, 15.99546],
        "lower": [24.99, 25.99, 15.98],
        "upper": [25.02, 26.02, 16.01],
        "group": ["hydrocarbon", "nitride", "oxide"],
        "line": [2, 3, 4],
    }
).sort_values("lower", ignore_index=True)


def _write(tmp_path, text, name="peaks.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _read(path, **kwargs):
    return read_peak_table_file(path, SHEET_SCHEMA, **kwargs)


@pytest.mark.parametrize(
    ("text", "mz"),
    [
        ("27.02", 27.02),
        ("m/z 27.02", 27.02),
        ("27.02 u", 27.02),
        ("M/Z 1.5 Da", 1.5),
        ("mz 7", 7),
        ("27.02 (u)", 27.02),
        ("Mass = 27.02 [amu]", 27.02),
        ("m/z 27,02", 27.02),
    ],
)
def test_mz_headers_are_read_in_every_spelling(text, mz):
    assert header_mz(text) == mz


@pytest.mark.parametrize("text", ["LiCO3-", "sample", "27.02.1", "u 27"])
def test_other_headers_are_not_mz(text):
    assert header_mz(text) is None


def test_wide_table_with_mz_headers_is_matched_to_the_mass_list(tmp_path):
    path = _write(
        tmp_path,
        "sample,spot,role,label,batch_note,m/z 16.00,25.01 u,26.00\n"
        "A,1,train,x,first,10,20,30\n"
        "A,2,train,x,first,11,21,31\n"
        "B,1,predict,,second,12,22,32\n",
    )
    table = _read(path, mass_list=MASS_LIST)
    assert table.layout == "wide"
    assert table.mass_list["ion"].tolist() == ["O-", "C2H-", "CN-"]
    assert table.areas.columns.tolist() == ["O-", "C2H-", "CN-", "total_counts"]
    assert table.areas["CN-"].tolist() == [30, 31, 32]
    assert table.areas["total_counts"].tolist() == [60, 63, 66]  # no column: sum of the peaks
    assert table.sheet["batch_note"].tolist() == ["first", "first", "second"]
    assert table.sheet["polarity"].tolist() == ["negative"] * 3
    frame = peaks_frame(table, "s")
    assert frame.columns[:3].tolist() == ["study", "sample", "spot"]


def test_wide_table_without_a_mass_list_names_ions_by_mz_or_formula(tmp_path):
    path = _write(
        tmp_path, "sample\tcycle\t27.02\tLiO-\t6.01 u\nA\t3\t5\t6\t7\nB\t4\t1\t2\t3\n", "p.tsv"
    )
    table = _read(path)
    assert table.mass_list["ion"].tolist() == ["m6.01", "LiO-", "m27.02"]  # by m/z
    assert table.mass_list["mz"].iloc[1] == pytest.approx(
        7.016003 + 15.994915 + 0.000549, abs=1e-5
    )  # 7Li 16O e-
    assert table.sheet["spot"].tolist() == ["1", "1"]  # numbered per sample when absent
    assert table.sheet["cycle"].tolist() == ["3", "4"]


def test_transposed_table_takes_sheet_columns_from_the_sample_sheet(tmp_path):
    path = _write(
        tmp_path, "m/z\tA/1\tA/2\tB/1\n16.00\t1\t2\t3\n25.01\t4\t5\t6\n26.0\t7\t8\t9\n", "t.tsv"
    )
    sheet = pd.DataFrame(
        {
            "sample": ["A", "A", "B"],
            "spot": ["1", "2", "1"],
            "role": ["train", "train", "predict"],
            "label": ["x", "x", ""],
            "sheet_line": [2, 3, 4],
        }
    )
    table = _read(path, mass_list=MASS_LIST, sheet=sheet)
    assert table.layout == "transposed"
    assert table.sheet[["sample", "spot", "role"]].to_numpy().tolist() == [
        ["A", "1", "train"],
        ["A", "2", "train"],
        ["B", "1", "predict"],
    ]
    assert table.areas["O-"].tolist() == [1, 2, 3]
    assert table.areas["CN-"].tolist() == [7, 8, 9]
    with pytest.raises(
        ConfigError, match=r"t.tsv, line 1, column 'B/1': spectrum 'B/1' has no row"
    ):
        _read(path, mass_list=MASS_LIST, sheet=sheet.iloc[:2])


def test_transposed_table_with_an_ion_column_and_totals(tmp_path):
    path = _write(tmp_path, "mass,ion,S1,S2\n16.0,O-,1,2\n25.0,C2H-,3,4\ntotal_counts,,100,200\n")
    table = _read(path)
    assert table.layout == "transposed"
    assert table.mass_list["ion"].tolist() == ["O-", "C2H-"]
    assert table.areas["total_counts"].tolist() == [100, 200]
    assert table.sheet["sample"].tolist() == ["S1", "S2"]


def test_spectrum_columns_keep_ids_as_written(tmp_path):
    text = "mass,ion,Cu (ref)/Spot 1,RuPd_Bi3++/10µm\n16.0,O-,1,2\n"
    table = _read(_write(tmp_path, text))
    assert table.sheet["sample"].tolist() == ["Cu (ref)", "RuPd_Bi3++"]
    assert table.sheet["spot"].tolist() == ["Spot 1", "10µm"]


def test_surfacelab_peak_list_export_of_one_spectrum(tmp_path):
    path = _write(
        tmp_path,
        "No.\tCenter Mass (u)\tLower Mass (u)\tUpper Mass (u)\tAssignment\tDescription\tArea\n"
        "total\tnan\tnan\tnan\tnan\tnan\t5000\n"
        "1\t15.995\t15.95\t16.05\tO-\toxide\t120\n"
        "2\t25.008\t24.95\t25.07\tC_2H-\thydrocarbon\t80\n",
        "spot A.txt",
    )
    table = _read(path)
    assert table.layout == "surfacelab"
    assert table.mass_list[["ion", "lower", "upper", "group"]].to_numpy().tolist() == [
        ["O-", 15.95, 16.05, "oxide"],
        ["C2H-", 24.95, 25.07, "hydrocarbon"],
    ]
    assert table.areas.iloc[0].tolist() == [120, 80, 5000]
    assert table.sheet["sample"].tolist() == ["spot A"]  # the file's name, as it is


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("sample,O-\nA,1\nB,x\n", "line 3, column 'O-'", "'x' is not a number"),
        ("sample,O-\nA,1\nB,\n", "line 3, column 'O-'", "'' marks a missing value: simsflow"),
        ("sample\tO-\nA\tn.d.\n", "line 2, column 'O-'", "'n.d.' marks a missing value"),
        ("sample,O-\nA,#DIV/0!\n", "line 2, column 'O-'", "'#DIV/0!' is a spreadsheet error"),
        ("sample,O-\nA,NaN\n", "line 2, column 'O-'", "'NaN' is not a finite number"),
        ('sample,O-\nA,"1,5"\n', "line 2, column 'O-'", "'1,5' is not a number (numbers here"),
        (
            "sample;O-;C2H-\nA;1,5;2\nB;2.5;3\n",
            "line 3, column 'O-'",
            "'2.5' has a decimal point, but '1,5' (line 2, column 'O-') has a decimal comma",
        ),
        (
            "sample\tO-\tC2H-\nA\t1.500\t2\n",
            "line 2, column 'O-'",
            "'1.500' reads as 1.5 or as 1500 (digits grouped in thousands), and no other",
        ),
        ("sample,O-\nA,1,2\n", "line 2", "3 cells, but the header has 2 columns"),
        ("sample,F-\nA,1\n", "line 1, column 'F-'", "ion 'F-' is not in the mass list"),
        ("sample,m/z 40.0\nA,1\n", "line 1, column 'm/z 40.0'", "m/z 40 matches no ion"),
        ("sample,16.0,16.01\nA,1,2\n", "line 1, column '16.01'", "is ion 'O-' again"),
        ("sample,role,O-\nA,train,1\n", "line 2, column 'label'", "a train row needs a label"),
        ("sample,role,O-\nA,boss,1\n", "line 2, column 'role'", "'boss' is not one of"),
        ("sample,spot,O-\nA,1,1\nA,1,2\n", "line 3, column 'spot'", "duplicate sample 'A' spot"),
        ("name,O-\nA,1\n", "line 1, column 'name'", "cannot tell the peak table's layout"),
        ("m/z,A\\b\n16.0,1\n", "line 1, column 'A\\b'", "is not 'sample' or 'sample/spot'"),
        ("m/z,A\nsixteen,1\n", "line 2, column 'm/z'", "'sixteen' is not an m/z"),
        (
            "m/z,A,A/1\n16.0,1,2\n",
            "line 1, column 'A/1'",
            "spectrum column 'A/1' is sample 'A' spot '1' again (first as column 'A')",
        ),
        ("Areas of run 5\nsample,O-\nA,1\n", "line 1", "'Areas of run 5' stands alone above"),
        ("sep=;\nsample;O-\nA;x\n", "line 3, column 'O-'", "'x' is not a number"),
        ("sample,Label,O-\nA,x,1\n", "line 1, column 'Label'", "is column 'label' written in"),
        ("sample,O-\nA,1\nsample,O-\nB,2\n", "line 3", "the header of line 1 again"),
        ("sample,27.02 (neg)\nA,1\n", "line 1, column '27.02 (neg)'", "starts like an m/z but"),
        ("sample,O-\n\u00c5,1\nA\u030a,2\n", "line 3, column 'sample'", "is encoded otherwise"),
    ],
)
def test_every_mistake_names_file_line_and_column(tmp_path, text, where, message):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        _read(path, mass_list=MASS_LIST)
    assert str(err.value).startswith(f"{path}, {where}: ")
    assert message in str(err.value)


def test_a_table_saved_as_excel_unicode_text_is_read(tmp_path):
    """Excel's "Unicode text": UTF-16 with a byte-order mark, tab-separated (refused as binary
    data before)."""
    path = tmp_path / "peaks.txt"
    text = "sample\tspot\tO-\tC2H-\r\n10\u00b5m\t007\t10\t20\r\n"
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    table = _read(path, mass_list=MASS_LIST.iloc[:2])
    assert table.sheet[["sample", "spot"]].to_numpy().tolist() == [["10\u00b5m", "007"]]
    assert table.areas.to_numpy().tolist() == [[10, 20, 30]]


def test_empty_cells_a_spreadsheet_pads_rows_with_are_dropped(tmp_path):
    """Excel's CSV keeps a ';' for every column that once held something (refused before as an
    empty column name); a value under no header is still refused."""
    path = _write(tmp_path, "sample;O-;C2H-;;;\nA;1;2;;;\nB;3;4;;;\n\n;;;;;\n")
    table = _read(path, mass_list=MASS_LIST.iloc[:2])
    assert table.areas.to_numpy().tolist() == [[1, 2, 3], [3, 4, 7]]
    _write(tmp_path, "sample;O-;C2H-;;;\nA;1;2;;9;\n")
    with pytest.raises(ConfigError, match=r"line 2: 5 cells, but the header has 3 columns"):
        _read(path, mass_list=MASS_LIST.iloc[:2])


@pytest.mark.parametrize(
    ("text", "areas"),
    [
        # Excel in a decimal-comma locale: ';' between cells, '.' or a space grouping digits
        (
            "sample;O-;C2H-\nA;1,5E+03;20,5\nB;1.500;2\u00a0000,25\n",
            [[1500, 20.5], [1500, 2000.25]],
        ),
        # and its tab-separated text, m/z rows with a decimal comma
        ("m/z\tA\tB\n16,00\t1.500\t3\n25,01\t4\t5,5\n", [[1500, 4], [3, 5.5]]),
        # a comma-separated table: ',' groups digits in a quoted cell
        ('sample,O-,C2H-\nA,"1,500",20.5\nB,"1,234,567.5",2\n', [[1500, 20.5], [1234567.5, 2]]),
        # '1.500' with decimal points elsewhere (here an m/z) is 1.5
        ("m/z;A\n16.0;1.500\n25.01;4\n", [[1.5, 4]]),
        # Excel's line naming the delimiter
        ("sep=;\nsample;O-;C2H-\nA;1,5;2\n", [[1.5, 2]]),
    ],
    ids=["semicolons-decimal-comma", "tabs-decimal-comma", "commas-grouped", "point-by-mz", "sep"],
)
def test_numbers_are_read_with_the_tables_decimal_mark(tmp_path, text, areas):
    table = _read(_write(tmp_path, text), mass_list=MASS_LIST.iloc[:2])
    assert table.areas[["O-", "C2H-"]].to_numpy().tolist() == areas


def test_xlsx_is_refused_with_what_to_do(tmp_path):
    path = _write(tmp_path, "PK", "peaks.xlsx")
    with pytest.raises(ConfigError, match=r"openpyxl is not a dependency.*save the sheet as CSV"):
        _read(path)


@pytest.mark.parametrize("with_study", [False, True])
def test_a_peak_table_written_from_the_raw_spectrum_path_reads_back_to_the_same_bytes(
    tmp_path, with_study
):
    """Also with its study column, as a user saves peaks.parquet as CSV (that ended in a
    traceback: 'cannot insert study, already exists'); the study is the one it is given to."""
    schema = load_schema(SCHEMAS / "mass_list.schema.yaml")
    mass_list = read_mass_list(ROOT / "config/lithium/mass_list.tsv", schema)
    ions = mass_list["ion"].tolist()
    peaks = [
        simulated_peak_rows("lithium", {"sample": s, "spots": 3, "powders": {s: 1.0}}, 5, mass_list)
        for s in ("LiOH", "Li2CO3")
    ]
    (tmp_path / "samples.tsv").write_text(
        "sample\tspot\tfile\trole\tlabel\tremark\n"
        + "".join(
            f"{s}\t0{k}\traw/{s}{k}.txt\ttrain\t{s}\tpure\n"
            for s in ("LiOH", "Li2CO3")
            for k in (1, 2, 3)
        )
    )
    sheet = read_sample_sheet(
        tmp_path / "samples.tsv", SHEET_SCHEMA, data_dir=tmp_path, files_may_be_missing=True
    ).drop(columns=["path", "sheet_line"])  # as the rule peak_table gets it
    areas = [p.drop(columns=["role", "label"]) for p in peaks]
    raw = study_peak_table(sheet, areas)
    write_parquet(raw, tmp_path / "raw.parquet")
    saved = raw.assign(study="the study it came from") if with_study else raw.drop(columns="study")
    saved.to_csv(tmp_path / "table.csv", index=False)
    table = _read(tmp_path / "table.csv", mass_list=mass_list)
    write_parquet(peaks_frame(table, "lithium"), tmp_path / "back.parquet")
    assert (tmp_path / "back.parquet").read_bytes() == (tmp_path / "raw.parquet").read_bytes()
    steps = [{"method": "total_ion"}, {"method": "minmax", "axis": "ion"}]
    back = pd.read_parquet(tmp_path / "back.parquet")
    pd.testing.assert_frame_equal(scale_table(back, ions, steps), scale_table(raw, ions, steps))


def test_a_study_given_as_a_peak_table_is_planned_without_raw_stages(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "peaks.csv").write_text(
        "sample,spot,role,label,O-,C2H-\n"
        + "".join(f"{c},{k},train,{c},{10 + k},{20 + 3 * k}\n" for c in "AB" for k in range(5))
    )
    config = {
        "studies": {
            "tab": {
                "peak_table": "peaks.csv",
                "classification": {"folds": 5},
                "pca": {"colour_by": "label"},
            }
        }
    }
    cfg, sheets, mass_lists = load_studies(config, SCHEMAS, ["config.yaml"])
    assert set(sheets["tab"]["kind"]) == {"table"}
    assert mass_lists["tab"]["ion"].tolist() == ["O-", "C2H-"]
    assert cfg["studies"]["tab"]["classification"]["scaling"] == "auto"
    studies = check_studies(cfg, sheets, mass_lists, "config.yaml")
    assert studies.spectrum_samples == [] and studies.image_samples == []
    config["studies"]["tab"]["pca"]["colour_by"] = "colour"
    cfg, sheets, mass_lists = load_studies(yaml.safe_load(yaml.safe_dump(config)), SCHEMAS, [])
    with pytest.raises(SimsflowError, match=r"studies.tab.pca.colour_by.*'colour' is not a sheet"):
        check_studies(cfg, sheets, mass_lists, "config.yaml")
