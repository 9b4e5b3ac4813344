"""A corpus of bad inputs, generated (never hand-edited): each case breaks one thing in a small
copy of the workflow and names the message simsflow must give."""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass
from pathlib import Path

from .conftest import FIXTURES

GOOD = (FIXTURES / "iontof-ascii" / "N_Ru-Pt_Bi3_1.txt").read_bytes()
LINES = GOOD.decode().split("\r\n")  # 3 header lines, then data

CONFIG = """\
studies:
  mini:
    sample_sheet: config/mini/samples.tsv
    mass_list: config/mini/mass_list.tsv
    data_dir: data/mini
"""
# the cases break and check the per-sample rules and their files (a study's spectra otherwise
# run in automatic batches); written after the cases' own keys, so the lines they name stay
PER_SAMPLE = "    batch_spectra: 0\n"
SHEET = "sample\tspot\tfile\trole\tlabel\nA\t1\tA/1.txt\ttrain\tx\nA\t2\tA/2.txt\ttrain\tx\n"
MASS_LIST = (
    "ion\tlower\tupper\tgroup\n"
    "C-\t11.95\t12.05\thc\nO-\t15.95\t16.05\tox\nOH-\t16.95\t17.05\tox\n"
    "C2H-\t24.95\t25.07\thc\nCN-\t25.95\t26.07\tn\nCl-\t34.9\t35.05\thal\n"
)


def build(workdir: Path) -> None:
    """The mini study: sample A with two good spectra."""
    (workdir / "config" / "config.yaml").write_text(CONFIG + PER_SAMPLE)
    (workdir / "config" / "mini").mkdir(parents=True, exist_ok=True)
    (workdir / "config" / "mini" / "samples.tsv").write_text(SHEET)
    (workdir / "config" / "mini" / "mass_list.tsv").write_text(MASS_LIST)
    for spot in ("1", "2"):
        path = workdir / "data" / "mini" / "A" / f"{spot}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(GOOD)


def _data(lines):
    return "\r\n".join(lines).encode()


def _replace_line(n, text):
    lines = list(LINES)
    lines[n - 1] = text
    return _data(lines)


@dataclass
class Case:
    name: str
    stage: str  # "file": found when the job reads it; "start": before any job runs
    message: str
    spectrum: bytes | None = None  # contents of data/mini/A/2.txt
    edit: object = None  # function(workdir) for sheet, mass-list and config cases


def _sheet(text):
    def edit(workdir):
        (workdir / "config" / "mini" / "samples.tsv").write_text(text)

    return edit


def _append_sheet(row):
    return _sheet(SHEET + row)


def _mass_list(text):
    def edit(workdir):
        (workdir / "config" / "mini" / "mass_list.tsv").write_text(text)

    return edit


def _config(extra):
    def edit(workdir):
        (workdir / "config" / "config.yaml").write_text(CONFIG + extra + PER_SAMPLE)

    return edit


def _symlink_out(workdir):
    outside = workdir / "outside.txt"
    outside.write_bytes(GOOD)
    link = workdir / "data" / "mini" / "A" / "link.txt"
    os.symlink(outside, link)
    _append_sheet("A\t3\tA/link.txt\ttrain\tx\n")(workdir)


def _copies(workdir, sample, n):
    """``n`` more exports (copies of the good one) in data/mini/<sample>/; each file may be
    listed once in a sheet."""
    folder = workdir / "data" / "mini" / sample
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"{i}.txt").write_bytes(GOOD)


def _few_per_class(workdir):
    _config("    classification: {folds: 5}\n")(workdir)
    _copies(workdir, "B", 6)
    rows = "".join(f"B\t{i}\tB/{i}.txt\ttrain\ty\n" for i in range(6))
    _append_sheet(rows)(workdir)


def _class_in_one_group(workdir):
    """Class 'x' is sample A only, class 'y' samples B and C: grouped by sample, x is in one."""
    _config("    classification: {folds: 2, group_column: sample}\n")(workdir)
    rows = ""
    for sample in ("B", "C"):
        _copies(workdir, sample, 3)
        rows += "".join(f"{sample}\t{i}\t{sample}/{i}.txt\ttrain\ty\n" for i in range(3))
    _append_sheet(rows)(workdir)


