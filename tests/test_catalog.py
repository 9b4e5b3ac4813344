"""What the Snakemake workflow catalog expects of a workflow: a licence, config/README.md that
documents every key and column, the catalog's usage file, a .test configuration that dry-runs,
benchmark files of the heavy rules, and deployment as a module from another workflow."""

import re
import shutil

import pandas as pd
import pytest
import yaml

from simsflow.config import load_schema
from simsflow.errors import SimsflowError
from simsflow.schemadoc import MARKER, config_reference, with_reference

from .conftest import ROOT, SCHEMAS, snakemake

CONFIG_README = ROOT / "config" / "README.md"


def _property_names(node, found):
    """Every key named under a `properties` mapping anywhere in a schema (read as plain YAML,
    independently of simsflow.schemadoc)."""
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            found.add(name)
            _property_names(sub, found)
        for key, sub in node.items():
            if key != "properties":
                _property_names(sub, found)
    elif isinstance(node, list):
        for sub in node:
            _property_names(sub, found)
    return found


@pytest.mark.parametrize("schema", ["config", "samples", "mass_list"])
def test_config_readme_documents_every_schema_property(schema):
    text = CONFIG_README.read_text(encoding="utf-8")
    names = _property_names(load_schema(SCHEMAS / f"{schema}.schema.yaml"), set())
    assert len(names) > 5
    # a key is documented as `name` or as the end of a dotted path, e.g. `calibration.min_ions`
    documented = set(re.findall(r"`(?:[\w\[\]]+\.)*(\w+)`", text))
    assert not sorted(names - documented)


def test_config_readme_reference_is_the_one_the_schemas_give():
    text = CONFIG_README.read_text(encoding="utf-8")
    assert text.count(MARKER) == 1
    assert text.split(MARKER)[1] == config_reference(SCHEMAS).split(MARKER)[1], (
        "run bin/simsflow config-doc --update config/README.md"
    )


def test_config_reference_states_types_and_defaults():
    reference = config_reference(SCHEMAS)
    assert "| `calibration.min_ions` | integer | `3` |" in reference
    assert "| `sample` | string | required |" in reference
    assert "| `on_error` | one of `stop`, `skip` | `stop` |" in reference
    assert "| `scaling.methods` | map of name to list of scaling step |" in reference
    # list items of an inline object get their own rows
    assert "| `classification.decision_boundaries[].mixture` | string | required |" in reference
    # names in angle brackets are not taken for HTML tags
    assert "results/&lt;study&gt;/qc/skipped.tsv" in reference


