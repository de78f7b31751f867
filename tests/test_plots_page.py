"""The page `dvc plots show` and `dvc plots diff` write draws every plot with no network, in a real browser,
and never runs what it shows (issue 23 #1: a revision named `x</script><script>...`).

.dvc/config points DVC at .dvc/plots/offline.html (tools/plots_html.py), which inlines Vega and draws
each plot as SVG. Headless Chromium (Debian's `chromium`; .ci/run installs it) opens the page with
every network request refused, runs its scripts, and the DOM it dumps must hold marks (points, lines,
bars) in every data plot: a blank plot, an error text or a script that never ran fails the test.
Hostile revision names are a table: each one a branch of a scratch repository holding the project's
plots, `dvc plots diff` against it, and the page must keep its title, draw every plot and show the
name as text.
"""

import base64
import hashlib
import html as html_module
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
import yaml

from tests.conftest import ROOT, dvc, git

pytestmark = pytest.mark.pipeline

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
REQUIRED = os.environ.get("FROMZERO_REQUIRE_BROWSER") == "1"  # .ci/run sets it: there, a missing browser fails
# dvc.yaml's data plots (those drawn from a template), each one plot on DVC's page.
DATA_PLOTS = sum(isinstance(plot, dict) and "template" in next(iter(plot.values()))
                 for plot in yaml.safe_load((ROOT / "dvc.yaml").read_text())["plots"])


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
def test_every_plot_on_dvcs_own_page_draws_offline(pipeline_repo, tmp_path, command):
    require_browser()
    repo = pipeline_repo
    out = tmp_path / "page"
    dvc(*command, "--out", str(out), cwd=repo)
    page = out / "index.html"
    html = page.read_text(encoding="utf-8")
    assert "cdn.jsdelivr" not in html and "<script src=" not in html  # nothing to fetch
    plot_ids = re.findall(r"vegaEmbed\('#([^']+)'", html)
    assert len(plot_ids) == DATA_PLOTS, plot_ids  # loss, predicted vs actual, response, correlation, pieces
    images = re.findall(r'<img src="(static/[^"]+)"', html)  # DVC's image plots, copied beside the page
    assert images and all((out / image).is_file() for image in images), images

    dom = render_offline(page)
    marks = Marks(plot_ids)
    marks.feed(dom)
    blank = [plot for plot in plot_ids if marks.marks.get(plot, 0) == 0]
    assert not blank, f"plots drawn with no marks: {blank} (marks per plot: {marks.marks})"
    assert not marks.errors, marks.errors


# ---- hostile revision names (issue 23 #1) ---------------------------------------------------------

def require_browser():
    if BROWSER is None:
        if REQUIRED:
            pytest.fail("no chromium on PATH, and FROMZERO_REQUIRE_BROWSER=1 (.ci/run installs it)")
        pytest.skip("no chromium on PATH: `apt-get install chromium` (.ci/run does) to run the browser test")


# One row per way a name can get out of its place in DVC's markup: the JSON inside the data plot's
# <script>, the image plot's <p> title, the image's src attribute, an HTML comment, the page's own
# placeholders. Each is a valid git branch name (no space, `~^:?*[\\`, `..` or `@{`).
HOSTILE_REVISIONS = {
    "closes the data's script": "x</script><script>document.title='PWNED'</script>",
    "adds an attribute to the image": 'y"onerror="document.title=\'PWNED\'"x="',
    "closes the plaintext": "z</plaintext><script>document.title='PWNED'</script>",
    "opens a comment and a new body": "c<!--x--></body><body/onload=document.title='PWNED'>",
    "names the page's placeholders": "p{plot_divs}{scripts}<svg/onload=document.title='PWNED'>",
}
PLOT_FILES = ["plots/templates/loss.json", "plots/templates/predicted_vs_actual.json", "plots/templates/response.json",
              "plots/templates/correlation.json", "plots/templates/pieces.json", "plots/evaluate/loss.csv",
              "plots/evaluate/predictions.csv", "plots/evaluate/response.csv", "plots/evaluate/pieces.csv",
              "plots/eda/ranking.csv", "plots/eda/heatmap.png"]


