"""tools/report.py: the pull-request comment, its charts, what it shows from data, and what --out may replace.

Most tests build the report from synthetic findings (no git, no DVC, no pipeline): the leaderboard,
the gates (an exempt model), the Mermaid charts, the comment limit, and a corpus of hostile values
through every place the report writes data, rendered by a CommonMark renderer (markdown-it-py, raw
HTML allowed as GitHub allows it). Hostile command lines are a table: exit 2, one stderr line, no
traceback, nothing replaced. Hostile inputs to the whole command (issue 23 #5 and #11) run it in a
scratch git repository, DVC's diffs standing in as empty: a broken base (a table, one row per class),
the current run holding NaN, a models.yaml without a reference, model names and counts models.yaml's
rules would refuse, numbers far from 1, and the count of pictures. Two `pipeline` tests run the tool
in a scratch git + DVC repo (no `dvc repro`): with hostile names in the params, metrics and base
branch, and under a `ulimit -v` that vl-convert cannot live with.
"""

import html
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from project.errors import UserError
from project.models import Registry
from tests.conftest import ROOT, dvc_env, git
from tools import report
from tools.changes import leaderboard
from tools.charts import BASE_GREY, LOSS_POINTS
from tools.comment import build_report
from tools.findings import Findings
from tools.gates import gate_results
from tools.markdown import COMMENT_LIMIT, SHOWN_CHARACTERS, code, mermaid_text, visible
from tools.owned import OwnedError, stamp
from tools.pictures import Picture, render_specs
from tools.pictures_folder import TOOL, owned_pictures, pictures_index, write_pictures
from tools.readings import read_loss

SETTINGS = {"resamples": 200, "seed": 0, "confidence": 0.95}
NAMES = ["baseline", "least_squares", "knn", "random_search", "gd", "net"]
MSE = {"baseline": 75.0, "least_squares": 46.1, "knn": 46.0, "random_search": 68.5, "gd": 46.2, "net": 35.4}
GATES = {"max_mse_ratio": {"net": 1.0, "gd": 1.01}, "regression_tolerance": 0.02, "exempt": [],
         "beats_reference": []}


def scores(mse, reference="least_squares"):
    return {model: {"mse": value, "rmse": value ** 0.5, "mse_low": value * 0.6, "mse_high": value * 1.5,
                    "r2": 0.3, **({} if model == reference else {"vs_reference": value - 46.1,
                                                                 "vs_reference_low": value - 60,
                                                                 "vs_reference_high": value - 30})}
            for model, value in mse.items()}


def registry_of(names):
    """A Registry of ``names`` with the tutorial's roles where it has those models (entries are not read)."""
    return Registry({name: None for name in names}, baseline="baseline" if "baseline" in names else None,
                    reference="least_squares" if "least_squares" in names else None)


def findings(names=NAMES, mse=None, base_mse=None, gates=None, moves=None, **overrides):
    """Findings of a synthetic change: test scores now and at the base, gates, loss curves, pictures."""
    mse = mse or {name: MSE.get(name, 50.0 + i) for i, name in enumerate(names)}
    base_mse = base_mse if base_mse is not None else mse
    current, base = scores(mse), scores(base_mse)
    gates = {**GATES, **(gates or {})}
    gates["max_mse_ratio"] = {model: ratio for model, ratio in gates["max_mse_ratio"].items() if model in names}
    registry = registry_of(names)
    board = leaderboard(names, current, base, {name: {"mse_mean": v, "mse_std": 3.0} for name, v in mse.items()},
                        moves or {}, baseline=registry.baseline)
    steps = np.arange(0.0, 2000.0, 10.0)
    loss = {name: ("step", steps, 600 * np.exp(-steps / 100) + 40 + i) for i, name in enumerate(names[-2:])}
    from stages.style import model_colors

    values = dict(
        base_name="main", revision="a" * 40,
        params_diff={"params.yaml": {"lr": {"old": 0.01, "new": 0.001}}},
        metrics_diff={"metrics/evaluate.json": {f"details.test.{name}.mse": {"old": base_mse[name], "new": mse[name]}
                                                for name in names}},
        board=board, gates=gate_results(registry, current, base, gates),
        gate_settings=gates, worst=[(3, 50.0, 30.0), (7, 13.0, 25.0)],
        pictures=[Picture("leaderboard", ["leaderboard.png"]), Picture("residuals", ["residuals.png"])],
        settings=SETTINGS, folds=5, has_base=True, pairing="paired", colors=model_colors(names),
        loss=loss, base_loss=loss, baseline=registry.baseline, reference=registry.reference)
    values.update(overrides)
    return Findings(**values)


# ---- reading rendered Markdown as GitHub would ---------------------------------------------------

def render(markdown):
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(markdown)


class Page(html.parser.HTMLParser):
    """Every element, attribute and comment of a rendered page, and its text outside code."""

    def __init__(self, page):
        super().__init__(convert_charrefs=True)
        self.tags, self.comments, self.outside_code, self.depth = [], [], [], 0
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, tuple(attrs)))
        self.depth += tag in ("code", "pre")

    def handle_endtag(self, tag):
        self.depth -= tag in ("code", "pre")

    def handle_comment(self, data):
        self.comments.append(data)

    def handle_data(self, data):
        if not self.depth:
            self.outside_code.append(data)


REPORT_TAGS = {"h1", "h2", "h3", "p", "ul", "li", "strong", "em", "code", "pre", "table", "thead", "tbody", "tr",
               "th", "td", "details", "summary"}


def table_cells(line):
    """The cells of a Markdown table row as GitHub splits them: at every `|` not escaped by a backslash."""
    row = line.strip()[1:]
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    cells, current, escaped = [], "", False
    for char in row:
        if char == "|" and not escaped:
            cells.append(current)
            current = ""
        else:
            current += char
        escaped = char == "\\"
    return cells + [current]