def test_config_doc_replaces_only_the_reference(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Mine\n\nhand-written\n\n{MARKER}\nstale\n", encoding="utf-8")
    from simsflow.__main__ import main

    assert main(["config-doc", "--update", str(readme)]) == 0
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# Mine\n\nhand-written\n\n") and "stale" not in text
    assert text.endswith(config_reference(SCHEMAS))


def test_config_doc_without_the_marker_says_where_it_goes():
    with pytest.raises(SimsflowError, match=r"^config/README.md: no line marks .* \(add the line"):
        with_reference("# no marker\n", "reference")


def test_licence_is_mit_and_the_readme_says_so():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n")
    assert re.search(r"\bMIT\b.*LICENSE|LICENSE.*\bMIT\b", (ROOT / "README.md").read_text())


def test_catalog_usage_file():
    usage = yaml.safe_load((ROOT / ".snakemake-workflow-catalog.yml").read_text())["usage"]
    assert usage["software-stack-deployment"]["conda"] is True  # every rule has a conda env
    assert usage["report"] is True
    assert "--cores" in usage["mandatory-flags"]["flags"]


# rules whose jobs do no analysis: the demo's simulator, the archive, and the job that reports
# studies left out for a configuration problem
NOT_BENCHMARKED = {"simulate_demo_sample", "archive_study", "configuration_errors"}


def test_every_analysis_rule_writes_a_benchmark_under_benchmarks_study(project_rules):
    scripted = [(name, bench) for name, script, _, bench in project_rules if script]
    missing = [n for n, b in scripted if n not in NOT_BENCHMARKED and b is None]
    assert not missing
    paths = {n: b for n, b in scripted if b is not None}
    assert len(paths) >= 15 and "spectra_batch_lithium_session1" in paths
    assert all(
        re.fullmatch(r"benchmarks/(\{study[^}]*\}|lithium)/.+\.tsv", b) for b in paths.values()
    )
    assert len(set(paths.values())) == len(paths)  # no two rules share a benchmark file
    # git-ignored, beside the benchmark code
    assert "benchmarks/*/" in (ROOT / ".gitignore").read_text().splitlines()


@pytest.mark.workflow
def test_dot_test_configuration_dry_runs(tmp_path):
    workdir = tmp_path / "test"
    shutil.copytree(ROOT / ".test", workdir, ignore=shutil.ignore_patterns(".snakemake", "data"))
    result = snakemake(workdir, "--snakefile", str(ROOT / "Snakefile"), "--dry-run")
    jobs = result.stdout + result.stderr
    for rule in ("spectra_batch_lithium_session1", "import_spectra", "train_classifier", "all"):
        assert re.search(rf"^{rule}\s+1$", jobs, re.M), jobs[-3000:]
    assert not (workdir / "results").exists()


# a second workflow that uses simsflow as a module, the way snakedeploy sets one up
DEPLOYED = """\
configfile: "config/config.yaml"


module simsflow:
    snakefile:
        {snakefile!r}
    config:
        config


use rule * from simsflow
"""


@pytest.mark.workflow
def test_simsflow_deploys_as_a_module_and_runs_the_lithium_demo_to_its_peak_table(tmp_path):
    project = tmp_path / "simsflow"  # the deployed copy, as snakedeploy would fetch it
    for name in ("workflow", "envs"):
        shutil.copytree(ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "Snakefile", project / "Snakefile")
    user = tmp_path / "analysis"  # the user's own workflow: its Snakefile and a copy of config/
    (user / "workflow").mkdir(parents=True)
    deployed = DEPLOYED.format(snakefile=str(project / "Snakefile"))
    (user / "workflow" / "Snakefile").write_text(deployed)
    shutil.copytree(ROOT / "config" / "lithium", user / "config" / "lithium")
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["studies"] = {"lithium": config["studies"]["lithium"]}
    (user / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

    snakemake(user, "--cores", "2", "results/lithium/peaks.parquet")

    peaks = pd.read_parquet(user / "results" / "lithium" / "peaks.parquet")
    sheet = pd.read_csv(user / "config" / "lithium" / "samples.tsv", sep="\t", dtype=str)
    ions = pd.read_csv(user / "config" / "lithium" / "mass_list.tsv", sep="\t")["ion"]
    assert list(peaks["sample"]) == list(sheet["sample"])
    assert set(ions) <= set(peaks.columns) and (peaks[list(ions)].to_numpy() >= 0).all()
    assert (peaks["total_counts"] > 0).all()
    # the simulator, logs and benchmark files land in the user's directory, not in simsflow's
    assert (user / "data" / "demo" / "lithium" / "raw" / "Li2CO3").is_dir()
    assert (user / "benchmarks" / "lithium" / "peak_table.tsv").is_file()
    assert not (project / "results").exists() and not (project / "data").exists()
    assert (user / "logs" / "lithium" / "peak_table.log").is_file()


# pages other branches create; remove a name once its page is merged
PENDING_PAGES: set[str] = set()
PAGES = ["README.md", "config/README.md", *(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))]


def test_readme_is_a_page():
    assert len((ROOT / "README.md").read_bytes()) <= 10_000
    text = (ROOT / "README.md").read_text()
    for command in ("make demo", "make test", "bin/simsflow sheet", "batch"):
        assert command in text
    for page in ("methods", "configuration", "outputs", "benchmarks", "bad-inputs"):
        assert f"(docs/{page}.md)" in text


@pytest.mark.parametrize("page", PAGES)
def test_every_relative_link_of_the_docs_leads_to_a_file(page):
    path = ROOT / page
    broken = []
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text()):
        if re.match(r"[a-z]+:", target):
            continue  # a web address
        resolved = (path.parent / target).resolve()
        relative = resolved.relative_to(ROOT).as_posix()
        if not resolved.exists() and relative not in PENDING_PAGES:
            broken.append(target)
    assert not broken
