"""The test suite's own order: the SLURM test last (see conftest)."""

from types import SimpleNamespace

from .conftest import pytest_collection_modifyitems


def _item(name, slurm):
    return SimpleNamespace(
        name=name,
        get_closest_marker=lambda marker: object() if slurm and marker == "slurm" else None,
    )


def test_the_slurm_test_runs_after_every_other_test():
    items = [_item("a", False), _item("slurm", True), _item("b", False), _item("c", False)]
    pytest_collection_modifyitems(None, items)
    assert [i.name for i in items] == ["a", "b", "c", "slurm"]  # the others keep their order