MERMAID_STATEMENT = re.compile(r'    (title "[^"]*"|x-axis ("[^"]*" )?(\[("[^"]*"(, )?)+\]|-?[\d.]+ --> -?[\d.]+)|'
                               r'y-axis "[^"]*"( -?[\d.]+ --> -?[\d.]+)?|(bar|line) \[-?[\d.]+(, -?[\d.]+)*\])')
MERMAID_STRING = re.compile(r'"([^"]*)"')


def assert_data_stays_data(markdown, markers=()):
    """The checks of issue 19 on a whole report: only the report's own elements and attributes, no
    comment, nothing of ``markers`` (fragments of the payloads) outside code, no mention, tables whole,
    Mermaid blocks whose every line is one of the chart's statements and whose strings are plain."""
    page = Page(render(markdown))
    for tag, attrs in page.tags:
        assert tag in REPORT_TAGS, (tag, attrs)
        assert attrs in ((), (("class", "language-mermaid"),)), (tag, attrs)
    assert not page.comments, page.comments
    outside = "".join(page.outside_code)
    for marker in markers:
        assert marker not in outside, (marker, outside)
    assert not re.search(r"(?<![\w`])@[A-Za-z0-9]", outside), outside  # no @mention
    assert "\u202e" not in markdown and "\u202e" not in outside

    lines = markdown.splitlines()
    fenced, mermaid, blocks = False, [], [[]]
    for line in lines:
        if line.startswith("```"):
            fenced = not fenced
            if fenced:
                assert line == "```mermaid", line
                mermaid.append([])
        elif fenced:
            mermaid[-1].append(line)
        elif line.startswith("|"):  # consecutive table lines are one table
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    blocks = [block for block in blocks if block]
    assert not fenced, "a code fence left open"
    assert lines.count("<details>") == lines.count("</details>") == len(re.findall("<details>", render(markdown)))
    rendered = re.findall(r"<table>(.*?)</table>", render(markdown), flags=re.S)
    assert len(rendered) == len(blocks)
    for block, table in zip(blocks, rendered):
        width = len(table_cells(block[0]))
        assert all(len(table_cells(row)) == width for row in block), block
        rows = re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)
        assert len(rows) == len(block) - 1  # every source row is a rendered row (the delimiter is not)
        assert all(len(re.findall(r"<t[hd]>", row)) == width for row in rows), rows
    for chart in mermaid:
        assert re.fullmatch(r'%%\{init: \{"themeVariables": \{"xyChart": \{"plotColorPalette": '
                            r'"#[0-9a-f]{6}(, #[0-9a-f]{6})*"\}\}\}\}%%', chart[0]), chart[0]
        assert chart[1] in ("xychart-beta", "xychart-beta horizontal")
        for statement in chart[2:]:
            assert MERMAID_STATEMENT.fullmatch(statement), statement
            for text in MERMAID_STRING.findall(statement):
                assert not re.search(r"[^\w .,:()+\-/=#;]", text), text
    return page


# ---- the comment: verdict and leaderboard first, detail folded ----------------------------------

def test_the_comment_opens_with_the_verdict_and_a_compact_leaderboard_with_a_chart():
    text = build_report(findings())
    head = text[:text.index("<details>")]
    assert head.startswith("# fromzero: this change against `main` (aaaaaaa)")
    assert "**Gates: all passed**" in head and "- ✅ PASS: `net` test MSE is" in head
    (header,) = [line for line in head.splitlines() if line.startswith("| # |")]
    assert len(table_cells(header)) == 5
    assert "| 1 | **`net`** | 35.4 [21.2, 53.1] | unchanged | -10.7 [-24.6, +5.40] |" in head
    assert "```mermaid" in head and "xychart-beta horizontal" in head  # the leaderboard as bars
    # Every detail is folded: the loss charts, the full leaderboard, params, metrics, worst rows, pictures.
    summaries = re.findall(r"<summary>(.*?)</summary>", text)
    assert summaries == ["Training loss of the iterative models", "Full leaderboard: RMSE, R², cross-validation",
                         "Params changed: 1", "Worst test predictions of the leader (2)",
                         "Pictures: 2 of 2 drawn, 2 PNG files"]
    assert "**Metrics changed:** none." in text  # the synthetic change moved no score
    assert "![" not in text and "](" not in text  # no image, no link: nothing depends on a host
    assert_data_stays_data(text)


def test_the_leaderboard_chart_has_every_model_now_and_at_the_base_and_cuts_an_outlier():
    mse = {**MSE, "random_search": 8000.0}
    text = build_report(findings(mse=mse, base_mse={**MSE, "gd": 50.0}))
    chart = text[text.index("```mermaid"):text.index("```", text.index("```mermaid") + 3)]
    labels = re.search(r"x-axis \[(.*)\]", chart).group(1)
    assert labels.startswith('"net", "net (base)", "knn", "knn (base)"')
    assert '"random_search (cut: 8,000)"' in labels and '"random_search (base)"' in labels
    bars = [[float(v) for v in line.split("[")[1].rstrip("]").split(", ")] for line in chart.splitlines()
            if line.strip().startswith("bar [")]
    assert len(bars) == len(NAMES) + 1  # one series a model (its colour), one for the base (grey)
    assert all(sum(value > 0 for value in column) == 1 for column in zip(*bars))  # one bar per label
    cap = float(re.search(r"y-axis \"test MSE\" 0 --> ([\d.]+)", chart).group(1))
    assert max(map(max, bars)) <= cap < 8000 and cap > 75  # the others stay readable
    assert bars[-1][1] == 35.4 and 50.0 in bars[-1]  # the base's bars: net's and gd's base values
    palette = re.search(r'"plotColorPalette": "(.*?)"', chart).group(1).split(", ")
    assert palette[0] == "#e7298a" and palette[-1] == BASE_GREY  # net's pink; the base's grey


