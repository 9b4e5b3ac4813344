"""The test suite's own order (the SLURM test last, see conftest), markers, and the warnings
no test may end in."""

import ast
import re
import subprocess
import warnings
from types import SimpleNamespace

import pytest
from sklearn.exceptions import ConvergenceWarning

from . import conftest
from .conftest import ROOT, logs_with_unwanted_warnings, pytest_collection_modifyitems


def _item(name, slurm):
    return SimpleNamespace(
        name=name,
        get_closest_marker=lambda marker: object() if slurm and marker == "slurm" else None,
    )


def test_the_slurm_test_runs_after_every_other_test():
    items = [_item("a", False), _item("slurm", True), _item("b", False), _item("c", False)]
    pytest_collection_modifyitems(None, items)
    assert [i.name for i in items] == ["a", "b", "c", "slurm"]  # the others keep their order


# what a test that runs Snakemake on a copy of the project, or the benchmark, has in its text
RUNS_WORKFLOW = re.compile(r"copy_workflow\(|\bsnakemake\(|\bdemo_run\b|['\"]run\.py['\"]")


def _marked_workflow(node: ast.AST) -> bool:
    return any("mark.workflow" in ast.unparse(d) for d in getattr(node, "decorator_list", []))


def test_tests_that_run_the_workflow_carry_the_workflow_marker():
    # `pytest -m "not workflow"` is the quick library run: a test that starts Snakemake on a
    # copy of the project (minutes each) must not slip into it unmarked
    unmarked = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        tree = ast.parse(path.read_text())
        module_marked = any(
            isinstance(node, ast.Assign)
            and any(getattr(t, "id", None) == "pytestmark" for t in node.targets)
            and "workflow" in ast.unparse(node.value)
            for node in tree.body
        )
        for node in tree.body:
            if (
                isinstance(node, ast.FunctionDef)
                and node.name.startswith("test_")
                and RUNS_WORKFLOW.search(ast.unparse(node))
                and not (module_marked or _marked_workflow(node))
            ):
                unmarked.append(f"{path.name}::{node.name}")
    assert not unmarked, unmarked


def test_a_convergence_warning_fails_any_test():
    with pytest.raises(ConvergenceWarning):  # pyproject.toml: filterwarnings
        warnings.warn("lbfgs failed to converge", ConvergenceWarning, stacklevel=1)


def _logs(workdir, texts):
    for name, text in texts.items():
        (workdir / "logs" / name).parent.mkdir(parents=True, exist_ok=True)
        (workdir / "logs" / name).write_text(text)


def test_job_logs_naming_a_convergence_warning_are_found(tmp_path):
    _logs(
        tmp_path,
        {
            "lithium/train_classifier.log": "INFO simsflow: scaling auto chose total_ion\n",
            "wide/pca_report.log": "x.py:3: ConvergenceWarning: lbfgs failed to converge\nok\n",
        },
    )
    assert logs_with_unwanted_warnings(tmp_path) == [
        "logs/wide/pca_report.log: x.py:3: ConvergenceWarning: lbfgs failed to converge"
    ]
    assert logs_with_unwanted_warnings(tmp_path / "nothing_ran") == []


@pytest.mark.parametrize(
    ("log", "stderr"), [("ConvergenceWarning: lbfgs", ""), ("", "ConvergenceWarning: lbfgs")]
)
def test_a_workflow_run_that_warned_fails_its_test(tmp_path, monkeypatch, log, stderr):
    # a job's log, or Snakemake's own output (a warning raised before a script's log opened)
    _logs(tmp_path, {"s/job.log": log})
    done = subprocess.CompletedProcess([], 0, stdout="", stderr=stderr)
    monkeypatch.setattr(conftest.subprocess, "run", lambda *args, **kwargs: done)
    run_snakemake = conftest.snakemake  # with subprocess.run stubbed: no Snakemake starts
    with pytest.raises(AssertionError, match=r"warned:\n.*ConvergenceWarning: lbfgs"):
        run_snakemake(tmp_path, "--cores", "1")
