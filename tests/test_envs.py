"""Per-rule conda environments provide every third-party module a rule's code imports, and
their pins agree with requirements.txt."""

import ast
import sys
from pathlib import Path

import yaml

from simsflow.provenance import reached_files

from .conftest import ROOT

# import name -> conda package name
CONDA_NAME = {
    "sklearn": "scikit-learn",
    "yaml": "pyyaml",
    "pyimzml": "pyimzml",
    "matplotlib": "matplotlib-base",
    "rocrate": "rocrate",
}
OPTIONAL = {"pySPM"}  # optional extra, imported only when a user has it


def _third_party(files) -> set[str]:
    stdlib = set(sys.stdlib_module_names)
    found = set()
    for file in files:
        if file.suffix != ".py":
            continue
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in stdlib and top != "simsflow":
                    found.add(top)
    return found - OPTIONAL


def _env(name):
    spec = yaml.safe_load((ROOT / "envs" / name).read_text())
    assert spec["channels"] == ["conda-forge", "nodefaults"]
    return dict(dep.split("=", 1) for dep in spec["dependencies"])


def test_every_rule_with_a_script_declares_an_env(project_rules):
    names = {name for name, *_ in project_rules}
    assert len(project_rules) >= 15 and "all" in names
    # the .test sheet's two batches, each a rule of its own
    assert {"spectra_batch_lithium_session1", "spectra_batch_lithium_session2"} <= names
    assert all(env is not None for _, script, env, _ in project_rules if script), project_rules


def test_every_rule_env_provides_its_imports(project_rules):
    missing = {}
    for rule, script, env, _ in project_rules:
        if script is None:
            continue
        files = reached_files(str(ROOT / "workflow" / "scripts" / script))
        provided = _env(env)
        modules = sorted(m for m in _third_party(files) if CONDA_NAME.get(m, m) not in provided)
        if modules:
            missing[rule] = f"imports {modules}, not in envs/{env}"
    assert not missing, missing


def test_env_pins_agree_with_requirements():
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.strip().lower()] = version.strip()
    pins["matplotlib-base"] = pins["matplotlib"]
    for env in sorted(Path(ROOT / "envs").glob("*.yaml")):
        for package, version in _env(env.name).items():
            if package == "python":
                assert version == "3.11"
                continue
            assert pins.get(package) == version, f"{env.name}: {package}={version}"


def test_cluster_profile_names_only_rules_the_workflow_has(project_rules):
    # Snakemake ignores resources and groups of a rule it does not know: a renamed or merged
    # rule would silently lose its memory, runtime and grouping on the cluster
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    names = {name for name, *_ in project_rules}
    named = set(profile["set-resources"]) | set(profile["groups"])
    assert named and named <= names, sorted(named - names)