def test_loss_charts_are_thinned_held_after_an_early_stop_and_say_what_changed():
    steps = np.arange(0.0, 5001.0)
    now = ("step", steps, 100.0 / (1 + steps))
    early = ("step", steps[:1000], 100.0 / (2 + steps[:1000]))  # the base stopped at step 999
    text = build_report(findings(loss={"gd": now, "net": now}, base_loss={"gd": early, "net": now}))
    charts = re.findall(r"```mermaid\n(.*?)```", text, flags=re.S)[1:]
    gd, net = charts
    assert 'title "gd: training loss (this change, the base in grey)"' in gd
    assert 'x-axis "step" 0 --> 5000' in gd and 'y-axis "log10 training MSE"' in gd
    base_line, now_line = [[float(v) for v in line.split("[")[1].rstrip("]").split(", ")]
                           for line in gd.splitlines() if line.strip().startswith("line [")]
    assert len(now_line) == len(base_line) <= LOSS_POINTS
    assert now_line[0] == pytest.approx(2.0) and now_line[-1] == pytest.approx(np.log10(100 / 5001), abs=1e-3)
    assert base_line[-1] == base_line[-2]  # held at its last value after it stopped
    assert "unchanged from the base" in net and net.count("line [") == 1
    assert read_loss(b"model,iteration,unit,loss\n", "loss.csv") == {} and read_loss(b"", "loss.csv") == {}
    with pytest.raises(UserError, match=r"^plots/evaluate/loss.csv: not the loss curves `evaluate` writes"):
        read_loss(b'model,iteration\n"gd,1\n', "plots/evaluate/loss.csv")


def test_an_exempt_model_moving_beyond_the_tolerance_is_shown_as_exempt_never_as_a_failure():
    base = dict(MSE)
    mse = {**MSE, "random_search": 90.0}  # random search's expected collapse: RMSE +14.6 %
    move = {"random_search": {"verdict": "yes, worse", "difference": 21.5, "low": 9.0, "high": 30.0}}
    held = build_report(findings(mse=mse, base_mse=base, moves=move))
    assert "❌ FAIL: `random_search` test RMSE rose +14.62%" in held  # not exempt: a failure
    text = build_report(findings(mse=mse, base_mse=base, moves=move, gates={"exempt": ["random_search"]}))
    assert "❌" not in text and "**Gates: all passed** · 1 exempt model moved beyond the tolerance" in text
    assert ("- ➖ EXEMPT: `random_search` test RMSE rose +14.62% against the base (8.276 → 9.487; tolerance 2%), "
            "not a failure: it is listed in `gates.exempt`") in text
    compact, full = [line for line in text.splitlines() if line.startswith("| 6 | **`random_search`**")]
    assert "yes, worse (ΔMSE +21.5 [+9.00, +30.0])" in full
    row = compact
    assert "+14.62 % · **real, worse** · exempt from the gate" in row
    assert "(exempt: `random_search`)" in text  # tools/gates.py's line, the name shown as data


def test_a_report_beyond_githubs_comment_limit_is_cut_and_says_so():
    metrics = {"metrics/eda.json": {f"details.eda.{'column_' * 12}{i}": {"old": i, "new": i + 1} for i in range(3000)}}
    text = build_report(findings(metrics_diff=metrics))
    assert len(text.encode()) <= COMMENT_LIMIT
    assert re.search(r"\*\d+ of 3000 left out to keep this comment within GitHub's 65,536 characters; "
                     r"`dvc metrics diff` lists them all\.\*", text)
    assert "## Leaderboard (test split)" in text and "Pictures:" in text  # the rest is whole
    assert_data_stays_data(text)
    # Hundreds of models: the leaderboards are cut and say so, the chart shows the best and says so, and
    # every section after them is still there (issue 23 #11: the chart was cut mid-way and the rest dropped).
    names = [f"model_{i:03d}_{'x' * 28}" for i in range(700)] + ["least_squares"]
    text = build_report(findings(names=names, gates={"max_mse_ratio": {}}), limit=20_000)
    assert len(text.encode()) <= 20_000 and "The rest of this report is left out" not in text
    assert "The chart shows the 20 best of the 701 models; the leaderboard lists every one." in text
    assert "<summary>Pictures: 2 of 2 drawn, 2 PNG files</summary>" in text
    assert re.search(r"\*\d+ of 701 left out to keep this comment within GitHub's 65,536 characters; "
                     r"the full leaderboard below lists them all\.\*", text)
    assert_data_stays_data(text)
    # More than fits even without the tables (a gate line for each of hundreds of models): cut at a line,
    # fences and folds closed.
    text = build_report(findings(names=names, gates={"max_mse_ratio": {name: 0.5 for name in names[:-1]}}),
                        limit=20_000)
    assert len(text.encode()) <= 20_000 and "The rest of this report is left out" in text
    assert_data_stays_data(text)


# ---- data is never markup --------------------------------------------------------------------

PAYLOADS = [
    "<script>alert('x')</script>", "</script><img src=x onerror=alert(document.domain)>",
    "<img src=x onerror=alert(1)>", "[click](javascript:alert(1))", "![tracker](https://tracker.invalid/p.png)",
    "<https://autolink.invalid>", "https://bare.invalid/x www.bare.invalid", "@octocat please look", "a|b|c",
    "``double`` and `single`", "`", "line one\nline two\r\n| x | y |", 'comma, separated, "quoted" \'single\'',
    "\u202eevil\u202c rtl \u200b zero width", "javascript:alert(1)", "<!-- hidden note -->",
    "*em* _em_ **strong** ~~del~~",
    "# heading", "&lt;entity&gt; &#x3C;script&#x3E;", "<details open><summary>x</summary>", "</details></summary>",
    "\\|escaped pipe\\", '%%{init: {"theme": "dark"}}%%', ']] [["; x-axis', "```mermaid", " padded both ",
    "#1 and owner/repo#2 and :smile:", "x" * 300, "",
]
MARKERS = ["script", "onerror", "javascript", "tracker", "autolink", "bare.invalid", "octocat", "evil", "hidden note",
           "heading", "entity", "smile", "padded", "xxxxxxxxxx", "line one"]


