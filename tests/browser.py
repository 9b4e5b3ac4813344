"""Test helpers: a Snakemake report opened in headless Chromium (Debian's `chromium`).

The report is a React page; its figures are data URIs that the page shows one at a time. The
helpers here let the browser itself say what it rendered: every figure embedded in the report
loaded as an image (``embedded_figures_load``), and every figure of some report categories shown
by the report's own view and decoded in its DOM (``report_figures_rendered``)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

URI = re.compile(r"data:image/png;charset=utf8;filename=([^;]+);base64,([A-Za-z0-9+/=]+)")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
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


def find_chromium() -> str | None:
    """The path of Debian's chromium; installed with apt-get first when missing and the tests
    run as root (as in CI). None when it is not there."""
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
    return path


def dump_dom(binary: str, url: str, tmp_path: Path, budget: int = 20000) -> tuple[str, str]:
    """The DOM of ``url`` after ``budget`` ms of virtual time in headless Chromium, and the
    browser's log (where uncaught script errors show)."""
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


def embedded_figures(report: Path) -> list[tuple[str, str]]:
    """(file name, base64 data) of every PNG figure embedded in a report."""
    return URI.findall(report.read_text())


def embedded_figures_load(binary: str, report: Path, tmp_path: Path) -> tuple[int, int]:
    """(loaded, embedded): how many of a report's embedded PNG figures Chromium loads as images
    with a real size, of how many there are; each also starts with the PNG signature."""
    embedded = embedded_figures(report)
    assert all(base64_png(data) for _, data in embedded)
    page = tmp_path / "figures.html"
    images = "".join(f'<img src="data:image/png;base64,{data}">' for _, data in embedded)
    page.write_text(
        "<html><body>" + images + '<div id="result">pending</div><script>'
        "window.onload = () => { const all = [...document.images];"
        "const ok = all.filter(i => i.complete && i.naturalWidth > 0).length;"
        "document.getElementById('result').textContent = ok + '/' + all.length; };"
        "</script></body></html>"
    )
    dom, _ = dump_dom(binary, page.as_uri(), tmp_path)
    loaded, total = re.search(r'<div id="result">(\d+)/(\d+)</div>', dom).groups()
    return int(loaded), int(total)


def base64_png(data: str) -> bool:
    """Whether base64 ``data`` starts with the PNG signature."""
    import base64

    return base64.b64decode(data[:24])[: len(PNG_SIGNATURE)] == PNG_SIGNATURE


# Appended to a copy of the report: once the page has loaded and React has mounted, it opens
# each subcategory of the asked categories and shows each of its PNG results as a click on it
# would (the report's own `app.setView`; `app` is its global App), waits for the <img> React
# renders in the content pane to load, and writes what it saw into <pre id="simsflow-figures">.
# It polls rather than awaiting img.decode(): under a virtual-time budget a pending decode lets
# the budget run out before the page is done.
DRIVER = """
<script>
window.addEventListener("load", async () => {
  const wait = () => new Promise(resolve => setTimeout(resolve, 20));
  const seen = [];
  for (let i = 0; i < 500 && typeof app === "undefined"; i++) await wait();  // React mounts late
  for (const category of %s) {
    for (const [subcategory, paths] of Object.entries(categories[category] || {})) {
      app.setView({navbarMode: "subcategory", category: category, subcategory: subcategory});
      for (const path of paths) {
        const entry = results[path];
        if (entry.mime_type !== "image/png") continue;
        app.setView({content: "img", contentPath: entry.data_uri, resultPath: path});
        let img;
        for (let i = 0; i < 100 && !(img && img.complete); i++) {
          await wait();
          img = [...document.images].find(i => i.src === entry.data_uri);
        }
        const error = !img ? "not rendered" : !img.complete ? "not loaded" : "";
        const width = img ? img.naturalWidth : 0, height = img ? img.naturalHeight : 0;
        seen.push({category, subcategory, path, name: entry.name, width, height, error,
                   png: entry.data_uri.startsWith("data:image/png;")});
      }
    }
  }
  const out = document.createElement("pre");
  out.id = "simsflow-figures";
  out.textContent = JSON.stringify(seen);
  document.body.appendChild(out);
});
</script>
"""


def report_figures_rendered(
    binary: str, report: Path, categories: list[str], tmp_path: Path
) -> list[dict]:
    """What Chromium rendered of the PNG results of ``categories`` in a copy of ``report``:
    one dict per result (category, subcategory, path, name, error, png: whether its data URI
    says PNG, and width and height as loaded: 0 when the browser could not decode it)."""
    page = tmp_path / "report_driven.html"
    text = report.read_text()
    head, end, tail = text.rpartition("</body>")  # the page's own; captions may hold others
    assert end, f"{report} has no </body>"
    page.write_text(head + DRIVER % json.dumps(categories) + end + tail)
    dom, log = dump_dom(binary, page.as_uri(), tmp_path, budget=120000)
    assert "Uncaught" not in log, log[-2000:]
    found = re.search(r'<pre id="simsflow-figures">([^<]*)</pre>', dom)
    assert found, "the report did not finish showing its figures"
    return json.loads(found.group(1).replace("&amp;", "&").replace("&quot;", '"'))