def _predict_only(workdir):
    _config("    classification: {folds: 2}\n")(workdir)
    _sheet("sample\tspot\tfile\trole\tlabel\nA\t1\tA/1.txt\tpredict\t\nA\t2\tA/2.txt\tpredict\t\n")(
        workdir
    )


def _unknown_class(workdir):
    _config(
        "    classification:\n      folds: 2\n      decision_boundaries:\n"
        "        - {class: x, versus: Li2S, mixture: A}\n"
    )(workdir)
    _copies(workdir, "B", 2)
    _append_sheet("B\t1\tB/0.txt\ttrain\ty\nB\t2\tB/1.txt\ttrain\ty\n")(workdir)


def _empty_image_folder(workdir):
    (workdir / "data" / "mini" / "R").mkdir()
    _append_sheet("R\t1\tR\t\t\n")(workdir)


def _config_bytes(raw):
    def edit(workdir):
        (workdir / "config" / "config.yaml").write_bytes(raw)

    return edit


def nested_aliases(levels: int, width: int = 9) -> str:
    """A YAML list whose anchors and aliases expand to width**levels strings ("billion
    laughs"); loaded, it is a few shared lists."""
    value = "&l0 [" + ", ".join(["lol"] * width) + "]"
    for k in range(1, levels):
        value = f"&l{k} [{value}, " + ", ".join([f"*l{k - 1}"] * (width - 1)) + "]"
    return value


def nested_merge_keys(levels: int, indent: str = "      ") -> str:
    """YAML mappings merged into mappings (``<<``): loading them expands every level."""
    lines = [f"{indent}m0: &m0 {{a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8}}"]
    for k in range(1, levels):
        merged = ", ".join([f"*m{k - 1}"] * 8)
        lines.append(f"{indent}m{k}: &m{k} {{<<: [{merged}]}}")
    return "\n".join(lines) + "\n"


