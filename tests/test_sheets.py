"""The sheet command: a sample sheet from a folder of exports."""

import re
import subprocess

import pytest

from simsflow.errors import SimsflowError
from simsflow.sheets import assign_batches, build_sheet, parse_constants

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
            ["N_x_1.txt", "P_x_1.txt"],
            PATTERN,
            "2 files give the same sample and spot, e.g. N_x_1.txt and P_x_1.txt "
            "(the pattern's groups sample='x' and spot='1')",
        ),
        (
            ["a/01.txt", "b/1.txt", "loose.txt"],
            None,
            "1 of 3 file(s) do not follow the layout <sample>/<spot>.txt: loose.txt",
        ),
        (
            ["x_1.txt", "y_2.txt"],
            r"(?P<sample>\w+)-(?P<spot>\d+)",
            "none of the 2 file(s) follow the pattern",
        ),
        (["x.txt"], r"(?P<sample>[", "is not a regular expression"),
        (["x.txt"], r"(?P<sample>\w+)", "needs named groups 'sample' and 'spot'"),
        (["bad\\name/01.txt"], None, "sample 'bad\\\\name' holds the path separator"),
    ],
    ids=["duplicate", "some-unmatched", "none-matched", "bad-regex", "no-spot-group", "bad-name"],
)
def test_sheet_errors(tmp_path, files, pattern, message):
    _touch(tmp_path, *files)
    with pytest.raises(SimsflowError, match=re.escape(message)):
        build_sheet(tmp_path, pattern)


def test_ids_are_kept_as_the_file_names_write_them(tmp_path):
    names = ["P_RuPd_Bi3++_1", "P_Spot 2_1", "P_Cu (ref)_2", "P_10µm_1", "P_25°C_1", "P_a,b_1"]
    _touch(tmp_path, *[n + ".txt" for n in names])
    sheet = build_sheet(tmp_path, PATTERN)
    assert sorted(sheet["sample"]) == sorted(
        ["RuPd_Bi3++", "Spot 2", "Cu (ref)", "10µm", "25°C", "a,b"]
    )
    assert sorted(sheet["file"]) == sorted(n + ".txt" for n in names)


def test_outer_spaces_of_an_id_are_dropped_and_control_characters_refused(tmp_path):
    _touch(tmp_path, " LiOH /01.txt")
    assert build_sheet(tmp_path)["sample"].tolist() == ["LiOH"]
    _touch(tmp_path, "Li\tOH/01.txt")
    with pytest.raises(SimsflowError, match=r"sample 'Li\\tOH' holds the control character"):
        build_sheet(tmp_path)