def test_code_shows_any_value_as_typed_in_a_paragraph_and_in_a_table_cell():
    for value in PAYLOADS[:-1]:
        shown = visible(value)[:SHOWN_CHARACTERS]
        paragraph = Page(render(f"x {code(value, cell=False)} y"))
        assert [tag for tag, _ in paragraph.tags] == ["p", "code"], (value, paragraph.tags)
        cell = Page(render(f"| a | b |\n|---|---|\n| {code(value)} | z |"))
        assert [tag for tag, _ in cell.tags].count("td") == 2, value
        assert "".join(paragraph.outside_code).strip() == "x  y"  # all of it inside the code span
        text = render(f"x {code(value, cell=False)} y")
        inner = re.search(r"<code>(.*)</code>", text, flags=re.S).group(1)
        if len(visible(value)) <= SHOWN_CHARACTERS:
            assert html.unescape(inner) == shown, (value, inner)  # exactly what visible() shows
    assert code("") == "*(empty)*" and code("x" * 300).endswith("…(+180 characters)`")
    assert visible("a\nb\u202ec\u00a0d") == "a\\nb\\u202ec\\u00a0d"


def test_mermaid_text_is_one_plain_string_whatever_the_value():
    for value in PAYLOADS:
        quoted = mermaid_text(value)
        assert quoted[0] == quoted[-1] == '"' and '"' not in quoted[1:-1], quoted
        assert not re.search(r"[^\w .,:()+\-/=#;…]", quoted[1:-1]), quoted
        assert "%%" not in quoted and "\n" not in quoted and "`" not in quoted
        decoded = re.sub(r"#(\d+);", lambda found: chr(int(found.group(1))), quoted[1:-1])
        assert decoded == (value if len(value) <= 60 else value[:60] + "…")


def test_hostile_values_in_every_place_the_report_writes_data_stay_text():
    """Names, keys, values, paths, titles and messages from the corpus: the rendered comment holds only
    the report's own elements, no payload outside code, no mention, whole tables, plain Mermaid strings."""
    names = [f"m{i}{payload}" for i, payload in enumerate(PAYLOADS)] + ["least_squares"]
    mse = {name: 40.0 + i for i, name in enumerate(names)}
    base = {name: value * (1.1 if i % 2 else 0.9) for i, (name, value) in enumerate(mse.items())}
    steps = np.arange(0.0, 50.0)
    loss = {name: (payload or "step", steps, 10.0 / (1 + steps)) for name, payload in zip(names, PAYLOADS)}
    moves = {name: {"verdict": "yes, worse", "difference": 1.0, "low": 0.5, "high": 1.5} for name in names[::3]}
    params = {f"params{payload}.yaml": {f"key{payload}": {"old": payload, "new": [payload, 1]}} for payload in PAYLOADS}
    metrics = {f"metrics/{payload}.json": {f"details.eda.{payload}": {"old": payload, "new": 0.5, "diff": None},
                                           f"x.{payload}.bool": {"old": True, "new": False}} for payload in PAYLOADS}
    pictures = [Picture(payload, [f"plot_{i}.png"]) if i % 2 else Picture(payload, problem=f"died: {payload}")
                for i, payload in enumerate(PAYLOADS)]
    found = findings(names=names, mse=mse, base_mse=base, moves=moves, params_diff=params, metrics_diff=metrics,
                     pictures=pictures, loss=loss, base_loss={}, base_name="".join(PAYLOADS[:12]),
                     pictures_at="".join(PAYLOADS[12:20]),
                     gates={"max_mse_ratio": {names[1]: 1.0}, "exempt": names[0::4]})
    text = build_report(found)
    assert len(text.encode()) <= COMMENT_LIMIT
    for payload in PAYLOADS[:-1]:  # each one is shown, as text
        assert code(payload) in text or code(payload, cell=False) in text, payload
    page = assert_data_stays_data(text, MARKERS)
    assert "".join(page.outside_code).count("EXEMPT") == len(names[0::4])  # each rose 5 %, each exempt
    index = pictures_index("".join(PAYLOADS), pictures, {"plot_1.png"})
    assert index.startswith("<!-- written by tools.report;")
    images = Page(render(index.split("\n", 1)[1]))
    for tag, attrs in images.tags:
        assert tag in REPORT_TAGS | {"img", "h2"}, tag
        if tag == "img":
            assert dict(attrs)["src"] in {f"plot_{i}.png" for i in range(len(PAYLOADS))}
    assert not any(marker in "".join(images.outside_code) for marker in MARKERS)


# ---- vl-convert in a child: a crash is one line -------------------------------------------------

SPEC = {"data": {"values": [{"a": 1, "b": 2}, {"a": 2, "b": 1}]}, "mark": "line",
        "encoding": {"x": {"field": "a", "type": "quantitative"}, "y": {"field": "b", "type": "quantitative"}}}


def test_plots_render_in_a_child_and_a_child_killed_under_ulimit_is_one_line(tmp_path):
    problems = render_specs([("ok", str(tmp_path / "ok.png"), SPEC),
                             ("bad", str(tmp_path / "bad.png"), {"mark": "no-such-mark"})])
    assert problems["ok"] is None and (tmp_path / "ok.png").read_bytes()[:4] == b"\x89PNG"
    assert problems["bad"] and "\n" not in problems["bad"]
    # V8 reserves several GB of address space: under `ulimit -v` it aborts its whole process (exit 133).
    script = textwrap.dedent(f"""
        import json, sys
        from tools.pictures import render_specs
        print(json.dumps(render_specs([("plot", {str(tmp_path / 'limited.png')!r}, {SPEC!r})])))
    """)
    limited = subprocess.run(["bash", "-c", 'ulimit -v 2000000 && exec "$0" -c "$1"', sys.executable, script],
                             cwd=ROOT, capture_output=True, text=True, env={**dvc_env(), "PYTHONPATH": str(ROOT)})
    assert limited.returncode == 0, limited.stderr[-2000:]
    assert limited.stderr == ""  # the child's C backtrace stays in the child
    (problem,) = json.loads(limited.stdout).values()
    assert problem.startswith("vl-convert died, killed by SIGTRAP (exit 133 in a shell)"), problem
    assert "ulimit -v" in problem and not (tmp_path / "limited.png").exists()


