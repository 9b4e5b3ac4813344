"""The test suite's own order (the SLURM test last, see conftest) and markers."""

import ast
import re
from types import SimpleNamespace

from .conftest import ROOT, pytest_collection_modifyitems


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
