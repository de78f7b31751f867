"""tools/sweep/: a sweep fanned out over (simulated) CI runners, and its matrix expansion.

Each runner is an independent clone of one bare origin that runs one experiment and pushes it (to the
remote ``--remote`` names, never by default); a collector clone pulls them all and writes the
leaderboard, whose metrics must equal the same sweep run serially in one clone. expand reads values as
the pipeline does and refuses what check_params refuses, in its words. Hostile inputs are tables, one
row per class of bad input: each row asserts exit 1, exactly one stderr line, no traceback and no file
written or replaced. tools/owned.py (what ``--out`` may replace) has its own table.
"""

import json
import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import time
import tracemalloc

import pytest

from project import commands as project_commands
from tests.conftest import ROOT, dvc, dvc_env, git, run, stages_run
from tests.test_sharing import bare_origin, fresh_clone
from tools import owned
from tools.owned import json_text, stamp
from tools.sweep.cli import main
from tools.sweep.grid import expand, experiment_name, split_grid
from tools.sweep.leaderboard import leaderboard_markdown

SWEEP = ["lr=0.1,0.001"]  # two runners: the fan-out and its equality with a serial sweep, at half the cost
UNAFFECTED_BY_LR = {"load", "fit@knn", "fit@random_search", "fit@net"}  # restored from the run-cache, never rerun


# ---- expand: no DVC needed -------------------------------------------------------------------

def params_file(tmp_path):
    path = tmp_path / "params.yaml"
    shutil.copy(ROOT / "params.yaml", path)
    return str(path)


def test_expand_is_the_cartesian_product_in_the_queue_syntax(tmp_path):
    matrix = expand(["lr=0.1,0.01,0.001", "knn.k=1,3"], params_file(tmp_path), prefix="s7")
    entries = matrix["include"]
    assert len(entries) == 6
    assert entries[0] == {"name": "s7_lr-0.1_knn.k-1", "set": ["lr=0.1", "knn.k=1"]}
    assert {tuple(entry["set"]) for entry in entries} == {
        (f"lr={lr}", f"knn.k={k}") for lr in ("0.1", "0.01", "0.001") for k in ("1", "3")}
    assert len({entry["name"] for entry in entries}) == 6
    assert split_grid("lr=0.1, 0.1 ,0.01") == ("lr", ["0.1", "0.01"])  # duplicates dropped
    names = [experiment_name([("lr", "1e-3")]), experiment_name([("a", "x/../y")], prefix="p"),
             experiment_name([("data.csv", "a" * 500 + ".lock")])]
    for name in names:
        assert subprocess.run(["git", "check-ref-format", f"refs/exps/{name}"]).returncode == 0, name
    assert len(names[-1]) <= 100


# ---- one reader: what expand accepts, check_params accepts; what it refuses, in check_params' words --

