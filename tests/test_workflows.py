"""The GitHub workflows: schema-valid, least privilege, and their `run:` steps executed in order.

A small runner below plays GitHub's part for one job: it substitutes the few `${{ }}` expressions
the steps use with simulated values (an unknown expression fails the test), runs each `run:` step
with `bash -eo pipefail` in a checkout of a simulated pull request, and collects `$GITHUB_OUTPUT`
and `$GITHUB_STEP_SUMMARY`. The steps that need GitHub itself are skipped by an explicit list:
`uses:` actions (checkout, setup-python, upload-artifact, simulated by the clone and this venv) and
the PR comment (GitHub's API). `python -m pip` is recorded, not run: this venv already holds the
packages, and an editable install from a scratch clone would re-point the shared venv.
"""

import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from tests.conftest import ROOT, copy_source_tree, dvc, dvc_env, git, stages_run
from tests.test_sharing import bare_origin, fresh_clone

WORKFLOWS = ROOT / ".github" / "workflows"
CURRENT_MAJORS = {"actions/checkout": "v7", "actions/setup-python": "v7", "actions/upload-artifact": "v7"}
GITHUB_ONLY_ACTIONS = set(CURRENT_MAJORS)   # `uses:` steps the simulation stands in for
GITHUB_ONLY_STEP_IDS = {"comment"}          # needs GitHub's API and a token that can write


