"""What DVC itself says before the project can speak, and the fix for each (issue 19, item 7).

One row per message a user can meet: what they ran, the words DVC prints, whether DVC has already
rewritten params.yaml, and the fix. Each row runs in a copy of the committed pipeline; where DVC left
params.yaml changed, the restore recipe (check_params' RESTORE) brings the workspace back to the
commit. ``python -m tests.test_dvc_messages`` prints the table for docs/troubleshooting.md.
"""

import os
import signal
import subprocess
import sys

import pytest

from stages.check_params import restore_command
from tests.conftest import dvc, dvc_env, git

RECIPE = restore_command("params.yaml")

# (id, a shell command run first or None, the `dvc` arguments, DVC's key words, params.yaml left changed, the fix)
MESSAGES = [
    ("a folder as the data file", None, ["exp", "run", "-S", "data.csv=data"],
     ["ERROR: Same item(s) are defined as both a dependency and an output in stage: load."], True,
     "data.csv must name the CSV file itself; `data/` is a folder that also holds the pipeline's own outputs. "
     f"DVC has already written the value into params.yaml: `{RECIPE}`, then `dvc exp run -S data.csv=<your file>.csv`"),
    ("a decimal comma", None, ["exp", "run", "-S", "lr=0,01"],
     ["ERROR: Sweep overrides can't be used without `--queue`"], False,
     "a comma makes a list of values to sweep, for DVC: write a decimal point, `dvc exp run -S lr=0.01`"),
    ("a misspelt key", None, ["exp", "run", "-S", "lrr=0.1"],
     ["ERROR: Invalid `--set-param` value: Could not override 'lrr'.", "Key 'lrr' is not in struct"], False,
     "params.yaml has no such key: check its spelling against params.yaml (here `lr`); do not append it with "
     "`+lrr=...` as DVC suggests: check_params refuses unknown keys"),
    ("a key under a section that does not exist", None, ["exp", "run", "-S", "models.knn=1"],
     ["Could not override 'models.knn'", "Key 'models' is not in struct"], False,
     "the model list is models.yaml, not params.yaml: a model's settings are under its section (`-S knn.k=5`)"),
    ("a whole number written with a decimal point", None, ["exp", "run", "-S", "knn.k=3.0"],
     ["Ran experiment(s)"], True,
     "nothing to fix: DVC compares values (3.0 == 3), reruns nothing and records `k: 3.0`, which the stages read "
     "as 3 - the results are k = 3's"),
    ("a number below the smallest float", None, ["exp", "run", "-S", "lr=1e-400"],
     ["lr = 0.0 is not allowed: must be a finite number > 0 (a number below about 5e-324, such as 1e-400, "
      "underflows to 0.0)", "differs from git HEAD at lr"], True,
     "DVC writes 1e-400 as `lr: 0.0` before check_params reads it (which says so): "
     f"`{RECIPE}`, then a rate a 64-bit float holds, e.g. `-S lr=1e-4`"),
    ("a leading zero", None, ["exp", "run", "-S", "seed=042"],
     ["seed = '042' is not allowed: must be a whole number from 0 to 4294967295"], True,
     "YAML (as DVC reads it) keeps 042 as text: `-S seed=42`; DVC has already written it: the recipe first"),
    ("a comment in -S", None, ["exp", "run", "-S", "lr=0.02 # fast"],
     ["LexerNoViableAltException: lr=0.02 # fast"], False,
     "no comments (or spaces) in a -S value: `dvc exp run -S lr=0.02`; quote a value with spaces: -S 'key=\"a b\"'"),
    ("no value", None, ["exp", "run", "-S", "lr"], ["Error parsing override 'lr'", "missing EQUAL at '<EOF>'"],
     False, "-S takes key=value: `dvc exp run -S lr=0.02`"),
    ("an unclosed list", None, ["exp", "run", "-S", "data.features=[RM, LSTAT"],
     ["no viable alternative at input '[RM, LSTAT'"], False,
     "close the list and quote it for the shell: `dvc exp run -S 'data.features=[RM, LSTAT]'`"),
    ("a tab in params.yaml", "printf 'seed: 42\\n\\tlr: 0.01\\n' >> params.yaml", ["exp", "run", "-S", "lr=0.02"],
     ["ERROR: unable to read: 'params.yaml', YAML file structure is corrupted",
      "found character '\\t' that cannot start any token", "(line: "], False,
     "YAML indents with spaces, never tabs: fix the line DVC names, or take the committed file back: "
     "`git checkout HEAD -- params.yaml`"),
    ("a key twice in params.yaml", "printf 'lr: 0.02\\n' >> params.yaml", ["exp", "run"],
     ["found duplicate key \"lr\"", "Duplicate_keys"], False,
     "keep one of the two lines DVC names (the stages refuse the file too: DVC and they read it alike)"),
    ("params.yaml deleted", "rm params.yaml", ["exp", "run"],
     ["ERROR: failed to parse 'stages.load.deps' in 'dvc.yaml': Could not find 'data.csv'"], False,
     "dvc.yaml takes the data file's path from params.yaml, which is missing: `git checkout HEAD -- params.yaml`"),
    ("models.yaml broken", "printf 'models:\\n  knn: [\\n' > models.yaml", ["exp", "run"],
     ["ERROR: unable to read: 'models.yaml', YAML file structure is corrupted"], False,
     "fix the line DVC names in models.yaml (dvc.yaml reads it for `fit`'s list of models), or "
     "`git checkout HEAD -- models.yaml`"),
]