def check_params_line(tmp_path, capsys, key, text):
    """What the check_params stage says of params.yaml with ``key`` set to ``text`` as DVC writes a -S value."""
    import yaml

    from project.params import parse_override, set_key
    from project.yamlfile import read_yaml
    from stages import check_params

    folder = tmp_path / "as-dvc-writes-it"
    folder.mkdir()
    raw = read_yaml(ROOT / "params.yaml")
    raw["data"]["csv"] = str(ROOT / raw["data"]["csv"])
    set_key(raw, key, parse_override(f"{key}={text}")[1])
    (folder / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    check_params.main(["--params", str(folder / "params.yaml"), "--models", str(ROOT / "models.yaml"),
                       "--out", str(folder / "ok")])
    return capsys.readouterr().err.replace(str(folder / "params.yaml"), "params.yaml")


ONE_DIALECT = [  # (key, value as typed, refused?): issue 22's seed=042 (YAML 1.1 read it as 34) and standardize=no
    ("seed", "042", True), ("gd.standardize", "no", True), ("gd.standardize", "yes", True), ("knn.k", "0", True),
    ("lr", "-1", True), ("lr", ".inf", True), ("net.batch_size", "sometimes", True), ("net.hidden", "4.5", True),
    ("seed", "42", False), ("gd.standardize", "false", False), ("net.batch_size", "auto", False),
    ("lr", "1e-3", False),
]


@pytest.mark.parametrize("key, text, refused", ONE_DIALECT, ids=[f"{k}={t}" for k, t, _ in ONE_DIALECT])
def test_expand_refuses_exactly_what_check_params_refuses_in_its_words(tmp_path, monkeypatch, capsys, key, text,
                                                                        refused):
    (tmp_path / "project").mkdir()
    shutil.copy(ROOT / "params.yaml", tmp_path / "project" / "params.yaml")
    monkeypatch.chdir(tmp_path / "project")
    code = main(["expand", f"{key}={text}"])
    out, err = capsys.readouterr()
    stage = check_params_line(tmp_path, capsys, key, text)
    if not refused:
        assert code == 0 and stage == "", (err, stage)
        assert json.loads(out)["include"][0]["set"] == [f"{key}={text}"]  # the text as typed, for DVC to read
        return
    assert_one_line(err, code)
    assert stage.startswith("error: check_params: params.yaml: "), stage
    assert err == f"error: sweep expand: {key}={text}: {stage.removeprefix('error: check_params: ')}"


# ---- hostile inputs: one line, exit 1, nothing written or replaced ----------------------------

def make_project(root):
    """A folder with params.yaml, a leaderboard tools.sweep wrote, and one file of each bad kind."""
    params_file(root)
    bad = root / "bad"
    (bad / "folder").mkdir(parents=True)
    for name, text in {"not-yaml.yaml": "lr: [0.1\n", "list.yaml": "- lr\n- 0.1\n", "empty.yaml": "",
                       "alias.yaml": "a: &a [1, 2]\nb: [*a, *a]\n", "huge.yaml": "#" * (1 << 20) + "\nlr: 1\n",
                       "wide.yaml": "".join(f"k{i}: 0\n" for i in range(100)),
                       "deep.yaml": "a: " + "[" * 50_000 + "]" * 50_000 + "\n",
                       "twice.yaml": "lr: 0.1\nlr: 0.2\n",
                       "unknown.yaml": (ROOT / "params.yaml").read_text() + "lrr: 0.1\n"}.items():
        (bad / name).write_text(text)
    (bad / "latin1.yaml").write_bytes("lr: 0.1  # café\n".encode("latin-1"))
    (root / "mine.md").write_text(stamp("# an old leaderboard\n", "tools.sweep"))
    (root / "theirs.md").write_text("# notes a person wrote\n")
    (root / "fresh.json").write_text('{"rows": []}\n')  # no written_by: not ours, so fresh.md is refused too
    (root / "folder.md").mkdir()
    (root / "link.md").symlink_to("mine.md")  # even to a file the tool wrote
    (root / "dangling.md").symlink_to("nowhere.md")


def grid(keys, values=10):
    return [f"{key}={','.join(str(v) for v in range(1, values + 1))}" for key in keys]


def is_char_device(path):
    return os.path.exists(path) and stat.S_ISCHR(os.stat(path).st_mode)


def device_row(path, *argv):
    return pytest.param(*argv, marks=pytest.mark.skipif(
        not is_char_device(path), reason=f"{path} is not a character device here (a container without /dev?)"),
        id=f"out-device-{path}")


WIDE = "--params=bad/wide.yaml"
BAD_INPUTS = [  # (argv, a part of the one line); each class of bad input is one or more rows
    # the command line itself
    pytest.param([], "required: command", id="no-command"),
    pytest.param(["shuffle"], "invalid choice", id="unknown-command"),
    pytest.param(["expand"], "required: overrides", id="expand-no-overrides"),
    pytest.param(["expand", "--bogus", "lr=0.1"], "unrecognized arguments", id="unknown-option"),
    # a malformed grid
    pytest.param(["expand", "lr"], "expected key=value", id="grid-no-equals"),
    pytest.param(["expand", "=0.1"], "expected key=value", id="grid-no-key"),
    pytest.param(["expand", "l r=0.1"], "expected key=value", id="grid-bad-key"),
    pytest.param(["expand", "lr=0.1,,0.2"], "empty", id="grid-empty-value"),
    pytest.param(["expand", "lr=0.1, 0.2 0.3"], "contains a space", id="grid-space-in-value"),
    pytest.param(["expand", "lr=[0.1"], "-S lr=[0.1: not valid YAML at line 1", id="grid-value-not-yaml"),
    pytest.param(["expand", "lr=&a"], "an anchor or alias", id="grid-value-alias"),
    pytest.param(["expand", "lr=" + "[" * 40 + "]" * 40], "nested deeper than 32 levels", id="grid-value-deep"),
    # keys params.yaml does not have, or has otherwise
    pytest.param(["expand", "lrr=0.1"], "has no key 'lrr'", id="key-unknown"),
    pytest.param(["expand", "knn=3"], "is a section", id="key-section"),
    pytest.param(["expand", "data.features=[RM]"], "is a list, which the queue's commas cannot sweep", id="key-list"),
    pytest.param(["expand", "x" * 5000 + "=1"], "has no key 'xxxxx", id="key-huge"),
    pytest.param(["expand", "lr=0.1", "lr=0.2"], "given twice", id="key-twice"),
    # values the stages refuse, refused before any runner starts
    pytest.param(["expand", "knn.k=0,3"], "knn.k", id="value-stage-refuses-k"),
    pytest.param(["expand", "lr=-1"], "lr = -1 is not allowed", id="value-stage-refuses-lr"),
    pytest.param(["expand", "seed=042"], "seed = '042' is not allowed: must be a whole number",
                 id="value-yaml-1.2-octal"),
    pytest.param(["expand", "gd.standardize=no"], "gd.standardize = 'no' is not allowed: must be true or false",
                 id="value-yaml-1.2-no"),
    pytest.param(["expand", "lr=1e-400"], "1e-400 is below the smallest 64-bit float", id="value-underflows"),
    pytest.param(["expand", "data.csv=missing.csv"], "data.csv = 'missing.csv': no such file", id="value-no-csv"),
    pytest.param(["expand", "data.csv=bad"], "data.csv = 'bad' is a directory", id="value-csv-a-folder"),
    pytest.param(["expand", "lr=0.1", "--prefix", "a b"], "--prefix 'a b'", id="prefix-not-a-ref"),
    pytest.param(["expand", "data.target=A/B,A-B"], "both make the experiment name 'data.target-A-B'",
                 id="names-collide"),
    # grids beyond GitHub's 256 jobs, counted before any point is built
    pytest.param(["expand", "seed=" + ",".join(map(str, range(300)))], "300 experiments", id="grid-300"),
    pytest.param(["expand", WIDE, *grid([f"k{i}" for i in range(8)])], "100000000 experiments", id="grid-10^8"),
    pytest.param(["expand", WIDE, *grid([f"k{i}" for i in range(80)])], "about 10^80 experiments", id="grid-10^80"),
    # the params file
    pytest.param(["expand", "--params", "missing.yaml", "lr=0.1"], "file not found", id="params-missing"),
    pytest.param(["expand", "--params", "bad/folder", "lr=0.1"], "is a directory", id="params-directory"),
    pytest.param(["expand", "--params", "bad/not-yaml.yaml", "lr=0.1"], "not valid YAML at line 2",
                 id="params-not-yaml"),
    pytest.param(["expand", "--params", "bad/list.yaml", "lr=0.1"], "expected a mapping of keys to values, got list",
                 id="params-not-a-mapping"),
    pytest.param(["expand", "--params", "bad/empty.yaml", "lr=0.1"], "is empty (or only comments)", id="params-empty"),
    pytest.param(["expand", "--params", "bad/alias.yaml", "a=1"], "an anchor or alias", id="params-alias"),
    pytest.param(["expand", "--params", "bad/twice.yaml", "lr=0.1"], "key 'lr' appears twice", id="params-key-twice"),
    pytest.param(["expand", "--params", "bad/latin1.yaml", "lr=0.1"], "line 1 is not UTF-8", id="params-not-utf8"),
    pytest.param(["expand", "--params", "bad/huge.yaml", "lr=0.1"], "more than the 1 MiB", id="params-huge"),
    pytest.param(["expand", "--params", "bad/deep.yaml", "a=1"], "nested deeper than 32 levels",
                 id="params-nested-too-deep"),
    pytest.param(["expand", "--params", "bad/unknown.yaml", "lr=0.1"], "unknown key 'lrr'", id="params-unknown-key"),
    pytest.param(["run", "--params", "missing.yaml", "--set", "lr=0.1"], "file not found", id="run-params-missing"),
    pytest.param(["expand", "--params", "/dev/zero", "lr=0.1"], "is a pipe or a device", id="params-device",
                 marks=pytest.mark.skipif(not is_char_device("/dev/zero"), reason="no /dev/zero here")),
    # run: --entry and --set
    pytest.param(["run"], "nothing to run", id="run-nothing"),
    pytest.param(["run", "--entry", "{"], "is not JSON", id="entry-not-json"),
    pytest.param(["run", "--entry", "[" * 100_000], "is not JSON", id="entry-nested-too-deep"),
    pytest.param(["run", "--entry", "{}"], 'needs "set"', id="entry-{}"),
    pytest.param(["run", "--entry", "[]"], "must be a JSON object", id="entry-[]"),
    pytest.param(["run", "--entry", '"lr=0.1"'], "must be a JSON object", id="entry-string"),
    pytest.param(["run", "--entry", '{"set": "lr=0.1"}'], 'needs "set"', id="entry-set-not-a-list"),
    pytest.param(["run", "--entry", '{"set": []}'], 'needs "set"', id="entry-set-empty"),
    pytest.param(["run", "--entry", '{"set": [0.1]}'], 'needs "set"', id="entry-set-not-strings"),
    pytest.param(["run", "--entry", '{"name": 7, "set": ["lr=0.1"]}'], "must be a string",
                 id="entry-name-not-a-string"),
    pytest.param(["run", "--entry", '{"sets": ["lr=0.1"]}'], "unknown key 'sets'", id="entry-unknown-key"),
    pytest.param(["run", "--entry", '{"set": ["lr"]}'], "expected key=value", id="entry-item-not-key=value"),
    pytest.param(["run", "--set", "lr"], "expected key=value", id="set-not-key=value"),
    pytest.param(["run", "--set", "lr=0.1,0.2"], "one value per key", id="set-a-list"),
    pytest.param(["run", "--set", "lrr=0.1"], "has no key 'lrr'", id="set-unknown-key"),
    pytest.param(["run", "--entry", '{"set": ["knn.k=1"]}', "--set", "knn.k=3"], "given twice", id="set-twice"),
    pytest.param(["run", "--set", "lr=-1"], "lr = -1 is not allowed", id="set-stage-refuses"),
    pytest.param(["run", "--set", "seed=042"], "seed = '042' is not allowed", id="set-yaml-1.2-octal"),
    pytest.param(["run", "--entry", '{"name": "a b", "set": ["lr=0.1"]}'], "experiment name", id="name-not-a-ref"),
    pytest.param(["run", "--name", "../main", "--set", "lr=0.1"], "experiment name", id="name-dots"),
    pytest.param(["run", "--name=-x", "--set", "lr=0.1"], "experiment name", id="name-an-option"),
    # --remote: a remote's name, never a URL or an option for git
    pytest.param(["run", "--remote=--upload-pack=touch x", "--set", "lr=0.1"], "give the name of a git remote",
                 id="remote-an-option"),
    pytest.param(["run", "--remote", "../elsewhere.git", "--set", "lr=0.1"], "give the name of a git remote",
                 id="remote-a-path"),
    pytest.param(["collect", "--remote", "https://x.invalid/r.git"], "give the name of a git remote",
                 id="collect-remote-a-url"),
    pytest.param(["collect", "--pull-cache"], "--pull-cache pulls the experiments' outputs from --remote",
                 id="pull-cache-without-remote"),
    # collect --out: only a new file or one tools.sweep wrote (refused before anything is fetched)
    pytest.param(["collect", "--out", "params.yaml"], "params.yaml: exists and tools.sweep did not write it",
                 id="out-params.yaml"),
    pytest.param(["collect", "--out", "theirs.md"], "did not write it", id="out-not-ours"),
    pytest.param(["collect", "--out", "fresh.md"], "fresh.json: exists and tools.sweep did not write it",
                 id="out-json-beside-not-ours"),
    pytest.param(["collect", "--out", "x.json"], "give the path of a .md file", id="out-md-and-json-the-same"),
    pytest.param(["collect", "--out", ""], "give the path of a .md file", id="out-empty"),
    pytest.param(["collect", "--out", "folder.md"], "is a directory", id="out-directory"),
    pytest.param(["collect", "--out", "link.md"], "is a symbolic link", id="out-symlink"),
    pytest.param(["collect", "--out", "dangling.md"], "is a symbolic link", id="out-dangling-symlink"),
    pytest.param(["collect", "--out", "params.yaml/board.md"], "Not a directory", id="out-under-a-file"),
    device_row("/dev/null", ["collect", "--out", "/dev/null"], "is a character device"),
    device_row("/dev/full", ["collect", "--out", "/dev/full"], "is a character device"),
    pytest.param(["collect", "--sort", "gd rmse"], "expected <model>.<metric>", id="sort-malformed"),
]
def snapshot(root):
    """Every path under root but .git: its kind and bytes (or link target) and mtime, to see any write."""
    seen = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts[0] == ".git":
            continue
        info = path.lstat()
        if path.is_symlink():
            seen[relative] = ("link", os.readlink(path))
        elif path.is_dir():
            seen[relative] = ("dir", stat.S_IMODE(info.st_mode))
        else:
            seen[relative] = ("file", path.read_bytes(), info.st_mtime_ns)
    return seen


def assert_one_line(err, code, expected=1):
    assert code == expected
    assert err.startswith("error: sweep") and err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder as the working directory; no git or DVC command may run for a bad input."""
    make_project(tmp_path)
    monkeypatch.chdir(tmp_path)

    def no_command(*args, **kwargs):
        raise AssertionError(f"a command ran for a bad input: {args}")

    monkeypatch.setattr(project_commands, "run", no_command)  # every git and DVC call of the tool goes through it
    return tmp_path


@pytest.mark.parametrize("argv, message", BAD_INPUTS)
def test_every_bad_input_is_one_line_exit_1_and_writes_nothing(project, capsys, argv, message):
    before = snapshot(project)
    devices = {path: os.stat(path).st_rdev for path in ("/dev/null", "/dev/full") if is_char_device(path)}
    code = main(argv)
    out, err = capsys.readouterr()
    assert_one_line(err, code)
    assert message in err and out == ""
    assert snapshot(project) == before  # params.yaml, mine.md, ...: nothing written, replaced or removed
    assert {path: os.stat(path).st_rdev for path in devices if is_char_device(path)} == devices


def test_a_huge_grid_is_refused_from_its_counts_fast_and_in_bounded_memory(project, capsys):
    """10^8 points once built the grid (3 GB, MemoryError) before the 256-job check."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        for keys in (8, 80):
            assert main(["expand", WIDE, *grid([f"k{i}" for i in range(keys)])]) == 1
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    err = capsys.readouterr().err
    assert "100000000 experiments (10 × 10 × 10 × 10 × 10 × 10 × 10 × 10 values)" in err
    assert "at most 256 jobs" in err
    assert seconds < 2 and peak < 10 << 20, (seconds, peak)


@pytest.mark.parametrize("argv", [["run", "--entry", "{}"], ["collect", "--out", "params.yaml"], ["expand"]])
def test_the_real_command_prints_one_line_too(project, argv):
    before = snapshot(project)
    result = subprocess.run([sys.executable, "-m", "tools.sweep", *argv], cwd=project, capture_output=True,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert_one_line(result.stderr, result.returncode)
    assert snapshot(project) == before


# ---- collect on a small git repository (no DVC): its files, and faults while writing them ------

METRICS = {"baseline": {"rmse": 8.66}, "gd": {"mae": 4.48, "rmse": 6.79}, "knn": {"mae": 4.86, "rmse": 6.78}}


def commit_files(repo, files, message):
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git("add", *files, cwd=repo)
    git("commit", "-q", "-m", message, cwd=repo)
    return git("rev-parse", "HEAD", cwd=repo).stdout.strip()


def experiments_repo(root, experiments):
    """A git repo whose HEAD has params and metrics, with experiment refs as `dvc exp run` leaves them.

    ``experiments`` maps a name to the files its commit changes; origin is the repo itself.
    """
    repo = root / "repo"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    params = (ROOT / "params.yaml").read_text()
    head = commit_files(repo, {"params.yaml": params, "metrics/evaluate.json": json.dumps(METRICS)}, "baseline")
    for name, files in experiments.items():
        git("checkout", "-q", "--detach", cwd=repo)
        sha = commit_files(repo, files, name)
        git("update-ref", f"refs/exps/{head[:2]}/{head[2:]}/{name}", sha, cwd=repo)
        git("checkout", "-q", "main", cwd=repo)
    git("remote", "add", "origin", str(repo), cwd=repo)
    return repo


def lr_experiment(lr, gd_rmse):
    metrics = {**METRICS, "gd": {"mae": 4.0, "rmse": gd_rmse}}
    params = (ROOT / "params.yaml").read_text().replace("\nlr: 0.01", f"\nlr: {lr}")
    return {"params.yaml": params, "metrics/evaluate.json": json.dumps(metrics)}


GOOD_SWEEP = {"s1_lr-0.1": lr_experiment(0.1, 7.5), "s1_lr-0.001": lr_experiment(0.001, 6.5)}


def sweep_command(*argv, cwd, prefix=(), **kwargs):
    env = {**os.environ, **dvc_env(), "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("GITHUB_STEP_SUMMARY", None)
    return subprocess.run([*prefix, sys.executable, "-m", "tools.sweep", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, **kwargs)


def test_collect_writes_its_files_with_its_mark_and_replaces_only_those(tmp_path):
    repo = experiments_repo(tmp_path, GOOD_SWEEP)
    result = sweep_command("collect", "--prefix", "s1", "--out", "sweep/board.md", cwd=repo)
    assert result.returncode == 0, result.stderr
    board, rows = (repo / "sweep/board.md").read_text(), json.loads((repo / "sweep/board.json").read_text())
    assert board.startswith("<!-- written by tools.sweep;") and "| 2 | **`s1_lr-0.001`** | `lr=0.001` |" in board
    assert rows["written_by"] == "tools.sweep"
    assert [row["name"] for row in rows["rows"]] == ["(baseline)", "s1_lr-0.001", "s1_lr-0.1"]
    assert rows["rows"][1]["metrics"]["gd"]["rmse"] == 6.5  # metrics/evaluate.json's format, as it was

    result = sweep_command("collect", "--remote", "origin", "--prefix", "s1", "--sort", "knn.mae", "--out",
                           "sweep/board.md", cwd=repo)
    assert result.returncode == 0, result.stderr  # its own files: replaced, after a fetch from the remote named
    assert "sorted by `knn.mae`" in (repo / "sweep/board.md").read_text()
    assert not list((repo / "sweep").glob(".*.tmp"))


PAYLOAD = ("</script><img src=x onerror=alert(1)> @octocat [link](javascript:alert(1)) ![i](https://t.invalid/i.png) "
           "<!-- | cell ``tick`` *em* _em_ \u202eevil\nnext line, \"quoted\"")


def test_the_leaderboard_shows_data_as_text_never_as_markdown_or_html(tmp_path):
    """Names, params values and model names come from pushed refs and committed files: data."""
    params = (ROOT / "params.yaml").read_text().replace("\nlr: 0.01", f"\nlr: {json.dumps(PAYLOAD)}")
    metrics = {**METRICS, "<b>m|x</b>@octocat": {"rmse": 1.0}}
    name = "s1_<img>|@octocat`x"  # a valid git ref name
    repo = experiments_repo(tmp_path, {name: {"params.yaml": params, "metrics/evaluate.json": json.dumps(metrics)}})
    result = sweep_command("collect", "--prefix", "s1", "--out", "board.md", cwd=repo)
    assert result.returncode == 0, result.stderr
    board = (repo / "board.md").read_text()
    assert json.loads((repo / "board.json").read_text())["rows"][1]["params"]["lr"] == PAYLOAD  # the JSON: as it was

    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark").enable("table").render(board)
    outside_code = re.sub(r"<code>.*?</code>", "", html, flags=re.S)
    assert not re.search(r"<(img|script|a|b|em)\b", html), html  # only the renderer's own tags
    assert "@octocat" not in outside_code and "\u202e" not in html
    table = html[html.index("<table>"):]
    rows = re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)
    assert len(rows) == 3 and len({row.count("<t") for row in rows}) == 1, rows  # no cell broken off


def test_the_leaderboard_shows_each_value_whole_through_the_reports_code_span():
    """tools/markdown.py's code(), shared with the report: white space and hidden characters shown as escapes
    (never collapsed or dropped), and a long value whole (the report cuts; the sweep's table does not)."""
    from tools.markdown import code

    long = "x" * 300
    rows = [{"name": "(baseline)", "rev": "b" * 40, "params": {}, "metrics": {"gd": {"rmse": 5.0}}},
            {"name": "s1_x", "rev": "c" * 40, "params": {"features": long, "note": "a\nb\tc\u00a0|"},
             "metrics": {"gd": {"rmse": 4.0}, "": {"rmse": 6.0}}}]
    board = leaderboard_markdown(rows, "gd.rmse", "Sweep leaderboard")
    assert code(f"features={long}", limit=None) in board and "characters)" not in board
    assert "`note=a\\nb\\tc\\u00a0\\|`" in board  # escapes, and the pipe kept inside its cell
    assert "| *(empty)* RMSE |" in board  # an empty model name says so


def broken(**files):
    return {"s1_bad": {**lr_experiment(0.1, 7.0), **files}}


def read_only(folder):
    """A command prefix under which ``folder`` cannot be written: its mode, or for root (who writes whatever
    the mode) a read-only bind mount seen only by that command; else a skip saying why."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return []
    prefix = ["unshare", "--mount", "sh", "-c",
              'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" "$0" && exec "$@"', str(folder)]
    probe = subprocess.run([*prefix, "true"], capture_output=True, text=True) if shutil.which("unshare") else None
    if probe is None or probe.returncode != 0:
        pytest.skip("running as root, who writes into a folder whatever its mode, and a read-only bind mount is "
                    f"not permitted here: {probe.stderr.strip()[-80:] if probe else 'no unshare'}")
    return prefix


def file_size_limit(limit):
    """A write past ``limit`` bytes fails (EFBIG), as a full disk fails a write midway; root too."""
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return {"preexec_fn": apply}


COLLECT_FAULTS = [  # (experiments, extra argv, how to run, a part of the one line)
    pytest.param(GOOD_SWEEP, ["--sort", "lasso.rmse"], None, "no experiment has it", id="sort-names-nothing"),
    pytest.param(GOOD_SWEEP, ["--prefix", "s9"], None, "no experiments of", id="no-experiments"),
    pytest.param(GOOD_SWEEP, ["--remote", "nowhere"], None, "--remote 'nowhere': no such git remote here (this clone "
                 "has 'origin')", id="remote-unknown"),
    pytest.param(broken(**{"metrics/evaluate.json": "{"}), [], None, "not JSON", id="metrics-not-json"),
    pytest.param(broken(**{"metrics/evaluate.json": "[]"}), [], None, '{"rmse": number', id="metrics-a-list"),
    pytest.param(broken(**{"metrics/evaluate.json": '{"gd": {"rmse": NaN}}'}), [], None, "finite", id="metrics-nan"),
    pytest.param(broken(**{"metrics/evaluate.json": '{"gd": {"mae": 1}}'}), [], None, "rmse", id="metrics-no-rmse"),
    pytest.param(broken(**{"metrics/evaluate.json": "[" * 100_000}), [], None, "not JSON",
                 id="metrics-nested-too-deep"),
    pytest.param(broken(**{"params.yaml": "- 1\n"}), [], None,
                 "params.yaml: expected a mapping of keys to values, got list", id="params-not-a-mapping"),
    pytest.param(broken(**{"params.yaml": "a: &a [1]\nb: *a\n"}), [], None, "params.yaml: not valid YAML at line 1: "
                 "an anchor or alias", id="params-alias"),
    pytest.param(broken(**{"params.yaml": "lr: 0.1\nlr: 0.2\n"}), [], None, "key 'lr' appears twice",
                 id="params-key-twice"),
    pytest.param(broken(**{"params.yaml": "a: " + "[" * 100 + "]" * 100 + "\n"}), [], None,
                 "nested deeper than 32 levels", id="params-nested-too-deep"),
    pytest.param(GOOD_SWEEP, [], "read-only", "sweep/board.md: cannot be written (", id="read-only-folder"),
    pytest.param(GOOD_SWEEP, [], "disk-full", "sweep/board.json: cannot be written (File too large)",
                 id="disk-full-midway"),
]


@pytest.mark.parametrize("experiments, argv, fault, message", COLLECT_FAULTS)
def test_collect_faults_are_one_line_and_leave_the_old_files(tmp_path, experiments, argv, fault, message):
    repo = experiments_repo(tmp_path, experiments)
    out = repo / "sweep"
    out.mkdir()
    old = {"board.md": stamp("# the last leaderboard\n", "tools.sweep"), "board.json": json_text({}, "tools.sweep")}
    for name, text in old.items():
        (out / name).write_text(text)
    prefix, options = [], {}
    if fault == "read-only":
        prefix = read_only(out)
    elif fault == "disk-full":
        options = file_size_limit(1024)  # the JSON rows are larger; git's own writes are smaller
    before = snapshot(repo)
    try:
        result = sweep_command("collect", "--prefix", "s1", "--out", "sweep/board.md", *argv, cwd=repo,
                               prefix=prefix, **options)
    finally:
        out.chmod(0o755)
    assert_one_line(result.stderr, result.returncode)
    assert message in result.stderr
    assert snapshot(repo) == before
    assert {name: (out / name).read_text() for name in old} == old
    assert not list(out.glob(".*.tmp"))


# ---- run: pushes only where --remote says ---------------------------------------------------

HEAD = "ab" + "c" * 38


def fake_commands(monkeypatch, remotes=("origin",)):
    """project.commands.run answering as git and DVC would for one successful experiment; the calls, recorded."""
    calls = []

    def run(args, *, cwd=None, check=True, timeout=None, text=True, env=None):
        words = [str(word) for word in args]
        words = words[2:] if words[:2] == [sys.executable, "-m"] else words
        calls.append(words)
        out, code = "", 0
        if words[:2] == ["dvc", "config"]:
            code = 1  # no DVC remote
        elif words[:3] == ["dvc", "exp", "run"]:
            out = "Running stage 'fit@gd':\nRan experiment(s): lr-0.1\n"
        elif words[:2] == ["git", "remote"]:
            out = "".join(f"{name}\n" for name in remotes)
        elif words[:3] == ["git", "rev-parse", "HEAD"]:
            out = HEAD + "\n"
        elif words[:2] == ["git", "for-each-ref"]:
            out = f"refs/exps/ab/{HEAD[2:]}/lr-0.1\n"
        elif words[:2] == ["git", "push"]:
            pass
        else:
            raise AssertionError(f"unexpected command {words}")
        return subprocess.CompletedProcess(args, code, out, "")

    monkeypatch.setattr(project_commands, "run", run)
    return calls


@pytest.mark.parametrize("argv, remotes, pushed_to, line", [
    pytest.param([], ("origin",), None, "kept in this clone (give --remote NAME to push it)", id="no-remote-no-push"),
    pytest.param(["--remote", "demo"], ("origin", "demo"), "demo", "pushed refs/exps/ab/", id="remote-named"),
    pytest.param(["--remote", "origin"], ("origin",), "origin", "pushed refs/exps/ab/", id="origin-when-asked"),
])
def test_run_pushes_only_to_the_remote_it_is_given(project, monkeypatch, capsys, argv, remotes, pushed_to, line):
    calls = fake_commands(monkeypatch, remotes)
    assert main(["run", "--set", "lr=0.1", *argv]) == 0
    out = capsys.readouterr().out
    assert line in out and "Ran experiment(s): lr-0.1" in out
    pushes = [words for words in calls if words[:2] == ["git", "push"]]
    if pushed_to is None:
        assert pushes == []
    else:
        assert pushes == [["git", "push", pushed_to, f"refs/exps/ab/{HEAD[2:]}/lr-0.1:refs/exps/ab/{HEAD[2:]}/lr-0.1"]]
    assert ["dvc", "exp", "run", "--name", "lr-0.1", "-S", "lr=0.1"] in calls


def test_run_refuses_a_remote_this_clone_lacks_before_the_experiment_runs(project, monkeypatch, capsys):
    calls = fake_commands(monkeypatch, ("origin",))
    code = main(["run", "--set", "lr=0.1", "--remote", "demo"])
    assert_one_line(capsys.readouterr().err, code)
    assert not [words for words in calls if words[:2] in (["dvc", "exp"], ["git", "push"])], calls


# ---- tools/owned.py: the rule itself ----------------------------------------------------------

OWNERSHIP = [  # (file name, its text or None for absent, may tools.sweep write it?)
    ("new.md", None, True),
    ("ours.md", stamp("old\n", "tools.sweep"), True),
    ("ours.json", json_text({"rows": []}, "tools.sweep"), True),
    ("report.md", stamp("old\n", "tools.report"), False),  # another tool's
    ("report.json", json_text({}, "tools.report"), False),
    ("hand.md", "# notes\n<!-- written by tools.sweep; -->\n", False),  # the mark must be the first line
    ("list.json", '[{"written_by": "tools.sweep"}]', False),
    ("broken.json", '{"written_by": "tools.sweep"', False),
    ("empty.md", "", False),
    ("params.yaml", "lr: 0.1\n", False),
]


@pytest.mark.parametrize("name, text, allowed", OWNERSHIP)
def test_owned_writes_new_files_and_its_own_only(tmp_path, name, text, allowed):
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    new = json_text({"x": 1}, "tools.sweep") if name.endswith(".json") else stamp("new\n", "tools.sweep")
    if allowed:
        owned.write_owned({path: new}, "tools.sweep")
        assert path.read_text() == new
    else:
        with pytest.raises(owned.OwnedError, match="did not write it"):
            owned.write_owned({path: new}, "tools.sweep")
        assert path.read_text() == text
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temporary left behind


def test_owned_refuses_text_without_its_mark(tmp_path):
    with pytest.raises(ValueError, match="lacks tools.sweep's mark"):
        owned.write_owned({tmp_path / "a.md": "# no mark\n"}, "tools.sweep")
    assert not list(tmp_path.iterdir())


# ---- the fan-out, simulated with clones of one bare origin -----------------------------------

def sweep(*args, cwd):
    return run([sys.executable, "-m", "tools.sweep", *args], cwd=cwd)


@pytest.mark.pipeline
def test_runners_fan_out_and_the_leaderboard_matches_a_serial_sweep(baseline_repo, tmp_path, monkeypatch):
    source, _ = baseline_repo
    seed = tmp_path / "seed"
    shutil.copytree(source, seed, symlinks=True)
    storage = tmp_path / "dvc-storage"  # a directory remote: the documented one-machine fallback
    dvc("remote", "add", "-d", "shared", str(storage), cwd=seed)
    git("add", ".dvc/config", cwd=seed)
    git("commit", "-q", "-m", "DVC remote", cwd=seed)
    origin = bare_origin(tmp_path, seed)
    dvc("push", "--run-cache", cwd=seed)

    matrix = json.loads(sweep("expand", "--prefix", "t1", *SWEEP, cwd=seed).stdout)
    entries = matrix["include"]
    runner_seconds = []
    for i, entry in enumerate(entries):  # one at a time: this machine's cores are shared
        runner = fresh_clone(origin, tmp_path / f"runner{i}")
        started = time.monotonic()
        result = sweep("run", "--entry", json.dumps(entry), "--remote", "origin", cwd=runner)
        runner_seconds.append(time.monotonic() - started)
        # The runner pulled the run-cache: only the stages that read lr ran.
        assert not stages_run(result.stdout) & UNAFFECTED_BY_LR, result.stdout
        assert "pushed refs/exps/" in result.stdout and "DVC remote" in result.stdout

    collector = fresh_clone(origin, tmp_path / "collector")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    started = time.monotonic()
    sweep("collect", "--remote", "origin", "--prefix", "t1", "--sort", "gd.rmse", "--out", "sweep/board.md",
          cwd=collector)
    collect_seconds = time.monotonic() - started
    board = (collector / "sweep/board.md").read_text()
    rows = json.loads((collector / "sweep/board.json").read_text())["rows"]
    assert summary.read_text() == board
    assert [row["name"] for row in rows][0] == "(baseline)"
    assert {row["name"] for row in rows[1:]} == {entry["name"] for entry in entries}
    for entry in entries:
        assert f"**`{entry['name']}`**" in board
    gd_rmse = [row["metrics"]["gd"]["rmse"] for row in rows[1:]]
    assert gd_rmse == sorted(gd_rmse)
    assert "`lr=0.1`" in board and "`lr=0.001`" in board  # the changed params, per experiment

    # The same sweep, serially in one clone (the seed, which already ran main).
    serial = {}
    started = time.monotonic()
    for entry in entries:
        (setting,) = entry["set"]
        before = set(dvc("exp", "list", "--name-only", cwd=seed).stdout.split())
        dvc("exp", "run", "-S", setting, cwd=seed)
        (name,) = set(dvc("exp", "list", "--name-only", cwd=seed).stdout.split()) - before
        shown = subprocess.run(["git", "show", f"{experiment_ref(seed, name)}:metrics/evaluate.json"],
                               cwd=seed, capture_output=True, text=True, check=True).stdout
        serial[setting] = json.loads(shown)["details"]["test"]
    serial_seconds = time.monotonic() - started
    fanned = {f"lr={row['params']['lr']}": row["metrics"] for row in rows[1:] if "lr" in row["params"]}
    assert fanned == serial
    print(f"\nfan-out: N={len(entries)} runners, {', '.join(f'{s:.1f}' for s in runner_seconds)} s each "
          f"(sum {sum(runner_seconds):.1f} s), collect {collect_seconds:.1f} s; serially in one clone "
          f"{serial_seconds:.1f} s")


def experiment_ref(repo, name):
    refs = git("for-each-ref", "--format=%(refname)", "refs/exps", cwd=repo).stdout.split()
    (ref,) = [ref for ref in refs if ref.rsplit("/", 1)[-1] == name]
    return ref