def load(name):
    with open(WORKFLOWS / name, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def triggers(workflow):
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True


# ---- static checks --------------------------------------------------------------------------

def test_workflows_validate_against_githubs_schema():
    # actionlint's PyPI wrapper builds by downloading its binary from GitHub, which cannot happen
    # offline, so the workflows are checked against the schema check-jsonschema vendors instead.
    files = sorted(str(path) for path in WORKFLOWS.glob("*.yml"))
    assert len(files) >= 2
    result = subprocess.run([os.path.join(os.path.dirname(sys.executable), "check-jsonschema"),
                             "--builtin-schema", "vendor.github-workflows", *files],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflows_use_current_majors_least_permissions_and_no_pull_request_target():
    for path in WORKFLOWS.glob("*.yml"):
        workflow = load(path.name)
        assert "pull_request_target" not in triggers(workflow), path.name
        assert workflow["permissions"] == {}, path.name  # nothing by default; each job asks
        for job_name, job in workflow["jobs"].items():
            assert "permissions" in job, (path.name, job_name)
            assert set(job["permissions"].values()) <= {"read", "write"}
            writes = {scope for scope, level in job["permissions"].items() if level == "write"}
            assert writes <= {"pull-requests", "contents"}, (path.name, job_name, writes)
            for step in job["steps"]:
                if "uses" in step:
                    action, _, major = step["uses"].partition("@")
                    assert CURRENT_MAJORS.get(action) == major, step["uses"]
                    if action == "actions/setup-python":
                        assert step["with"]["cache"] == "pip"
                        assert step["with"]["cache-dependency-path"] == "requirements.lock"
    pr = load("pr-report.yml")
    assert pr["jobs"]["test"]["permissions"] == {"contents": "read"}
    assert pr["jobs"]["report"]["permissions"] == {"contents": "read", "pull-requests": "write"}
    comment = next(step for step in pr["jobs"]["report"]["steps"] if step.get("id") == "comment")
    assert "github.event.pull_request.head.repo.full_name == github.repository" in comment["if"]
    sweep = load("sweep.yml")
    assert {job: spec["permissions"] for job, spec in sweep["jobs"].items()} == {
        "expand": {"contents": "read"}, "run": {"contents": "write"}, "collect": {"contents": "read"}}


def test_the_pr_comment_and_the_job_summary_are_the_report_as_written():
    """Its pictures are Mermaid charts in the text: nothing is stripped, nothing links to an artifact."""
    steps = load("pr-report.yml")["jobs"]["report"]["steps"]
    comment = next(step for step in steps if step.get("id") == "comment")
    assert "--body-file report/report.md" in comment["run"] and "grep" not in comment["run"]
    assert comment["run"].strip().count("\n") == 0  # one command: gh pr comment, nothing rewritten first
    report = next(step for step in steps if step.get("id") == "report")
    assert 'cat report/report.md >> "$GITHUB_STEP_SUMMARY"' in report["run"]


# The expressions pr-report.yml may use: none is a name a pull request chooses (its branch, a fork's
# branch, its title), which would reach what renders it (issue 23 #1: `dvc plots` writes a revision's
# name into a page's script).
PR_REPORT_EXPRESSIONS = {"github.event.pull_request.number", "github.base_ref", "github.token",
                         "steps.report.outputs.status", "secrets.DVC_REMOTE_URL", "secrets.DVC_REMOTE_ENDPOINT_URL",
                         "secrets.DVC_READONLY_ACCESS_KEY_ID", "secrets.DVC_READONLY_SECRET_ACCESS_KEY"}


def test_the_pr_workflow_passes_no_name_a_pull_request_chooses_to_a_step():
    workflow = load("pr-report.yml")
    text = "\n".join(line.split("#", 1)[0] for line in (WORKFLOWS / "pr-report.yml").read_text().splitlines())
    assert set(EXPRESSION.findall(text)) <= PR_REPORT_EXPRESSIONS, set(EXPRESSION.findall(text))
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), step.get("name")  # values reach a script through env:
            assert not re.search(r"head_ref|head\.(ref|label|sha)|title|body", str(step.get("if", ""))), step
    report = next(step for step in workflow["jobs"]["report"]["steps"] if step.get("id") == "report")
    assert report["env"] == {"BASE_REF": "${{ github.base_ref }}"}
    assert '--base "origin/$BASE_REF"' in report["run"]  # a branch of this repository; DVC gets its commit


def test_the_test_job_runs_the_readmes_test_command_on_the_lock():
    readme = (ROOT / "README.md").read_text()
    line = next(line for line in readme.splitlines()
                if "requirements.lock" in line and line.rstrip().endswith("&& pytest"))
    # The venv is setup-python's; every other part of the README's command runs, in order.
    wanted = [part.strip() for part in line.split("&&")
              if not part.strip().startswith(("python3 -m venv", ". .venv/bin/activate"))]
    job = load("pr-report.yml")["jobs"]["test"]
    lines = [text.strip() for step in job["steps"] if "run" in step for text in step["run"].splitlines()]
    found = [text.removeprefix("python -m ") for text in lines if text.removeprefix("python -m ") in wanted]
    assert found == wanted, (wanted, lines)


# ---- the job runner ---------------------------------------------------------------------------

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def substitute(text, context):
    def value(match):
        expression = match.group(1)
        assert expression in context, f"the simulation has no value for ${{{{ {expression} }}}}"
        return str(context[expression])
    return EXPRESSION.sub(value, str(text))


def fake_python(folder, log):
    """`python` that records `python -m pip ...` and runs everything else with this venv's python."""
    folder.mkdir()
    script = folder / "python"
    script.write_text(f'#!/usr/bin/env bash\nif [ "$1" = "-m" ] && [ "$2" = "pip" ]; then\n'
                      f'  echo "${{*:3}}" >> "{log}"; exit 0\nfi\nexec "{sys.executable}" "$@"\n')
    script.chmod(0o755)
    return folder


def run_job(workflow, job_name, workspace, context, tmp_path, only=None):
    """Run a job's steps in order as GitHub would; returns (results, outputs, summary text).

    results: [(step name, "skipped: why" | exit code, output)]. After a failing step the rest are
    not run (none of these steps has `if: failure()`), as on GitHub.
    """
    job = workflow["jobs"][job_name]
    files = {name: tmp_path / f"{job_name}.{name}" for name in ("output", "summary", "env")}
    for path in files.values():
        path.write_text("")
    pip_log = tmp_path / "pip.log"
    bin_dir = fake_python(tmp_path / f"{job_name}-bin", pip_log)
    context = dict(context)
    results, failed = [], False
    for index, step in enumerate(job["steps"]):
        name = step.get("name", step.get("uses", f"step {index}"))
        if only is not None and name not in only:
            continue
        if "uses" in step:
            assert step["uses"].partition("@")[0] in GITHUB_ONLY_ACTIONS, f"unexpected action {step['uses']}"
            results.append((name, "skipped: uses", ""))
            continue
        if step.get("id") in GITHUB_ONLY_STEP_IDS:
            results.append((name, "skipped: GitHub only", ""))
            continue
        assert "if" not in step, f"the simulation evaluates no `if:`; step {name!r} has one"
        if failed:
            results.append((name, "skipped: an earlier step failed", ""))
            continue
        env = dvc_env()
        env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
        env.update({"CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(files["output"]),
                    "GITHUB_STEP_SUMMARY": str(files["summary"]), "GITHUB_ENV": str(files["env"]),
                    "GITHUB_WORKSPACE": str(workspace), "GITHUB_REPOSITORY": "team/fromzero",
                    "GITHUB_SERVER_URL": "https://github.com", "GITHUB_RUN_ID": "1",
                    "GITHUB_BASE_REF": context.get("github.base_ref", ""), "RUNNER_TEMP": str(tmp_path)})
        for scope in (workflow.get("env", {}), job.get("env", {}), step.get("env", {})):
            env.update({key: substitute(value, context) for key, value in scope.items()})
        env.update(dict(line.split("=", 1) for line in files["env"].read_text().splitlines() if "=" in line))
        script = tmp_path / f"{job_name}-step{index}.sh"
        script.write_text(substitute(step["run"], context))
        result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                                cwd=workspace, env=env, capture_output=True, text=True)
        results.append((name, result.returncode, result.stdout + result.stderr))
        for line in files["output"].read_text().splitlines():
            key, _, value = line.partition("=")
            if step.get("id"):
                context[f"steps.{step['id']}.outputs.{key}"] = value
        failed = result.returncode != 0
    outputs = {key: value for key, value in context.items() if key.startswith("steps.")}
    return results, outputs, files["summary"].read_text(), pip_log.read_text() if pip_log.exists() else ""


