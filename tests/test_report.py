"""The Snakemake report renders in headless Chromium with every figure present."""

import base64
import os
import re
import shutil
import subprocess

import pytest

from .conftest import snakemake

pytestmark = pytest.mark.workflow
URI = re.compile(r"data:image/png;charset=utf8;filename=([^;]+);base64,([A-Za-z0-9+/=]+)")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium():
    path = shutil.which("chromium")
    if path is None and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "chromium"],
            check=True,
            capture_output=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        path = shutil.which("chromium")
    if path is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    return path


@pytest.fixture(scope="module")
def report(demo_run):
    snakemake(demo_run, "--report", "results/report.html")
    return demo_run / "results" / "report.html"


def _chromium(binary, url, tmp_path, budget=20000):
    result = subprocess.run(
        [
            binary,
            *FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            f"--virtual-time-budget={budget}",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout, result.stderr


def test_report_renders_with_every_study(chromium, report, tmp_path):
    dom, log = _chromium(chromium, report.as_uri(), tmp_path)
    for study in ("lithium", "cathode", "cathode_images"):
        assert study in dom
    assert "Uncaught" not in log


def test_every_figure_is_in_the_report_and_decodes_in_chromium(
    chromium, report, demo_run, tmp_path
):
    text = report.read_text()
    embedded = URI.findall(text)
    names = {name for name, _ in embedded}
    produced = {p.name for p in (demo_run / "results").glob("*/figures/**/*.png")}
    assert produced and produced <= names
    # every embedded figure, loaded as an image by the browser, has a real size
    page = tmp_path / "figures.html"
    images = "".join(f'<img src="data:image/png;base64,{data}">' for _, data in embedded)
    page.write_text(
        "<html><body>" + images + '<div id="result">pending</div><script>'
        "window.onload = () => { const all = [...document.images];"
        "const ok = all.filter(i => i.complete && i.naturalWidth > 0).length;"
        "document.getElementById('result').textContent = ok + '/' + all.length; };"
        "</script></body></html>"
    )
    dom, _ = _chromium(chromium, page.as_uri(), tmp_path)
    result = re.search(r'<div id="result">([^<]*)</div>', dom).group(1)
    assert result == f"{len(embedded)}/{len(embedded)}"
    assert all(base64.b64decode(data[:24])[:8] == b"\x89PNG\r\n\x1a\n" for _, data in embedded)