@pytest.fixture(scope="module")
def hostile_page(tmp_path_factory):
    """`dvc plots diff` of every hostile branch against a workspace that moved one model's predictions,
    in a scratch repository holding the project's plots (dvc.yaml's data plots and one image), its
    templates and its page template: (page path, page text)."""
    repo = tmp_path_factory.mktemp("hostile-page") / "repo"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    dvc("init", "-q", cwd=repo)
    shutil.copy(ROOT / ".dvc/config", repo / ".dvc/config")
    (repo / ".dvc/plots").mkdir()
    shutil.copy(ROOT / ".dvc/plots/offline.html", repo / ".dvc/plots/offline.html")
    for name in PLOT_FILES:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, repo / name)
    plots = yaml.safe_load((ROOT / "dvc.yaml").read_text())["plots"]
    kept = [entry for entry in plots if isinstance(entry, dict) or entry in PLOT_FILES]
    (repo / "dvc.yaml").write_text(yaml.safe_dump({"plots": kept}, sort_keys=False))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "plots", cwd=repo)
    for name in HOSTILE_REVISIONS.values():
        git("branch", name, cwd=repo)
        assert git("rev-parse", "--verify", name, cwd=repo).returncode == 0, name
    predictions = repo / "plots/evaluate/predictions.csv"
    lines = predictions.read_text().splitlines()
    moved = [line.rsplit(",", 1)[0] + ",20.0" if line.startswith("gd,") else line for line in lines]
    predictions.write_text("\n".join(moved) + "\n")
    image = repo / "plots/eda/heatmap.png"
    image.write_bytes(image.read_bytes() + b"\0")  # the image changed too: each revision's is shown
    dvc("plots", "diff", *HOSTILE_REVISIONS.values(), "--out", "page", cwd=repo)
    page = repo / "page" / "index.html"
    return page, page.read_text(encoding="utf-8")


def test_everything_dvc_writes_into_the_page_lands_after_plaintext_under_a_policy_that_allows_only_its_scripts(
        hostile_page):
    """Without a browser: the page is the template's head, then DVC's markup inside <plaintext> (which no
    end tag closes), and its Content-Security-Policy allows exactly the template's own scripts."""
    _, page = hostile_page
    template = (ROOT / ".dvc/plots/offline.html").read_text(encoding="utf-8")
    head, placeholder, tail = template.partition("{plot_divs}")
    assert placeholder and not tail.strip(), "{plot_divs} must be the template's last thing"
    assert head.rstrip().endswith('<plaintext hidden id="dvc-plots">')
    assert head.count("{refresh_tag}") == 1 and "{scripts}" not in template  # DVC adds no CDN script
    assert page.startswith(head.replace("{refresh_tag}", ""))
    for name in HOSTILE_REVISIONS.values():
        assert page.count(name) >= 1 and page.index(name) > len(head) - len("{refresh_tag}"), name
    scripts = re.findall(r"<script>(.*?)</script>", head, flags=re.S)
    assert len(scripts) == 2  # Vega's bundle, the page's loader
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', head).group(1)
    allowed = set(re.search(r"script-src ([^;]*)", policy).group(1).split())
    assert allowed == {"'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
                       for script in scripts}
    assert "default-src 'none'" in policy and "unsafe-eval" not in policy and "unsafe-inline" not in allowed


@pytest.mark.parametrize("case", [*HOSTILE_REVISIONS, "markup outside the plaintext (the policy alone)"])
def test_a_hostile_revision_name_is_shown_as_text_and_runs_nothing(hostile_page, case, tmp_path):
    require_browser()
    page, text = hostile_page
    if case not in HOSTILE_REVISIONS:  # were the <plaintext> gone, the policy alone stops a script and a handler
        injected = "<script>document.title='PWNED'</script><img src=x onerror=\"document.title='PWNED'\">"
        text = text.replace('<plaintext hidden id="dvc-plots">', injected + '<plaintext hidden id="dvc-plots">', 1)
    copy = page.parent / f"case-{list(HOSTILE_REVISIONS).index(case) if case in HOSTILE_REVISIONS else 'csp'}.html"
    copy.write_text(text, encoding="utf-8")
    dom = render_offline(copy)
    assert re.search(r"<title>(.*?)</title>", dom).group(1) == "fromzero plots", case
    plot_ids = re.findall(r"vegaEmbed\('#([^']+)'", text)
    assert len(plot_ids) == DATA_PLOTS, plot_ids
    marks = Marks(plot_ids)
    marks.feed(dom)
    assert all(marks.marks.get(plot, 0) > 0 for plot in plot_ids), marks.marks
    assert not marks.errors and "not drawn: " not in dom.split("</script>")[-1], case
    captions = [html_module.unescape(caption) for caption in re.findall(r"<figcaption>(.*?)</figcaption>", dom)]
    assert set(HOSTILE_REVISIONS.values()) <= set(captions), captions  # each name, as text, under its image
    assert "<plaintext" not in dom  # read, then removed: the DOM holds only what the page built


def test_markup_the_page_cannot_read_is_said_and_runs_nothing(tmp_path):
    """A DVC that writes another layout (or anything else) into {plot_divs}: a sentence says so, no script runs."""
    require_browser()
    template = (ROOT / ".dvc/plots/offline.html").read_text(encoding="utf-8")
    page = tmp_path / "index.html"
    page.write_text(template.replace("{refresh_tag}", "").replace(
        "{plot_divs}", "<section><script>document.title='PWNED'</script><p>a plot</p></section>"), encoding="utf-8")
    dom = render_offline(page)
    assert re.search(r"<title>(.*?)</title>", dom).group(1) == "fromzero plots"
    assert "This page could not read the plots this DVC wrote into it" in dom.split("</script>")[-1]
