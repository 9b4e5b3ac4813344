"""The sheet command: a sample sheet from a folder of exports."""

import subprocess

import pytest

from simsflow.errors import SimsflowError
from simsflow.sheets import build_sheet

from .conftest import ROOT

PATTERN = r"(?P<polarity>[PN])_(?P<sample>.+)_(?P<spot>\d+)"


def _touch(root, *names):
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("1\t2\n")


def test_subfolder_layout(tmp_path):
    _touch(tmp_path, "LiOH/01.txt", "LiOH/02.txt", "Li2O/01.txt")
    sheet = build_sheet(tmp_path)
    assert sheet.to_dict("list") == {
        "sample": ["Li2O", "LiOH", "LiOH"],
        "spot": ["01", "01", "02"],
        "file": ["Li2O/01.txt", "LiOH/01.txt", "LiOH/02.txt"],
    }


def test_pattern_with_extra_groups_and_polarity(tmp_path):
    _touch(tmp_path, "N_cathodeA_1.txt", "P_cathodeA_1.txt", "N_cathodeB_2.txt")
    sheet = build_sheet(tmp_path, PATTERN + r"", polarity="negative")
    assert sheet["sample"].tolist() == ["cathodeA", "cathodeB"]
    assert sheet["polarity"].tolist() == ["negative", "negative"]
    extra = build_sheet(
        tmp_path,
        r"(?P<polarity>[PN])_(?P<sample>cathode)(?P<batch>[AB])_(?P<spot>\d+)",
        polarity="positive",
    )
    assert extra.columns.tolist() == ["sample", "spot", "file", "polarity", "batch"]


@pytest.mark.parametrize(
    ("files", "pattern", "message"),
    [
        (
            ["a/01.txt", "loose.txt"],
            None,
            "1 file(s) do not follow the layout <sample>/<spot>.txt: loose.txt",
        ),
        (["N_x_1.txt", "P_x_1.txt"], PATTERN, "several files give the same sample and spot"),
        (["x.txt"], r"(?P<sample>\w+)", "needs named groups 'sample' and 'spot'"),
        (["bad name/01.txt"], None, "sample 'bad name' must be letters"),
    ],
    ids=["unmatched", "duplicate", "no-spot-group", "bad-name"],
)
def test_sheet_errors(tmp_path, files, pattern, message):
    _touch(tmp_path, *files)
    with pytest.raises(SimsflowError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build_sheet(tmp_path, pattern)


def test_sheet_command_line(tmp_path):
    _touch(tmp_path / "data", "S1/1.txt", "S1/2.txt")
    out = tmp_path / "samples.tsv"
    result = subprocess.run(
        [str(ROOT / "bin" / "simsflow"), "sheet", str(tmp_path / "data"), "--out", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "wrote 2 rows (1 samples)" in result.stdout
    assert out.read_text() == "sample\tspot\tfile\nS1\t1\tS1/1.txt\nS1\t2\tS1/2.txt\n"
