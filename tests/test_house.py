"""The house rules of the library, checked on its source: every public function says what it
returns, and the readers and writers (io/) stand below the algorithms, never on them."""

import ast

import pytest

from .conftest import ROOT

LIBRARY = ROOT / "workflow" / "scripts" / "simsflow"
MODULES = sorted(p for p in LIBRARY.rglob("*.py") if "__pycache__" not in p.parts)
# the modules that compute: io/ must not import any of them
ALGORITHMS = {
    "integrate",
    "batch",
    "scaling",
    "estimators",
    "calibrate",
    "classify",
    "plots",
    "degradation",
    "imaging",
    "image_regions",
    "pca",
    "pca_report",
    "stats",
    "summed",
    "peaksearch",
    "peakfit",
    "archive",
    "autoscale",
    "model",
    "settings",
}


def _public_without_docstring(tree: ast.Module) -> list[str]:
    missing = []

    def walk(node, prefix=""):
        for item in node.body:
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                if item.name.startswith("_"):
                    continue
                if not ast.get_docstring(item):
                    missing.append(f"{prefix}{item.name} (line {item.lineno})")
                if isinstance(item, ast.ClassDef):
                    walk(item, f"{item.name}.")

    walk(tree)
    return missing


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(LIBRARY)))
def test_every_module_and_public_function_has_a_docstring(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if path.name != "__init__.py" or tree.body:
        assert ast.get_docstring(tree), f"{path.name}: no module docstring"
    assert _public_without_docstring(tree) == []


def _simsflow_imports(path) -> set[str]:
    """The simsflow modules a file imports (first name below simsflow), at any depth."""
    package = list(path.relative_to(LIBRARY.parent).parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = [*base, *(node.module.split(".") if node.module else [])]
            else:
                module = (node.module or "").split(".")
            if module and module[0] == "simsflow":
                names = [module[1]] if len(module) > 1 else [a.name for a in node.names]
                found.update(names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "simsflow" and len(parts) > 1:
                    found.add(parts[1])
    return found


@pytest.mark.parametrize("path", sorted((LIBRARY / "io").glob("*.py")), ids=lambda p: p.name)
def test_readers_and_writers_import_no_algorithm(path):
    assert _simsflow_imports(path) & ALGORITHMS == set()


def test_the_floor_check_sees_an_arrow_back_up(tmp_path):
    """The import reader finds relative and absolute imports of an algorithm (a check that
    cannot fail would prove nothing)."""
    io = LIBRARY / "io"
    probe = io / "_probe_for_test.py"
    probe.write_text("from ..scaling import make_scaler\nimport simsflow.calibrate\n")
    try:
        assert _simsflow_imports(probe) >= {"scaling", "calibrate"}
    finally:
        probe.unlink()


def _module_graph() -> dict[str, set[str]]:
    """simsflow module -> the simsflow modules it imports (files, dotted; at any depth)."""
    names = {
        ".".join(p.relative_to(LIBRARY.parent).with_suffix("").parts).removesuffix(".__init__")
        for p in MODULES
    }
    graph = {}
    for path in MODULES:
        me = ".".join(path.relative_to(LIBRARY.parent).with_suffix("").parts)
        me = me.removesuffix(".__init__")
        package = list(path.relative_to(LIBRARY.parent).parts[:-1])
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            else:
                module = node.module or ""
            for alias in node.names:
                full = f"{module}.{alias.name}"
                target = full if full in names else module
                if target in names and target != me and target != "simsflow":
                    found.add(target)
        graph[me] = found
    return graph


def test_no_two_modules_import_each_other_in_a_circle():
    graph = _module_graph()
    assert graph["simsflow.classify"] >= {"simsflow.scaling", "simsflow.checks"}  # it reads
    state: dict[str, int] = {}
    circles = []

    def visit(node, trail):
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                circles.append([*trail[trail.index(nxt) :], nxt] if nxt in trail else [nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert circles == []


def test_the_code_hash_follows_every_kind_of_import(tmp_path):
    """What a rule script reaches (its rerun trigger) includes imports in parentheses over
    several lines, inside functions, relative ones, and ``import simsflow.x as y``."""
    from simsflow.provenance import _imports

    package = tmp_path / "simsflow"
    (package / "io").mkdir(parents=True)
    source = package / "io" / "thing.py"
    source.write_text(
        "from ..errors import (\n    SimsflowError,  # why\n    InputFileError,\n)\n"
        "def f():\n    from . import tables\n    import simsflow.stats as s\n"
        "from simsflow.plots import save, style\n"
    )
    found = _imports(source, tmp_path)
    assert {
        "simsflow.errors.SimsflowError",
        "simsflow.errors.InputFileError",
        "simsflow.io.tables",
        "simsflow.stats",
        "simsflow.plots.style",
    } <= found


def _floors() -> dict[str, int]:
    """Each module's floor: one above the highest simsflow module it imports (the simulator,
    which only the demo and the tests run, and the package files left out)."""
    graph = {
        m.removeprefix("simsflow."): {d.removeprefix("simsflow.") for d in deps}
        for m, deps in _module_graph().items()
        if ".simulate" not in m and m not in ("simsflow", "simsflow.io")
    }
    floors: dict[str, int] = {}

    def floor(module: str) -> int:
        if module not in floors:
            floors[module] = 1 + max((floor(d) for d in graph[module] if d in graph), default=0)
        return floors[module]

    for module in graph:
        floor(module)
    return floors


def test_the_architecture_shows_the_floors_as_they_are():
    """docs/architecture.md's table of floors names every module on the floor its imports
    put it (a module that starts importing from higher up moves in the table too)."""
    import re

    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = text.split("## Floors: who imports whom", 1)[1]
    shown = {
        module: int(row[0])
        for row in re.findall(r"^\| (\d+) \| (.+) \|$", table, re.M)
        for module in re.findall(r"`([\w.]+)`", row[1])
    }
    assert shown == _floors()


@pytest.mark.parametrize(
    "path", sorted((ROOT / "workflow" / "report").glob("*.rst")), ids=lambda p: p.name
)
def test_every_report_caption_is_valid_restructured_text(path):
    """Snakemake renders each caption with docutils: '|loading|' in the PCA report's caption
    was an undefined substitution, printed as an error when the report was built."""
    import io

    from docutils.core import publish_doctree

    stream = io.StringIO()
    publish_doctree(
        path.read_text(encoding="utf-8"),
        settings_overrides={"report_level": 2, "halt_level": 5, "warning_stream": stream},
    )
    assert stream.getvalue() == ""