HEAD = "sample\tspot\tfile\trole\tlabel\n"
CASES = [
    Case(
        "truncated",
        "file",
        "2.txt, line 7056: expected 3 values separated by tabs, found 2",
        _data([*LINES[:-2], "1410462\t1799.84"]),
    ),
    Case("binary-garbage", "file", "2.txt: binary data, not a text export", bytes(range(256)) * 64),
    Case(
        "wrong-delimiter",
        "file",
        "2.txt, line 3, column '1|2|3': unknown or repeated column",
        _replace_line(3, "1|2|3"),
    ),
    Case(
        "missing-column",
        "file",
        "2.txt, line 3: missing column(s): intensity",
        _data(LINES[:2] + ["Channel\tm/z"] + [ln.rsplit("\t", 1)[0] for ln in LINES[3:-1]]),
    ),
    Case(
        "renamed-column",
        "file",
        "2.txt, line 3, column 'Counts per bin': unknown",
        _replace_line(3, "Channel\tm/z\tCounts per bin"),
    ),
    Case(
        "nan-intensity",
        "file",
        "2.txt, line 10, column 'Intensity': value is nan",
        _replace_line(10, "1300\t0.002771\tnan"),
    ),
    Case(
        "inf-intensity",
        "file",
        "2.txt, line 10, column 'Intensity': value is inf",
        _replace_line(10, "1300\t0.002771\tinf"),
    ),
    Case(
        "negative-intensity",
        "file",
        "2.txt, line 10, column 'Intensity': negative intensity -10",
        _replace_line(10, "1300\t0.002771\t-10"),
    ),
    Case(
        "non-monotonic-mz",
        "file",
        "2.txt, line 10, column 'm/z': m/z decreases",
        _replace_line(10, "1300\t0.000100\t10"),
    ),
    Case(
        "duplicated-mz",
        "file",
        "2.txt, line 10, column 'm/z': m/z repeats",
        _replace_line(10, "1300\t0.002174\t10"),
    ),
    Case("empty-file", "file", "2.txt: empty file", b""),
    Case(
        "utf16-without-bom",
        "file",
        "2.txt: UTF-16 text without a byte-order mark: save it as UTF-8",
        GOOD.decode().encode("utf-16-le"),
    ),
    Case("header-only", "file", "2.txt: no data lines", _data(LINES[:2]) + b"\r\n"),
    Case(
        "decimal-comma",
        "file",
        "2.txt, line 10, column 'm/z': '0,002771' has a decimal comma, but '0.000274' (line 4, "
        "column 'm/z') has a decimal point: the table mixes decimal marks",
        _replace_line(10, "1300\t0,002771\t10"),
    ),
    Case(
        "dotdot-path",
        "start",
        "samples.tsv, line 4, column 'file': path '../../x.txt' leaves",
        edit=_append_sheet("A\t3\t../../x.txt\ttrain\tx\n"),
    ),
    Case(
        "absolute-path",
        "start",
        "samples.tsv, line 4, column 'file': path '/etc/hostname' leaves",
        edit=_append_sheet("A\t3\t/etc/hostname\ttrain\tx\n"),
    ),
    Case(
        "symlink-out",
        "start",
        "samples.tsv, line 4, column 'file': path 'A/link.txt' points outside",
        edit=_symlink_out,
    ),
    Case(
        "duplicate-sample-spot",
        "start",
        "samples.tsv, line 4, column 'spot': duplicate sample 'A' spot '1' (first on line 2)",
        edit=_append_sheet("A\t1\tA/1.txt\ttrain\tx\n"),
    ),
    Case(
        "label-on-predict",
        "start",
        "samples.tsv, line 4, column 'label': a predict row must not carry a label (found 'x')",
        edit=_append_sheet("U\t1\tA/1.txt\tpredict\tx\n"),
    ),
    Case(
        "missing-sheet-column",
        "start",
        "samples.tsv, line 2, column 'spot': 'spot' is a required",
        edit=_sheet("sample\tfile\nA\tA/1.txt\n"),
    ),
    Case(
        "short-sheet-row",
        "start",
        "samples.tsv, line 3: 2 cells, but the header has 5 columns",
        edit=_sheet(HEAD + "A\t1\tA/1.txt\ttrain\tx\nA\t2\n"),
    ),
    Case(
        "class-smaller-than-folds",
        "start",
        "column 'label': class(es) 'x' (2) have fewer spectra than the 5 CV folds",
        edit=_few_per_class,
    ),
    Case(
        "class-in-one-cv-group",
        "start",
        "samples.tsv, line 2, column 'sample': class(es) 'x' ('A') have all their train rows in "
        "one 'sample' value",
        edit=_class_in_one_group,
    ),
    Case(
        "one-class",
        "start",
        "samples.tsv, column 'label': training needs at least two classes, "
        "found 1: 'x' (2 spectra)",
        edit=_config("    classification: {folds: 2}\n"),
    ),
    Case(
        "predict-only-study",
        "start",
        "column 'studies.mini.classification': no rows with role train",
        edit=_predict_only,
    ),
    Case(
        "unknown-class",
        "start",
        "column 'studies.mini.classification.decision_boundaries.0.versus': 'Li2S' is not a label",
        edit=_unknown_class,
    ),
    Case(
        "overlapping-intervals",
        "start",
        "mass_list.tsv, line 3, column 'lower': interval of 'O-' [11.99000, 16.05000] "
        "overlaps 'C-'",
        edit=_mass_list(MASS_LIST.replace("O-\t15.95", "O-\t11.99")),
    ),
    Case(
        "inverted-interval",
        "start",
        "mass_list.tsv, line 2, column 'lower': inverted interval",
        edit=_mass_list(MASS_LIST.replace("C-\t11.95\t12.05", "C-\t12.05\t11.95")),
    ),
    Case(
        "mass-list-not-a-number",
        "start",
        "mass_list.tsv, line 2, column 'lower': 'twelve' is not a number",
        edit=_mass_list(MASS_LIST.replace("11.95", "twelve")),
    ),
    Case(
        "config-wrong-type",
        "start",
        "config.yaml, line 6, column 'studies.mini.on_error': 'maybe' is not one of",
        edit=_config("    on_error: maybe\n"),
    ),
    Case(
        "config-unknown-key",
        "start",
        "config.yaml, line 6, column 'studies.mini.colour': unknown key 'colour' (known here: ",
        edit=_config("    colour: red\n"),
    ),
    Case(
        "config-misspelled-key",
        "start",
        "config.yaml, line 3, column 'studies.mini.sample_shet': unknown key 'sample_shet' "
        "(did you mean 'sample_sheet'?)",
        edit=_config_bytes(CONFIG.replace("sample_sheet", "sample_shet").encode()),
    ),
    Case(
        "config-minmax-without-axis",
        "start",
        "config.yaml, column 'studies.mini.scaling.methods.mm': scaling method 'minmax' needs "
        "axis (e.g. {method: minmax, axis: ion})",
        edit=_config("    scaling:\n      methods:\n        mm: [{method: minmax}]\n"),
    ),
    Case(
        "config-alias-bomb",
        "start",
        "config.yaml, line 7, column 'studies.mini.scaling.important_ions': the value expands "
        "to more than 100,000 values",
        edit=_config(f"    scaling:\n      important_ions: {nested_aliases(9)}\n"),
    ),
    Case(
        "config-merge-key-bomb",
        "start",
        "config.yaml, line 12, column 'studies.mini.simulate.m5': the value expands to more "
        "than 100,000 values",
        edit=_config("    simulate:\n" + nested_merge_keys(12)),
    ),
    Case(
        "sheet-comma-separated",
        "start",
        "samples.tsv, line 1: expected tab-separated columns; found commas",
        edit=_sheet(SHEET.replace("\t", ",")),
    ),
    Case(
        "sheet-utf16-without-bom",
        "start",
        "samples.tsv: UTF-16 text without a byte-order mark: save it as UTF-8",
        edit=lambda workdir: (workdir / "config" / "mini" / "samples.tsv").write_bytes(
            SHEET.encode("utf-16-le")
        ),
    ),
    Case(
        "same-file-twice",
        "start",
        "samples.tsv, line 4, column 'file': 'A/1.txt' is the same file as 'A/1.txt' on line 2",
        edit=_append_sheet("B\t1\tA/1.txt\ttrain\tx\n"),
    ),
    Case(
        "empty-image-folder",
        "start",
        "samples.tsv, line 4, column 'file': folder 'R' holds no image exports (*.txt)",
        edit=_empty_image_folder,
    ),
    Case(
        "mass-list-upper-without-lower",
        "start",
        "mass_list.tsv, line 8, column 'lower': 'm30' has upper but no lower, and no mz or formula",
        edit=_mass_list(MASS_LIST + "m30\t\t30.1\tx\n"),
    ),
    Case(
        "mass-list-negative-bound",
        "start",
        "mass_list.tsv, line 3, column 'lower': lower -15.95 is not a positive m/z",
        edit=_mass_list(MASS_LIST.replace("O-\t15.95", "O-\t-15.95")),
    ),
    Case(
        "config-wrong-number",
        "start",
        "config.yaml, line 7, column 'studies.mini.calibration.min_ions': 'three' is not of type",
        edit=_config("    calibration:\n      min_ions: three\n"),
    ),
]

# valid files in unusual dress: nothing valid may be lost
VALID = {
    "latin-1-header": ("# Operator: J\xfcrgen\r\n".encode("latin-1") + GOOD),
    "utf8-bom": b"\xef\xbb\xbf" + GOOD,
    "lf-line-ends": GOOD.replace(b"\r\n", b"\n"),
    "cr-line-ends": GOOD.replace(b"\r\n", b"\r"),
    "utf16-bom": codecs.BOM_UTF16_LE + GOOD.decode().encode("utf-16-le"),
}
