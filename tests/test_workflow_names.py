"""A study whose ion, group and class names are all hostile (path traversal, absolute paths,
separators, Windows device names, unicode, 300 characters, names differing only by case) runs
to the end, writes nothing outside results/<study>/ and logs/, and every name round-trips
through the figure folders' names.tsv."""

import pytest
import yaml

from simsflow.names import read_index

from .badinputs import LINES
from .conftest import copy_workflow, snakemake

pytestmark = pytest.mark.workflow

INTERVALS = [  # (mz, lower, upper): the mini study's intervals and three more
    (1.008, 0.95, 1.05),
    (12.0, 11.95, 12.05),
    (13.008, 12.95, 13.05),
    (16.0, 15.95, 16.05),
    (17.003, 16.95, 17.05),
    (25.008, 24.95, 25.07),
    (26.003, 25.95, 26.07),
    (32.0, 31.9, 32.05),
    (35.0, 34.9, 35.05),
]


def _hostile(outside, tag):
    """Nine hostile names: the traversals reach the folder above the project (``outside``)."""
    return [
        f"../{tag}",
        "../" * 7 + f"{tag}_escaped",
        f"{outside}/{tag}_abs",
        f"{tag}/b",
        {"ion": "CON", "group": "NUL", "class": "com1"}[tag],
        f"ünï ₂⁻ {tag}",
        tag[0].upper() * 300,
        f"Zz{tag}",
        f"zZ{tag}",
    ]


def _spectrum(k: int, cls: int) -> bytes:
    """The fixture export with the counts of one interval raised (a class of its own, ``cls``)
    and one count changed (a distinct file per spot, ``k``)."""
    lines = list(LINES)
    _, lower, upper = INTERVALS[cls % len(INTERVALS)]
    for n, line in enumerate(lines[3:], start=3):
        fields = line.split("\t")
        if len(fields) == 3 and lower <= float(fields[1]) <= upper:
            lines[n] = "\t".join([*fields[:2], str(int(fields[2]) * 5 + 200)])
    channel, mz, counts = lines[500].split("\t")
    lines[500] = "\t".join([channel, mz, str(int(counts) + k + 1)])
    return "\r\n".join(lines).encode()


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    outside = root / "outside"
    outside.mkdir()
    workdir = copy_workflow(root / "wf")
    ions, groups, classes = (_hostile(outside, t) for t in ("ion", "group", "class"))
    groups[-1] = ""  # an ion without group
    mass_list = ["ion\tmz\tlower\tupper\tgroup"]
    mass_list += [
        f"{ion}\t{mz}\t{lo}\t{hi}\t{group}"
        for ion, group, (mz, lo, hi) in zip(ions, groups, INTERVALS, strict=True)
    ]
    sheet = ["sample\tspot\tfile\trole\tlabel"]
    for c, cls in enumerate([*classes, ""]):
        sample, role = (f"T{c}", "train") if cls else ("M", "predict")
        for spot in (1, 2):
            sheet.append(f"{sample}\t{spot}\t{sample}/{spot}.txt\t{role}\t{cls}")
            path = workdir / "data" / "mini" / sample / f"{spot}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(_spectrum(2 * c + spot, c))
    (workdir / "config" / "mini").mkdir(parents=True)
    (workdir / "config" / "mini" / "mass_list.tsv").write_text(
        "\n".join(mass_list) + "\n", encoding="utf-8"
    )
    (workdir / "config" / "mini" / "samples.tsv").write_text(
        "\n".join(sheet) + "\n", encoding="utf-8"
    )
    pairs = [classes[k : k + 2] for k in range(0, 8, 2)] + [[classes[8], classes[0]]]
    config = {
        "studies": {
            "mini": {
                "sample_sheet": "config/mini/samples.tsv",
                "mass_list": "config/mini/mass_list.tsv",
                "data_dir": "data/mini",
                # every other ion drawn too, in extra/: every name reaches a file
                "scaling": {
                    "important_ions": ions[:5],
                    "important_groups": [],
                    "boxplots": "all",
                },
                "classification": {
                    "folds": 2,
                    "n_bootstrap": 0,
                    "decision_boundaries": [
                        {"class": a, "versus": b, "mixture": "M"} for a, b in pairs
                    ],
                },
            }
        }
    }
    (workdir / "config" / "config.yaml").write_text(
        yaml.safe_dump(config, allow_unicode=True), encoding="utf-8"
    )
    before = {p for p in root.rglob("*") if p.is_file()}
    snakemake(workdir, "--cores", "2")
    after = {p for p in root.rglob("*") if p.is_file()}
    return workdir, after - before, ions, groups, classes


def test_nothing_is_written_outside_results_and_logs(hostile_run):
    workdir, written, *_ = hostile_run
    # besides results and logs: Snakemake's own metadata, and the rules' benchmark tables, named
    # only by the study, sample and scaling ids of the wildcards (never by an ion, group or class)
    allowed = [
        workdir / "results" / "mini",
        workdir / "logs",
        workdir / ".snakemake",
        workdir / "benchmarks" / "mini",
    ]
    outside = sorted(str(p) for p in written if not any(p.is_relative_to(a) for a in allowed))
    assert outside == []
    assert any(p.is_relative_to(workdir / "results" / "mini" / "figures") for p in written)
    for path in written:  # no link, no '..' in a path written
        assert ".." not in path.relative_to(workdir).parts


def _indexed(folder, kind):
    index = read_index(folder / "names.tsv")
    part = index[index["kind"] == kind]
    return dict(zip(part["name"], part["slug"], strict=True))


def test_every_name_round_trips_through_the_index(hostile_run):
    workdir, _, ions, groups, classes = hostile_run
    boxplots = workdir / "results" / "mini" / "figures" / "boxplots" / "total_ion"
    ion_slugs = {**_indexed(boxplots, "ion"), **_indexed(boxplots / "extra", "ion")}
    assert set(ion_slugs) == set(ions)
    group_slugs = _indexed(boxplots, "group")
    assert set(group_slugs) == {g or "ungrouped" for g in groups}  # a figure per group
    assert len({s.casefold() for s in [*ion_slugs.values(), *group_slugs.values()]}) == len(
        ion_slugs
    ) + len(group_slugs)
    for ion in ions[:5]:
        assert (boxplots / f"{ion_slugs[ion]}.png").is_file()
    for ion in ions[5:]:
        assert (boxplots / "extra" / f"{ion_slugs[ion]}.png").is_file()
    for slug in group_slugs.values():
        assert (boxplots / f"{slug}.png").is_file()
    pca = workdir / "results" / "mini" / "figures" / "pca"
    class_slugs = _indexed(pca, "class")
    assert set(class_slugs) == set(classes)
    decision = sorted(p.name for p in pca.glob("decision_*.png"))
    assert len(decision) == 5
    for cls, slug in class_slugs.items():
        assert any(f"_{slug}_" in name or name.endswith(f"_{slug}.png") for name in decision), cls


def test_tables_keep_the_names_as_written(hostile_run):
    import pandas as pd

    workdir, _, ions, _, classes = hostile_run
    peaks = pd.read_parquet(workdir / "results" / "mini" / "peaks.parquet")
    assert set(ions) <= set(peaks.columns)
    assert set(peaks.loc[peaks["role"] == "train", "label"]) == set(classes)
    stats = pd.read_csv(
        workdir / "results" / "mini" / "stats" / "total_ion.tsv", sep="\t", keep_default_na=False
    )
    assert set(stats["ion"]) == set(ions)
