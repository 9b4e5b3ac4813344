"""Names never become paths: slugs of hostile names are plain, bounded, distinct file names,
and every folder of per-name figures maps its files back to the names."""

import string
import unicodedata

import numpy as np
import pandas as pd
import pytest
import yaml

from simsflow import plots
from simsflow.errors import SimsflowError
from simsflow.names import (
    MAX_SLUG,
    distinct_stems,
    file_slug,
    id_problem,
    read_index,
    slug_map,
    write_index,
)

HOSTILE = [
    "../x",
    "../../../../x",
    "/abs",
    "a/b",
    "a\\b",
    "..",
    ".",
    ".hidden",
    "-rf",
    "CON",
    "con.txt",
    "Com1",
    "lpt9.png",
    "nul",
    "a\x00b",
    "tab\tnew\nline\r",
    "\x7f\x1b[31m",
    "line\u2028sep\x85nel\x0bvt",
    "Li₂CO₃⁻",
    "ünïcødé ion",
    "離子",
    "x" * 300,
    "é" * 300,
    "trailing.",
    "trailing ",
    "",
    "Ab",
    "aB",
]
SAFE = set(string.ascii_letters + string.digits + "_.+-")
DEVICES = {"CON", "PRN", "AUX", "NUL", *(f"COM{n}" for n in range(10))} | {
    f"LPT{n}" for n in range(10)
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_slug_is_one_plain_file_name(name):
    slug = file_slug(name)
    assert slug and set(slug) <= SAFE
    assert ".." not in slug
    assert not slug.startswith((".", "-"))
    assert not slug.endswith(".")
    assert slug.split(".")[0].upper() not in DEVICES
    assert len(slug.encode()) <= MAX_SLUG
    assert file_slug(name) == slug  # deterministic


@pytest.mark.parametrize("name", ["LiCO3-", "Li2CO3", "C2H-", "SO_y", "PO_y", "group_1", "a.b+"])
def test_safe_names_keep_their_file_names(name):
    assert file_slug(name) == name


def test_unicode_compatibility_forms_read_as_ascii():
    assert file_slug("Li₂CO₃⁻") == "Li2CO3-"
    assert file_slug(unicodedata.normalize("NFD", "é")) == file_slug("é") == "e"


def test_long_names_with_one_beginning_stay_apart():
    assert file_slug("x" * 300) != file_slug("x" * 299 + "y")


def test_slug_map_is_distinct_ignoring_case_and_independent_of_order():
    names = [*HOSTILE, "a_b", "a_b-1", "_abs", "__x"]
    slugs = slug_map(names)
    assert set(slugs) == set(names)
    folded = [s.casefold() for s in slugs.values()]
    assert len(set(folded)) == len(folded)
    assert slug_map(reversed(names)) == slugs
    # a name alone in its slug keeps it; case twins both get a suffix
    assert slugs["Li₂CO₃⁻"] == "Li2CO3-"
    assert slugs["Ab"] != "Ab" and slugs["aB"] != "aB"


def test_slug_map_avoids_taken_slugs():
    slugs = slug_map(["group_x", "y"], taken=["GROUP_X"])
    assert slugs["y"] == "y"
    assert slugs["group_x"].casefold() != "group_x"


def test_distinct_stems_are_bounded_and_distinct():
    stems = distinct_stems({("a_b", "c"): "r_a_b_c", ("a", "b_c"): "r_a_b_c", 1: "z" * 400})
    assert stems[("a_b", "c")] != stems[("a", "b_c")]
    assert max(len(s) for s in stems.values()) <= 200


def test_the_index_round_trips_every_name(tmp_path):
    slugs = slug_map(HOSTILE)
    write_index(tmp_path, [(s, n, "ion") for n, s in slugs.items()])
    index = read_index(tmp_path / "names.tsv")
    assert dict(zip(index["name"], index["slug"], strict=True)) == slugs
    before = (tmp_path / "names.tsv").read_bytes()
    write_index(tmp_path, [(s, n, "ion") for n, s in reversed(slugs.items())])
    assert (tmp_path / "names.tsv").read_bytes() == before


def _written(folder):
    return {p for p in folder.rglob("*") if p.is_file()}


def _assert_inside(folder, root):
    for path in _written(root):
        assert path.resolve().is_relative_to(folder.resolve()), path


def test_box_plots_of_hostile_ions_and_groups_stay_in_their_folder(tmp_path):
    ions = ["../../x", "/abs", "a/b", "CON", "Ab", "aB", "y" * 300, "ünï"]
    rng = np.random.default_rng(0)
    scaled = pd.DataFrame({"sample": np.repeat(["S1", "S2"], 3)})
    for ion in ions:
        scaled[ion] = rng.random(6)
    groups = dict(zip(ions, ["../g", "/g", "g/h", "NUL", "G", "g", "", "z" * 300], strict=True))
    out = tmp_path / "box" / "m"
    plots.save_boxplots(out, scaled, ions[:6], ions[6:], groups, "total_ion")
    _assert_inside(out, tmp_path)
    index = read_index(out / "names.tsv")
    extra = read_index(out / "extra" / "names.tsv")
    assert set(index.loc[index["kind"] == "ion", "name"]) == set(ions[:6])
    assert set(extra["name"]) == set(ions[6:])
    # a group figure for every ion's group (the ion without one among the ungrouped)
    expected_groups = {groups[i] or "ungrouped" for i in ions}
    assert set(index.loc[index["kind"] == "group", "name"]) == expected_groups
    for folder, table in ((out, index), (out / "extra", extra)):
        files = {p.stem for p in folder.glob("*.png")}
        assert files == set(table["slug"])


def test_image_figures_of_hostile_ions_stay_in_their_folder(tmp_path):
    ions = ["../../a", "/b", "CON"]
    x, y = np.meshgrid(np.arange(4), np.arange(3))
    stack = pd.DataFrame({"x": x.ravel(), "y": y.ravel(), "sample": "S", "spot": "r1"})
    for k, ion in enumerate(ions):
        stack[ion] = np.arange(12.0) + k
    stack["total"] = stack[ions].sum(axis=1)
    out = tmp_path / "images" / "S"
    plots.save_image_figures(out, stack, ions, [ions], [(ions[0], ions[2])], "total")
    _assert_inside(out, tmp_path)
    index = read_index(out / "names.tsv")
    assert set(index.loc[index["kind"] == "ion", "name"]) == set(ions)
    names = {p.name for p in out.glob("*.png")}
    slug = dict(zip(index["name"], index["slug"], strict=True))
    assert f"r1_product_{slug['../../a']}_{slug['/b']}_{slug['CON']}.png" in names
    assert f"r1_overlay_{slug['../../a']}_{slug['CON']}.png" in names


def _start(workdir, mass_list=None, sheet=None):
    """What every Snakemake start runs (load_studies, check_studies) on the mini study."""
    from simsflow.studies import check_studies, load_studies

    from .badinputs import CONFIG, build
    from .conftest import SCHEMAS

    (workdir / "config").mkdir(exist_ok=True)
    build(workdir)
    if mass_list is not None:
        (workdir / "config" / "mini" / "mass_list.tsv").write_text(mass_list, encoding="utf-8")
    if sheet is not None:
        (workdir / "config" / "mini" / "samples.tsv").write_text(sheet, encoding="utf-8")
    config = yaml.safe_load(CONFIG)
    cfg, sheets, mass_lists = load_studies(config, SCHEMAS, ["config/config.yaml"])
    check_studies(cfg, sheets, mass_lists, "config/config.yaml")


def _renamed_ion(name, group="ox"):
    """The mini study's mass list with the ion of line 3 renamed (or regrouped)."""
    return (
        "ion\tmz\tlower\tupper\tgroup\n"
        "C-\t12.0\t11.95\t12.05\thc\n"
        f"{name}\t16.0\t15.95\t16.05\t{group}\n"
        "OH-\t17.003\t16.95\t17.05\tox\n"
    )


@pytest.mark.parametrize(
    ("name", "sheet_extra"),
    [
        ("sample", ""),
        ("spot", ""),
        ("total_counts", ""),
        ("study", ""),
        ("label", ""),
        ("remark", ""),
        ("operator", "operator"),
    ],
)
def test_an_ion_named_like_a_peak_table_column_is_refused_at_the_start(
    name, sheet_extra, tmp_path, monkeypatch
):
    from .badinputs import SHEET

    monkeypatch.chdir(tmp_path)
    sheet = None
    if sheet_extra:  # a study's own sheet column is reserved too
        head, *rows = SHEET.splitlines()
        sheet = "\n".join([f"{head}\t{sheet_extra}", *(f"{r}\tme" for r in rows)]) + "\n"
    with pytest.raises(SimsflowError) as err:
        _start(tmp_path, _renamed_ion(name), sheet)
    message = str(err.value)
    assert message.startswith(
        f"config/mini/mass_list.tsv, line 3, column 'ion': ion '{name}' is named like a "
        "peak-table column (rename the ion; reserved names: "
    )
    for word in ("sample", "spot", "study", "total_counts", "label", "file", "batch"):
        assert word in message.split("reserved names: ")[1]
    assert (sheet_extra in message) if sheet_extra else "operator" not in message


def test_names_like_columns_in_other_case_or_of_image_stacks_are_ions(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _start(tmp_path, _renamed_ion("Sample"))
    _start(tmp_path, _renamed_ion("total"))  # only image studies have a 'total' column


@pytest.mark.parametrize(
    ("where", "text", "expected"),
    [
        ("ion", "\u200b", "line 3, column 'ion': ion name '\\u200b' is empty"),
        ("group", "\u200b", "line 3, column 'group': group name '\\u200b' is empty"),
        ("label", "\u00a0\u200b", "samples.tsv, line 3, column 'label': class label"),
    ],
)
def test_an_invisible_ion_group_or_class_name_is_refused(
    where, text, expected, tmp_path, monkeypatch
):
    from .badinputs import SHEET

    monkeypatch.chdir(tmp_path)
    if where == "label":
        sheet = SHEET.replace("A\t2\tA/2.txt\ttrain\tx", f"A\t2\tA/2.txt\ttrain\t{text}")
        args = (None, sheet)
    else:
        args = (_renamed_ion(text) if where == "ion" else _renamed_ion("O-", text), None)
    with pytest.raises(SimsflowError, match="no visible character") as err:
        _start(tmp_path, *args)
    assert expected in str(err.value)


def test_batch_folders_are_slugs_distinct_ignoring_case():
    from simsflow.studies import spectrum_batches

    batches = ["A", "a", "CON", "../up", "ü" * 300, "run 1/a"]
    sheet = pd.DataFrame(
        {"sample": [f"S{k}" for k in range(6)], "kind": "spectrum", "batch": batches}
    )
    keys = [b.key for b in spectrum_batches({"s": sheet})]
    assert keys[0] == "A" and keys[-1] == "run_1_a"
    assert len({k.casefold() for k in keys}) == len(keys)
    for key in keys:
        assert key.split(".")[0].upper() not in DEVICES
        assert set(key) <= SAFE and ".." not in key and len(key) <= MAX_SLUG + 3


@pytest.mark.parametrize(
    "value", ["Bi3++", "RuPd_Bi3++", "Spot 2", "Cu (ref)", "(ref)", "10µm", "25°C", "a,b", "Ü-ß"]
)
def test_ids_may_hold_any_printable_character_but_path_separators(value):
    assert id_problem(value) is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("a/b", "path separator '/'"),
        ("a\\b", "path separator '\\\\'"),
        ("a\tb", "control character '\\t' (U+0009)"),
        ("a\nb", "control character '\\n' (U+000A)"),
        ("a\x00b", "control character '\\x00' (U+0000)"),
        ("a\u2028b", "control character '\\u2028' (U+2028)"),
        ("", "is empty"),
        ("   ", "is empty"),
        ("\u200b", "is empty"),
        (" a", "white space"),
        ("A\u200b", "invisible character '\\u200b' (U+200B): it would tell apart ids"),
        ("\ufeffA", "invisible character '\\ufeff' (U+FEFF)"),
    ],
)
def test_ids_with_separators_control_characters_or_nothing_visible_are_refused(value, problem):
    assert problem in id_problem(value)


def test_batches_hold_the_ids_of_their_samples():
    from simsflow.studies import spectrum_batches

    ids = ["RuPd_Bi3++", "Cu (ref)", "10µm"]
    sheet = pd.DataFrame({"sample": ids, "kind": "spectrum", "batch": ["b 1", "b 1", "b+2"]})
    batches = spectrum_batches({"s": sheet})
    assert [b.samples for b in batches] == [ids[:2], ids[2:]]
    assert [b.key for b in batches] == ["b_1", "b_2"]