def test_sheet_command_line(tmp_path):
    _touch(tmp_path / "data", "S1/1.txt", "S1/2.txt")
    out = tmp_path / "samples.tsv"
    result = subprocess.run(
        [str(ROOT / "bin" / "simsflow"), "sheet", str(tmp_path / "data"), "--out", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "wrote 2 rows (1 samples, 1 batches)" in result.stdout
    assert out.read_text() == (
        "sample\tspot\tfile\tbatch\nS1\t1\tS1/1.txt\tb001\nS1\t2\tS1/2.txt\tb001\n"
    )


def test_ion_images_in_one_file_become_rows_too(tmp_path):
    """imzML (its .ibd beside it is no row) and .ita files are samples of kind image: the
    command said 'no exports (*.txt, *.tsv, *.csv)' for a folder of imzML regions."""
    _touch(
        tmp_path,
        "Region A (cont)/1.imzML",
        "Region A (cont)/1.ibd",
        "region µ+/2.ita",
        "spectra/1.txt",
    )
    sheet = build_sheet(tmp_path)
    assert sheet[["sample", "spot", "file"]].to_dict("list") == {
        "sample": ["Region A (cont)", "region µ+", "spectra"],
        "spot": ["1", "2", "1"],
        "file": ["Region A (cont)/1.imzML", "region µ+/2.ita", "spectra/1.txt"],
    }


def test_sheet_command_says_how_many_exports_of_the_other_polarity_it_left_out(tmp_path):
    _touch(tmp_path / "data", "N_Ru-Pt (ref)_1.txt", "N_Ru-Pt (ref)_2.txt", "P_Ru-Pt (ref)_1.txt")
    result = subprocess.run(
        [str(ROOT / "bin" / "simsflow"), "sheet", str(tmp_path / "data"), "--out",
         str(tmp_path / "samples.tsv"), "--pattern", PATTERN, "--polarity", "negative"],
        capture_output=True,
        text=True,
        check=True,
    )  # fmt: skip
    assert result.stdout.endswith(
        "samples.tsv; 1 export(s) of the other polarity left out (--polarity negative: one "
        "study holds one polarity)\n"
    )


def test_sheet_command_keeps_batches_when_rerun(tmp_path):
    data = tmp_path / "data"
    _touch(data, "S2/1.txt", "S3/1.txt")
    out = tmp_path / "samples.tsv"
    command = [str(ROOT / "bin" / "simsflow"), "sheet", str(data), "--out", str(out)]
    subprocess.run([*command, "--batch-size", "1", "--set", "role=train"], check=True)
    _touch(data, "S1/1.txt")
    subprocess.run([*command, "--batch-size", "1", "--set", "role=train"], check=True)
    assert out.read_text() == (
        "sample\tspot\tfile\trole\tbatch\n"
        "S1\t1\tS1/1.txt\ttrain\tb003\n"
        "S2\t1\tS2/1.txt\ttrain\tb001\n"
        "S3\t1\tS3/1.txt\ttrain\tb002\n"
    )


def test_duplicate_hint_names_the_group_that_differs(tmp_path):
    _touch(tmp_path, "N_x_1.txt", "P_x_1.txt")
    with pytest.raises(SimsflowError) as err:
        build_sheet(tmp_path, PATTERN)
    assert "they differ in the group(s) polarity" in str(err.value)


def test_label_constants_and_batches(tmp_path):
    names = [f"P_{alloy}_{spot}.txt" for alloy in ("RuPd", "PtIr", "AuAg") for spot in (1, 2, 3)]
    _touch(tmp_path, *names)
    pattern = r"(?P<polarity>[PN])_(?P<sample>(?P<alloy>[A-Za-z]+))_(?P<spot>\d+)"
    sheet = build_sheet(tmp_path, pattern, label="alloy", constants={"role": "train"}, batch_size=4)
    assert sheet["label"].tolist() == sheet["sample"].tolist()
    assert set(sheet["role"]) == {"train"}
    # samples in sheet order AuAg, PtIr, RuPd with 3 spots each; a batch of 4 holds one sample
    assert sheet["batch"].tolist() == ["b001"] * 3 + ["b002"] * 3 + ["b003"] * 3


def test_label_must_be_a_group(tmp_path):
    _touch(tmp_path, "P_x_1.txt")
    with pytest.raises(SimsflowError, match="--label alloy: no such group"):
        build_sheet(tmp_path, PATTERN, label="alloy")


def test_set_cannot_overwrite_ids():
    with pytest.raises(SimsflowError, match="expected COLUMN=VALUE"):
        parse_constants(["role"])
    assert parse_constants(["role=train", "remark=a=b"]) == {"role": "train", "remark": "a=b"}


def test_set_refuses_id_columns(tmp_path):
    _touch(tmp_path, "S/1.txt")
    with pytest.raises(SimsflowError, match="'sample' is read from the files"):
        build_sheet(tmp_path, constants={"sample": "x"})


def test_batches_never_split_a_sample_and_keep_earlier_ones():
    samples = ["a"] * 3 + ["b"] * 60 + ["c"] * 2 + ["d"] * 2
    batches = assign_batches(samples, 50)
    assert batches == ["b001"] * 3 + ["b002"] * 60 + ["b003"] * 4
    # a new sample sorted into the middle: the old samples keep their batches
    grown = ["a"] * 3 + ["aa"] * 2 + ["b"] * 60 + ["c"] * 2 + ["d"] * 2
    keep = dict(zip(samples, batches, strict=True))
    assert assign_batches(grown, 50, keep) == (
        ["b001"] * 3 + ["b004"] * 2 + ["b002"] * 60 + ["b003"] * 4
    )