# ---- --out writes only what the report owns -----------------------------------------------------

def run_main(argv, capsys):
    code_ = report.main(argv)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return code_, lines[0]


def hostile_outs(root):
    (root / "params.yaml").write_text("lr: 0.01  # uncommitted edit\n")
    (root / "folder").mkdir()
    (root / "mine.md").write_text("# a note of my own\n")
    os.symlink(root / "mine.md", root / "link.md")
    (root / "file-pictures").write_text("not a folder")
    (root / "file.md").write_text(stamp("old report\n", TOOL))
    (root / "foreign-pictures").mkdir()
    (root / "foreign-pictures" / "holiday.png").write_bytes(b"\x89PNG")
    (root / "forged-pictures").mkdir()
    (root / "forged-pictures" / "index.md").write_text("# my index\n")
    return {
        "params.yaml": "params.yaml: exists and tools.report did not write it",
        "folder": "folder: is a directory; refusing to write there",
        "/dev/null": "/dev/null: is a character device; refusing",
        "link.md": "link.md: is a symbolic link; refusing",
        "mine.md": "mine.md: exists and tools.report did not write it",
        "file.md": "file-pictures: is not a directory (the report's pictures go there); refusing to replace it",
        "foreign.md": "foreign-pictures: exists and tools.report did not write it (no index.md with its mark)",
        "forged.md": "forged-pictures/index.md: exists and tools.report did not write it",
        "mine.md/x.md": "mine.md/x.md: cannot write here: Not a directory",
    }


def test_out_that_the_report_does_not_own_is_refused_before_any_work(tmp_path, monkeypatch, capsys):
    expected = hostile_outs(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file() and not path.is_symlink()}
    for out, message in expected.items():
        status, line = run_main(["--out", out], capsys)
        assert status == 2 and line.startswith(f"error: report: {message}"), (out, line)
    after = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file() and not path.is_symlink()}
    assert after == before and (tmp_path / "link.md").is_symlink()
    status, line = run_main(["--out", "x.md", "--no-such-flag"], capsys)
    assert status == 2 and line == "error: report: unrecognized arguments: --no-such-flag (see --help)"


def test_the_pictures_folder_replaces_only_the_pictures_it_wrote(tmp_path):
    folder = tmp_path / "report-pictures"

    def index(names):
        return stamp(f"<!-- pictures: {', '.join(sorted(names))} -->\n", TOOL)

    write_pictures(folder, {"a.png": b"1", "b.png": b"2"}, index)
    assert owned_pictures(folder) == {"a.png", "b.png"}
    (folder / "notes.txt").write_text("mine")  # a file of someone else's, not in the way
    write_pictures(folder, {"a.png": b"3", "c.png": b"4"}, index)
    assert (folder / "a.png").read_bytes() == b"3" and not (folder / "b.png").exists()  # the stale one of ours
    assert (folder / "notes.txt").read_text() == "mine" and owned_pictures(folder) == {"a.png", "c.png"}
    (folder / "d.png").write_bytes(b"someone else's")
    with pytest.raises(OwnedError, match="d.png: exists and tools.report did not write it"):
        write_pictures(folder, {"a.png": b"5", "d.png": b"6"}, index)
    assert (folder / "a.png").read_bytes() == b"3" and (folder / "d.png").read_bytes() == b"someone else's"


# ---- the whole tool in a scratch git + DVC repo (no dvc repro) ------------------------------------

HOSTILE = "<img src=x onerror=alert(1)>|@octocat `x` [l](javascript:alert(1))\u202e"


def write_outputs(repo, mse, loss_end, eda):
    """The files `evaluate` and `eda` write, in their current shapes, for the models of models.yaml."""
    (repo / "metrics").mkdir(exist_ok=True)
    current = scores(mse)
    (repo / "metrics/evaluate.json").write_text(json.dumps({"details": {"test": current}}))
    (repo / "metrics/cv.json").write_text(json.dumps({"details": {"cv": {
        name: {"mse_mean": value, "mse_std": 2.0} for name, value in mse.items()}}}))
    (repo / "metrics/eda.json").write_text(json.dumps({"details": {"eda": eda}}))
    rows = ["model,row,actual,predicted"] + [f"{name},{row},{20 + row},{20 + row + (mse[name] / 40) * (-1) ** row}"
                                            for name in mse for row in range(20)]
    (repo / "plots/evaluate").mkdir(parents=True, exist_ok=True)
    (repo / "plots/evaluate/predictions.csv").write_text("\n".join(rows) + "\n")
    loss = ["model,iteration,unit,loss"] + [f"{name},{step},step,{loss_end + 500 / (1 + step)}"
                                            for name in ("gd", "net") for step in range(0, 300, 3)]
    (repo / "plots/evaluate/loss.csv").write_text("\n".join(loss) + "\n")


