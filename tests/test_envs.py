"""Per-rule conda environments provide every third-party module a rule's code imports, and
their pins agree with requirements.txt."""

import ast
import re
import sys
from pathlib import Path

import pytest
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
RULE = re.compile(r"^rule (\w+):\n(.*?)(?=^rule |\Z)", re.S | re.M)


def _rules():
    for path in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        for name, body in RULE.findall(path.read_text()):
            script = re.search(r'script:\n\s+"\.\./scripts/(\w+\.py)"', body)
            conda = re.search(r'conda:\n\s+"\.\./\.\./envs/(\w+\.yaml)"', body)
            if script:
                yield name, script.group(1), conda.group(1) if conda else None


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


RULES = list(_rules())


def test_every_rule_with_a_script_declares_an_env():
    assert len(RULES) >= 15
    assert all(env is not None for _, _, env in RULES), RULES


@pytest.mark.parametrize(("rule", "script", "env"), RULES, ids=[r[0] for r in RULES])
def test_rule_env_provides_its_imports(rule, script, env):
    files = reached_files(str(ROOT / "workflow" / "scripts" / script))
    modules = _third_party(files)
    provided = _env(env)
    missing = sorted(m for m in modules if CONDA_NAME.get(m, m) not in provided)
    assert not missing, f"{rule} imports {missing}, not in envs/{env}"


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


def test_cluster_profile_names_only_rules_the_workflow_has():
    # Snakemake ignores resources and groups of a rule it does not know: a renamed or merged
    # rule would silently lose its memory, runtime and grouping on the cluster
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    rules = {
        name
        for path in (ROOT / "workflow" / "rules").glob("*.smk")
        for name, _ in RULE.findall(path.read_text())
    }
    named = set(profile["set-resources"]) | set(profile["groups"])
    assert named and named <= rules, sorted(named - rules)