def step_result(results, prefix):
    (found,) = [(code, output) for name, code, output in results if name.startswith(prefix)]
    return found


# ---- a simulated pull request -----------------------------------------------------------------

@pytest.fixture
def pull_request(pipeline_repo, tmp_path):
    """origin (bare) with main, whose outputs and run-cache sit in a directory DVC remote."""
    author = pipeline_repo
    origin = bare_origin(tmp_path, author)
    storage = tmp_path / "dvc-storage"
    dvc("remote", "add", "-d", "shared", str(storage), cwd=author)
    dvc("push", "--run-cache", cwd=author)
    dvc("remote", "remove", "shared", cwd=author)

    def open_pr(branch, key, value):
        git("checkout", "-q", "-b", branch, "main", cwd=author)
        params = author / "params.yaml"
        params.write_text(set_param(params.read_text(), key, value))  # edited by hand, no repro
        git("commit", "-q", "-am", f"Try {key}={value}", cwd=author)
        git("push", "-q", "origin", branch, cwd=author)
        workspace = fresh_clone(origin, tmp_path / f"checkout-{branch}")  # fetch-depth: 0
        git("checkout", "-q", branch, cwd=workspace)
        return workspace

    return open_pr, storage


def set_param(text, dotted, value):
    """params.yaml with one (nested) key's value replaced in place, as an editor would."""
    lines, path, stack = text.splitlines(keepends=True), dotted.split("."), []
    for index, line in enumerate(lines):
        match = re.match(r"^( *)([A-Za-z_]\w*):", line)
        if match:
            stack[len(match.group(1)) // 2:] = [match.group(2)]
            if stack == path:
                lines[index] = f"{match.group(1)}{match.group(2)}: {value}\n"
                return "".join(lines)
    raise AssertionError(f"params.yaml has no {dotted}")


def pr_context(remote_url=""):
    return {"github.base_ref": "main", "secrets.DVC_REMOTE_URL": remote_url,
            "secrets.DVC_REMOTE_ENDPOINT_URL": "", "secrets.DVC_READONLY_ACCESS_KEY_ID": "",
            "secrets.DVC_READONLY_SECRET_ACCESS_KEY": ""}


@pytest.mark.pipeline
def test_pr_report_job_on_a_pull_request_that_changes_lr(pull_request, tmp_path):
    open_pr, storage = pull_request
    workspace = open_pr("smaller-lr", "lr", "0.001")
    results, outputs, summary, pips = run_job(load("pr-report.yml"), "report", workspace,
                                              pr_context(str(storage)), tmp_path)
    assert [code for _, code, _ in results if isinstance(code, int)] == [0] * 5, results
    assert {name for name, code, _ in results if str(code).startswith("skipped")} == {
        "actions/checkout@v7", "actions/setup-python@v7", "Keep the report and its images",
        "Post the report on the pull request"}
    assert "install -r requirements.lock" in pips and "install --no-deps -e ." in pips
    code, log = step_result(results, "Pull the run-cache")
    assert "No DVC remote" not in log
    code, log = step_result(results, "Run the pipeline")
    # The run-cache and main's outputs came from the remote: only what reads lr ran.
    ran = stages_run(log)
    assert {"fit@gd", "evaluate"} <= ran and not ran & {"load", "fit@knn", "fit@random_search", "fit@net"}, log
    assert outputs["steps.report.outputs.status"] == "0"
    report = (workspace / "report/report.md").read_text()
    assert "| `params.yaml` | `lr` | 0.01 | 0.001 |" in report and "**Gates: all passed**" in report
    assert summary == report  # the job summary carries the whole report


@pytest.mark.pipeline
def test_pr_report_job_from_a_fork_with_a_failing_gate(pull_request, tmp_path):
    open_pr, _ = pull_request
    workspace = open_pr("too-few-steps", "gd.steps", "10")
    results, outputs, summary, _ = run_job(load("pr-report.yml"), "report", workspace, pr_context(""), tmp_path)
    code, log = step_result(results, "Pull the run-cache")
    assert code == 0 and "No DVC remote configured" in log
    code, log = step_result(results, "Run the pipeline")
    # A fork has no secrets, so no cache: every stage with a cached output recomputes.
    assert code == 0 and {"load", "fit@knn", "fit@random_search", "fit@gd", "fit@net", "evaluate"} <= stages_run(log), log
    assert outputs["steps.report.outputs.status"] == "1"
    assert "❌ FAIL: `gd` test MSE is" in summary  # the fork's reviewer reads the summary
    code, log = step_result(results, "Fail the check")
    assert code == 1 and "A gate failed" in log

    # The report itself failing is told apart: exit 2, one line, and the check says so.
    crashed = subprocess.run([sys.executable, "-m", "tools.report", "--base", "origin/no-such-branch", "--check"],
                             cwd=workspace, env=dvc_env(), capture_output=True, text=True)
    assert crashed.returncode == 2
    assert crashed.stderr.startswith("error: report: ") and crashed.stderr.count("\n") == 1
    again = tmp_path / "again"
    again.mkdir()
    results, _, _, _ = run_job(load("pr-report.yml"), "report", workspace,
                               {**pr_context(), "steps.report.outputs.status": "2"}, again,
                               only={"Fail the check when a gate failed (1) or the report failed (2)"})
    code, log = results[0][1], results[0][2]
    assert code == 2 and "The report itself failed" in log


def test_sweep_expand_job_writes_a_matrix_the_run_job_can_read(tmp_path):
    workspace = tmp_path / "repo"
    copy_source_tree(workspace)
    workflow = load("sweep.yml")
    results, outputs, _, _ = run_job(workflow, "expand", workspace,
                                     {"inputs.overrides": "lr=0.1,0.01 knn.k=1,3", "github.run_id": "77"},
                                     tmp_path)
    assert [code for _, code, _ in results if isinstance(code, int)] == [0, 0], results
    matrix = json.loads(outputs["steps.expand.outputs.matrix"])
    assert len(matrix["include"]) == 4
    assert all(entry["name"].startswith("sweep77_") for entry in matrix["include"])
    run_steps = " ".join(step.get("run", "") + json.dumps(step.get("env", {})) for step in workflow["jobs"]["run"]["steps"])
    assert "toJSON(matrix)" in run_steps and 'tools.sweep run --entry "$ENTRY" --remote origin' in run_steps
    assert 'tools.sweep collect --remote origin --prefix "$PREFIX"' in workflow["jobs"]["collect"]["steps"][-2]["run"]


def test_sweep_jobs_name_the_remote_they_push_to_and_fetch_from():
    """tools.sweep pushes and fetches only where --remote says: each job that needs GitHub's origin names it."""
    for job in ("run", "collect"):
        calls = [line for step in load("sweep.yml")["jobs"][job]["steps"]
                 for line in step.get("run", "").splitlines() if "tools.sweep" in line]
        assert calls and all("--remote origin" in line for line in calls), (job, calls)