@pytest.fixture(scope="module")
def scratch_repo(tmp_path_factory):
    """main: the base's outputs; the work tree: lr changed, gd moved, and hostile names in data and params."""
    repo = tmp_path_factory.mktemp("report") / "repo"
    repo.mkdir()
    for name in ("models.yaml", "params.yaml"):
        shutil.copy(ROOT / name, repo / name)
    (repo / "dvc.yaml").write_text(textwrap.dedent("""\
        stages:
          shown:  # never run (frozen, so `dvc status` passes it): declares the params `dvc params diff` compares
            cmd: "true"
            frozen: true
            params: [lr, data.csv, data.features]
        metrics: [metrics/evaluate.json, metrics/cv.json, metrics/eda.json]
        plots:
          - Training loss:
              x: iteration
              y:
                plots/evaluate/loss.csv: loss
        """))
    git("init", "-q", "-b", "main", cwd=repo)
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=repo, env=dvc_env(), check=True)
    write_outputs(repo, MSE, 40.0, {"RM": 0.7})
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "base", cwd=repo)
    base_branch = "base<img>|@octocat`x"  # a valid git branch name
    git("branch", base_branch, cwd=repo)
    params = (repo / "params.yaml").read_text().replace("\nlr: 0.01", "\nlr: 0.001")
    params = params.replace("csv: data/raw/boston_house_prices.csv", f"csv: {json.dumps(HOSTILE)}")
    (repo / "params.yaml").write_text(params)
    write_outputs(repo, {**MSE, "gd": 46.3}, 41.0, {"RM": 0.7, HOSTILE: 0.5})
    return repo, base_branch


def run_report(repo, *args, limit=None):
    command = [sys.executable, "-m", "tools.report", *args]
    if limit:
        command = ["bash", "-c", f'ulimit -v {limit} && exec "$@"', "bash", *command]
    return subprocess.run(command, cwd=repo, capture_output=True, text=True,
                          env={**dvc_env(), "PYTHONPATH": str(ROOT)})


@pytest.mark.pipeline  # dvc in a scratch git repo (no repro): about 10 s
def test_the_tool_writes_the_comment_and_its_pictures_and_replaces_only_its_own(scratch_repo):
    repo, base = scratch_repo
    result = run_report(repo, "--base", base, "--check")
    assert result.returncode == 0, result.stderr
    text = (repo / "report/report.md").read_text()
    assert text.startswith("<!-- written by tools.report;") and len(text.encode()) <= COMMENT_LIMIT
    assert f"# fromzero: this change against {code(base, cell=False)}" in text
    assert "| `params.yaml` | `lr` | 0.01 | 0.001 |" in text and "<summary>Metrics changed: " in text
    assert "`gd`: training loss (this change, the base in grey)" not in text  # titles are Mermaid strings
    assert 'title "gd: training loss (this change, the base in grey)"' in text
    assert_data_stays_data(text.split("\n", 1)[1], ["onerror", "octocat", "javascript"])
    pictures = repo / "report/report-pictures"
    assert sorted(path.name for path in pictures.iterdir()) == [
        "index.md", "leaderboard.png", "plot_training_loss.png", "residuals.png"]
    assert all((pictures / name).read_bytes()[:4] == b"\x89PNG" for name in owned_pictures(pictures))
    again = run_report(repo, "--base", base)  # its own files: replaced
    assert again.returncode == 0, again.stderr


@pytest.mark.pipeline  # dvc in a scratch git repo (no repro): about 10 s
def test_under_a_memory_limit_the_plot_is_marked_and_the_report_still_writes(scratch_repo):
    repo, base = scratch_repo
    result = run_report(repo, "--base", base, "--out", "limited/report.md", limit=2_500_000)
    assert result.returncode == 0, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("warning: report: Training loss: not rendered: vl-convert died, killed by SIGTRAP")
    text = (repo / "limited/report.md").read_text()
    assert "| `Training loss` | not rendered: `vl-convert died, killed by SIGTRAP" in text
    assert "<summary>Pictures: 2 of 3 drawn, 2 PNG files</summary>" in text


# ---- hostile inputs to the whole command (issue 23 #5 and #11), one row per class ---------------

def scratch_report(root, base_files, current_files, models_yaml=None):
    """A git repo in ``root``: models.yaml and params.yaml as the project's, main holding ``base_files``,
    the work tree ``current_files`` ({path: text}) on top. No DVC: the tests stand in for its diffs."""
    root.mkdir()
    shutil.copy(ROOT / "params.yaml", root / "params.yaml")
    (root / "models.yaml").write_text(models_yaml or (ROOT / "models.yaml").read_text())
    for files in (base_files, current_files):
        for path, text in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
        if files is base_files:
            git("init", "-q", "-b", "main", cwd=root)
            git("add", "-A", cwd=root)
            git("commit", "-q", "-m", "base", cwd=root)
    return root


def outputs(mse, reference="least_squares", evaluate=None):
    """{path: text} of the files `evaluate` writes, for the models of ``mse`` (``evaluate``: that file's text)."""
    rows = ["model,row,actual,predicted"] + [f"{name},{row},{20 + row},{20 + row + (mse[name] / 40) * (-1) ** row}"
                                            for name in mse for row in range(20)]
    loss = ["model,iteration,unit,loss"] + [f"{name},{step},step,{40 + 500 / (1 + step)}"
                                            for name in mse if name in ("gd", "net") for step in range(0, 300, 3)]
    return {"metrics/evaluate.json": evaluate or json.dumps({"details": {"test": scores(mse, reference)}}),
            "plots/evaluate/predictions.csv": "\n".join(rows) + "\n", "plots/evaluate/loss.csv": "\n".join(loss) + "\n"}


def with_gd_rmse(raw, mse=MSE):
    """metrics/evaluate.json whose gd test RMSE is ``raw``, JSON text as written (NaN, true, [[...]] ...)."""
    text = json.dumps({"details": {"test": scores(mse)}})
    return text.replace(f'"rmse": {json.dumps(mse["gd"] ** 0.5)}', f'"rmse": {raw}', 1)