def changed_files(repo):
    return git("status", "--porcelain", cwd=repo).stdout


@pytest.mark.pipeline
@pytest.mark.parametrize("setup, args, words, rewrites, fix", [pytest.param(*row[1:], id=row[0]) for row in MESSAGES])
def test_each_message_dvc_prints_first_is_mapped_to_its_fix(pipeline_repo, setup, args, words, rewrites, fix):
    repo = pipeline_repo
    committed = (repo / "params.yaml").read_bytes()
    if setup:
        subprocess.run(setup, shell=True, cwd=repo, check=True)
    result = dvc(*args, cwd=repo, check=False)
    said = result.stdout + result.stderr
    for word in words:
        assert word in said, (word, said)
    assert (result.returncode == 0) == ("Ran experiment(s)" in words), said
    if setup:
        return  # the file was broken by hand: DVC wrote nothing; the fix is in the row
    assert ((repo / "params.yaml").read_bytes() != committed) == rewrites, said
    if rewrites:
        if args[-1] == "knn.k=3.0":  # the stages read what DVC recorded as the number it is
            check = subprocess.run([sys.executable, "-m", "stages.check_params", "--params", "params.yaml",
                                    "--models", "models.yaml", "--out", "data/params.ok"], cwd=repo,
                                   capture_output=True, text=True)
            assert check.returncode == 0, check.stderr
        recipe = subprocess.run(RECIPE, shell=True, cwd=repo, env=dvc_env(), capture_output=True, text=True)
        assert recipe.returncode == 0, recipe.stdout + recipe.stderr
        assert (repo / "params.yaml").read_bytes() == committed and changed_files(repo) == ""


@pytest.mark.pipeline
def test_an_exp_run_blocked_by_a_running_repro(pipeline_repo):
    """DVC's words when another DVC command holds the outputs, and what the blocked run has done already."""
    repo = pipeline_repo
    committed = (repo / "params.yaml").read_bytes()
    # A long stage holds the outputs for as long as the test needs, whatever the machine's load (a whole
    # `repro -f` once finished before the blocked run reached its lock): the net at 300,000 steps (minutes, within the limits), then Ctrl-C.
    (repo / "params.yaml").write_bytes(committed.replace(b"steps: 2000", b"steps: 300000", 1))
    running = subprocess.Popen([sys.executable, "-m", "dvc", "repro", "-f", "fit@net"], cwd=repo, env=dvc_env(),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    for line in running.stdout:
        if "Running stage 'fit@net'" in line:
            break
    blocked = dvc("exp", "run", "-S", "lr=0.02", cwd=repo, check=False)
    said = blocked.stdout + blocked.stderr
    os.killpg(running.pid, signal.SIGINT)  # Ctrl-C, as a terminal sends it: DVC and its stage
    running.communicate(timeout=300)
    assert "is busy, it is being blocked by:" in said and "repro -f fit@net" in said, said
    assert (repo / "params.yaml").read_bytes() != committed  # the blocked run wrote its -S value anyway
    recipe = subprocess.run(RECIPE, shell=True, cwd=repo, env=dvc_env(), capture_output=True, text=True)
    assert recipe.returncode == 0, recipe.stdout + recipe.stderr
    assert (repo / "params.yaml").read_bytes() == committed and changed_files(repo) == ""


BLOCKED = ("another DVC command running", "`dvc repro` in another terminal", "`dvc exp run -S lr=0.02`",
           "ERROR: failed to reproduce '...': '<output>' is busy, it is being blocked by: (PID n): dvc repro", True,
           "wait for the other command to end. The blocked run has already written its -S values into params.yaml, "
           f"and the running one may have recorded them in dvc.lock: then `{RECIPE}`")


def table():
    rows = ["| you ran | DVC says (or check_params, right after DVC) | DVC rewrote params.yaml | the fix |",
            "|---|---|---|---|"]

    def code(text):
        return f"`` {text} ``" if "`" in text else f"`{text}`"

    for name, setup, args, words, rewrites, fix in MESSAGES:
        ran = (f"{setup}; " if setup else "") + "dvc " + " ".join(args)
        rows.append(f"| {code(ran)} | {' … '.join(code(word) for word in words)} | {'yes' if rewrites else 'no'} | "
                    f"{fix.replace('|', '&#124;')} |")
    name, _, ran, words, rewrites, fix = BLOCKED
    rows.append(f"| {ran} while {_} | {code(words)} | yes | {fix} |")
    return "\n".join(rows)


if __name__ == "__main__":
    os.environ.setdefault("DVC_NO_ANALYTICS", "1")
    print(table())

