"""The page `dvc plots show` and `dvc plots diff` write draws every plot with no network, in a real browser.

.dvc/config points DVC at .dvc/plots/offline.html (tools/plots_html.py), which inlines Vega and draws
each plot as SVG. Headless Chromium (Debian's `chromium`; .ci/run installs it) opens the page with
every network request refused, runs its scripts, and the DOM it dumps must hold marks (points, lines,
bars) in every data plot: a blank plot, an error text or a script that never ran fails the test.
"""

import os
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from tests.conftest import ROOT, dvc

pytestmark = pytest.mark.pipeline

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
REQUIRED = os.environ.get("FROMZERO_REQUIRE_BROWSER") == "1"  # .ci/run sets it: there, a missing browser fails


def test_the_committed_page_template_is_what_this_vl_convert_bundles():
    from tools import plots_html

    assert not plots_html.stale(ROOT / plots_html.TEMPLATE_PATH), "run `python -m tools.plots_html --write`"
    assert "html_template = plots/offline.html" in (ROOT / ".dvc/config").read_text()


class Marks(HTMLParser):
    """Per vega plot div (DVC's `<div id=...>` holding a vegaEmbed call): the data marks drawn inside it."""

    def __init__(self, plot_ids):
        super().__init__()
        self.plot_ids, self.stack, self.marks, self.errors = set(plot_ids), [], {}, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        plot = attrs.get("id") if attrs.get("id") in self.plot_ids else None
        inside = next((entry[1] for entry in reversed(self.stack) if entry[1]), None)
        in_mark = any("role-mark" in (entry[2] or "") for entry in self.stack)
        self.stack.append((tag, plot, attrs.get("class")))
        if inside and in_mark and tag in ("path", "line", "rect", "circle"):
            self.marks[inside] = self.marks.get(inside, 0) + 1
        if tag == "div" and "error" in (attrs.get("class") or ""):
            self.errors.append(inside)

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break


def render_offline(page):
    """The DOM after the page's scripts ran, in headless Chromium with the network refused."""
    profile = page.parent / "chromium-profile"
    result = subprocess.run(
        [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-quic", f"--user-data-dir={profile}",
         "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",  # any http(s) request fails
         "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=30000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.parametrize("command", [["plots", "show"], ["plots", "diff", "HEAD~1"]])
def test_every_plot_on_dvcs_own_page_draws_offline(baseline_repo, tmp_path, command):
    if BROWSER is None:
        if REQUIRED:
            pytest.fail("no chromium on PATH, and FROMZERO_REQUIRE_BROWSER=1 (.ci/run installs it)")
        pytest.skip("no chromium on PATH: `apt-get install chromium` (.ci/run does) to run the browser test")
    import re

    repo, _ = baseline_repo
    out = tmp_path / "page"
    dvc(*command, "--out", str(out), cwd=repo)
    page = out / "index.html"
    html = page.read_text(encoding="utf-8")
    assert "cdn.jsdelivr" not in html and "<script src=" not in html  # nothing to fetch
    plot_ids = re.findall(r"vegaEmbed\('#([^']+)'", html)
    assert len(plot_ids) == 4, plot_ids  # loss, predicted vs actual, response, correlation
    images = re.findall(r'<img src="(static/[^"]+)"', html)  # DVC's image plots, copied beside the page
    assert images and all((out / image).is_file() for image in images), images

    dom = render_offline(page)
    marks = Marks(plot_ids)
    marks.feed(dom)
    blank = [plot for plot in plot_ids if marks.marks.get(plot, 0) == 0]
    assert not blank, f"plots drawn with no marks: {blank} (marks per plot: {marks.marks})"
    assert not marks.errors, marks.errors