DEEP = "[" * 100_000 + "6.8" + "]" * 100_000
# The base's metrics as a broken base could hold them: one failed gate naming the file and the key, exit 1
# under --check, the report written, nothing compared with that base (never "✅ PASS", never a traceback).
BROKEN_BASE = {
    "NaN": (with_gd_rmse("NaN"), r"details\.test\.gd\.rmse = NaN is not a finite number"),
    "Infinity": (with_gd_rmse("Infinity"), r"details\.test\.gd\.rmse = Infinity is not a finite number"),
    "negative": (with_gd_rmse("-6.8"), r"details\.test\.gd\.rmse = -6\.8 is negative"),
    "bool": (with_gd_rmse("true"), r"details\.test\.gd\.rmse = true is true or false, not a number"),
    "string": (with_gd_rmse('"6.8"'), r"details\.test\.gd\.rmse = '6\.8' is a text, not a number"),
    "list": (with_gd_rmse("[6.8]"), r"details\.test\.gd\.rmse = \[6\.8\] is a list, not a number"),
    "deep nesting": (with_gd_rmse(DEEP), r"details\.test\.gd\.rmse is nested more than 16 levels deep"),
    "a key twice": (with_gd_rmse('6.8, "rmse": 7.0'), r"key 'rmse' appears twice"),
    "not JSON": ('{"details": {"test": ', r"not JSON \(line 1, column 22: Expecting value\)"),
    "a model not a mapping": (json.dumps({"details": {"test": {**scores(MSE), "gd": 6.8}}}),
                              r"details\.test\.gd = 6\.8 is not a mapping of scores"),
    "zero": (with_gd_rmse("0"), r"gd test RMSE rose from 0 at the base \(metrics/evaluate\.json at the base "
                                r"\([0-9a-f]{7}\): details\.test\.gd\.rmse = 0\)"),
}


def fake_png(title, name, make, folder):
    """draw_png without matplotlib (the rows about data, not pictures): a file and its Picture."""
    (folder / name).write_bytes(b"\x89PNG fake")
    return Picture(title, [name])


def run_in(repo, monkeypatch, capsys, argv, draw=False, plots=(), asked=None):
    """report.main in ``repo``, DVC's diffs standing in as empty, the plots ``plots`` [(title, files)]:
    (exit status, stdout lines, stderr lines, the report's text or None). ``asked``: a list that gets
    each revision DVC is given."""
    asked = [] if asked is None else asked
    monkeypatch.chdir(repo)
    monkeypatch.setattr("tools.findings.dvc_json", lambda *args, **kwargs: asked.append(args[-1]) or {})

    def changed(revision, folder):
        asked.append(revision)
        for _, files in plots:
            for name in files:
                (folder / name).write_bytes(b"\x89PNG plot")
        return [Picture(title, list(files)) if files else Picture(title, problem="vl-convert died")
                for title, files in plots]

    monkeypatch.setattr("tools.report.changed_plots", changed)
    if not draw:
        monkeypatch.setattr("tools.report.draw_png", fake_png)
    status = report.main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, err
    text = (repo / "report/report.md").read_text() if (repo / "report/report.md").exists() else None
    return status, out.splitlines(), err.splitlines(), text


@pytest.mark.parametrize("case", BROKEN_BASE)
def test_a_broken_base_is_one_failed_gate_naming_the_file_and_the_key(case, tmp_path, monkeypatch, capsys):
    broken, said = BROKEN_BASE[case]
    repo = scratch_report(tmp_path / "repo", outputs(MSE, evaluate=broken), outputs(MSE))
    status, out, err, text = run_in(repo, monkeypatch, capsys, ["--check"])
    assert status == 1 and len(err) == 1, err
    assert err[0].startswith("gate failed: ") and "metrics/evaluate.json at the base (" in err[0], err
    assert re.search(said, err[0]), err[0]
    assert len(out) == 1 and out[0].startswith("wrote report/report.md")
    assert "**Gates: 1 failed**" in text and "❌ FAIL" in text and "rose by more than" not in text
    assert len(err[0]) < 400  # a deep or long value is named, never printed
    assert report.main(["--out", "again.md"]) == 0  # without --check: said, not failed
    assert "gate failed: " in capsys.readouterr().err


REGISTRIES = {  # models the report must handle whatever models.yaml's rules allow (project/models.py)
    "models named like the plot data's columns": ["baseline", "least_squares", "gd", "net", "actual", "row",
                                                  "model", "predicted"],
    "hundreds of models": ["baseline", "least_squares", "gd", "net", *(f"model_{i:03d}" for i in range(200))],
}


def test_the_current_run_holding_nan_is_one_line_naming_the_file_and_the_key(tmp_path, monkeypatch, capsys):
    repo = scratch_report(tmp_path / "repo", outputs(MSE), {"metrics/evaluate.json": with_gd_rmse("NaN")})
    status, out, err, text = run_in(repo, monkeypatch, capsys, ["--check"])
    assert status == 2 and out == [] and text is None
    assert err == ["error: report: metrics/evaluate.json: details.test.gd.rmse = NaN is not a finite number "
                   "(no stage writes NaN or infinity); rerun `dvc repro`"]


def test_a_models_yaml_without_a_reference_skips_its_gates_and_says_so(tmp_path, monkeypatch, capsys):
    models = re.sub(r"(?m)^reference:.*\n", "", (ROOT / "models.yaml").read_text())
    assert "reference:" not in models
    repo = scratch_report(tmp_path / "repo", outputs(MSE, None), outputs({**MSE, "gd": 47.0}, None), models)
    status, out, err, text = run_in(repo, monkeypatch, capsys, ["--check"])
    assert status == 0 and err == [], err
    assert ("- ➖ SKIPPED: `gd` test MSE at most 1.01× the reference's: skipped, models.yaml names no "
            "reference") in text
    assert "models.yaml names no reference model, so no model is compared with one" in text
    (header,) = [line for line in text.splitlines() if line.startswith("| # | model | test MSE")][:1]
    assert len(table_cells(header)) == 4 and "vs `least_squares`" not in text


