"""The Snakemake report renders in headless Chromium with every figure present."""

import pytest

from .browser import dump_dom, embedded_figures, embedded_figures_load
from .conftest import snakemake

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def report(demo_run):
    snakemake(demo_run, "--report", "results/report.html")
    return demo_run / "results" / "report.html"


def test_report_renders_with_every_study(chromium, report, tmp_path):
    dom, log = dump_dom(chromium, report.as_uri(), tmp_path)
    for study in ("lithium", "cathode", "cathode_images"):
        assert study in dom
    assert "Uncaught" not in log


def test_every_figure_is_in_the_report_and_decodes_in_chromium(
    chromium, report, demo_run, tmp_path
):
    embedded = embedded_figures(report)
    names = {name for name, _ in embedded}
    produced = {p.name for p in (demo_run / "results").glob("*/figures/**/*.png")}
    assert produced and produced <= names
    # every embedded figure, loaded as an image by the browser, has a real size
    assert embedded_figures_load(chromium, report, tmp_path) == (len(embedded), len(embedded))