@pytest.mark.parametrize("case", REGISTRIES)
def test_any_model_names_and_counts_models_yaml_allows_or_not(case, tmp_path, monkeypatch, capsys):
    names = REGISTRIES[case]
    mse = {name: MSE.get(name, 30.0 + i / 10) for i, name in enumerate(names)}
    repo = scratch_report(tmp_path / "repo", outputs(mse), outputs({**mse, names[-1]: mse[names[-1]] * 0.99}))
    monkeypatch.setattr("tools.report.read_models", lambda path: registry_of(names))
    status, out, err, text = run_in(repo, monkeypatch, capsys, ["--check"], draw=len(names) < 10)
    assert status == 0 and err == [] and len(out) == 1, err
    assert len(text.encode()) <= COMMENT_LIMIT and "The rest of this report is left out" not in text
    assert "<summary>Pictures: 2 of 2 drawn, 2 PNG files</summary>" in text  # nothing after the chart is lost
    chart = re.search(r"```mermaid\n(.*?)```", text, flags=re.S).group(1)
    labels = re.findall(r'"([^"]*)"', re.search(r"x-axis \[(.*)\]", chart).group(1))
    bars = [line for line in chart.splitlines() if line.strip().startswith("bar [")]
    assert all(line.count(",") + 1 == len(labels) for line in bars)  # the axis and the bars list the same models
    shown = {label.split(" (")[0] for label in labels}
    assert len(bars) == len(shown) + 1 and len(shown) == min(len(names), 20)
    if len(names) > 20:
        assert f"The chart shows the 20 best of the {len(names)} models; the leaderboard lists every one." in text
    worst = text[text.index("<summary>Worst test predictions"):].split("</details>")[0]
    leader_name = re.search(r"The leader: `([^`]*)`", worst).group(1)
    errors = [float(table_cells(line)[3]) for line in worst.splitlines() if re.match(r"\| \d+ \|", line)]
    assert len(errors) == 5 and all(abs(abs(error) - mse[leader_name] / 40) < 0.06 for error in errors)


def test_numbers_far_from_one_are_written_in_a_dozen_characters(tmp_path, monkeypatch, capsys):
    mse = {**MSE, "knn": 1e-300, "random_search": 1e308}
    repo = scratch_report(tmp_path / "repo", outputs(mse), outputs({**mse, "gd": 1e-300}))
    status, out, err, text = run_in(repo, monkeypatch, capsys, [], draw=True)
    assert status == 0 and len(out) == 1 and all(line.startswith("gate failed: ") for line in err), err
    assert not re.search(r"\d{16}", text), re.search(r".{40}\d{16}.{40}", text).group()
    assert "| **`random_search`** | 1.00e+308 [6.00e+307, 1.50e+308] |" in text
    assert "| **`knn`** | 1.00e-300 [6.00e-301, 1.50e-300] |" in text
    chart = re.search(r"```mermaid\n(.*?)```", text, flags=re.S).group(1)
    assert '"random_search (cut: 1.00e+308)"' in chart and 'y-axis "test MSE" 0 --> 145.2' in chart
    losses = {"gd": ("step", np.arange(3.0), np.array([-2e-13, 1e-300, 1e-300])),  # a loss at its exact fit
              "net": ("step", np.arange(3.0), np.array([1e308, 1e307, 1e306]))}
    found = findings(loss=losses, base_loss={})
    charts = re.findall(r"```mermaid\n(.*?)```", build_report(found), flags=re.S)[1:]
    assert 'y-axis "training MSE (#215;1e-13)"' in charts[0] and 'y-axis "log10 training MSE"' in charts[1]
    assert not re.search(r"\d{16}", "".join(charts)) and "line [-2, 0, 0]" in charts[0]
    assert_data_stays_data(text.split("\n", 1)[1])


def test_the_command_line_and_the_report_count_pictures_alike(tmp_path, monkeypatch, capsys):
    repo = scratch_report(tmp_path / "repo", outputs(MSE), outputs(MSE))
    plots = [("plots/eda/heatmap.png", ["base_heatmap.png", "new_heatmap.png"]), ("Training loss", [])]
    status, out, err, text = run_in(repo, monkeypatch, capsys, [], plots=plots)
    count = "3 of 4 drawn, 4 PNG files"
    assert status == 0 and out == [f"wrote report/report.md; pictures: {count} in report/report-pictures/"]
    assert err == ["warning: report: Training loss: not rendered: vl-convert died"]
    assert f"<summary>Pictures: {count}</summary>" in text
    assert sorted(path.name for path in (repo / "report/report-pictures").iterdir()) == [
        "base_heatmap.png", "index.md", "leaderboard.png", "new_heatmap.png", "residuals.png"]


def test_dvc_gets_the_base_as_a_commit_and_the_report_shows_its_name_as_text(tmp_path, monkeypatch, capsys):
    """A base named to run script in a page (issue 23 #1): `dvc plots diff` (and every DVC diff) gets
    its commit, and the comment shows the name as data."""
    repo = scratch_report(tmp_path / "repo", outputs(MSE), outputs(MSE))
    name = "x</script><script>document.title='PWNED'</script>"
    git("branch", name, cwd=repo)
    asked = []
    status, out, err, text = run_in(repo, monkeypatch, capsys, ["--base", name], asked=asked)
    assert status == 0 and err == []
    commit = git("rev-parse", "main", cwd=repo).stdout.strip()
    assert asked == [commit, commit, commit]  # params diff, metrics diff, plots diff
    assert text.split("\n")[1] == f"# fromzero: this change against {code(name, cell=False)} ({commit[:7]})"
    assert_data_stays_data(text.split("\n", 1)[1], ["PWNED"])


@pytest.mark.pipeline
def test_outputs_older_than_params_yaml_are_refused_not_reported(pipeline_repo):
    """Issue 23's own pass: knn.k changed and no `dvc repro`; --check passed, the report showing knn.k 3 → 1
    beside knn "unchanged" (the old scores)."""
    params = pipeline_repo / "params.yaml"
    params.write_text(params.read_text().replace("\n  k: 3", "\n  k: 1", 1))
    result = run_report(pipeline_repo, "--base", "HEAD", "--check")
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        "error: report: the workspace's outputs are out of date (`dvc status`: check_params, fit@knn changed since "
        "they ran); run `dvc repro` first, so the report scores what params.yaml says"]
    assert not (pipeline_repo / "report").exists()
