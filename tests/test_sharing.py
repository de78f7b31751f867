"""Sharing results through a DVC remote: a real S3 endpoint on loopback, a bare repo as the git host.

Clone A runs the pipeline and an experiment and pushes (git, DVC cache with run-cache, the
experiment); a fresh clone B pulls and finds everything up to date, reruns nothing, and applies A's
experiment from the remote's cache. The S3 server is moto's, spoken to by DVC's own S3 plugin
(dvc-s3); credentials are fake and live only in each clone's .dvc/config.local.
"""

import json
import shutil
import socket
import subprocess

import pytest

from tests.conftest import dvc, git, output_bytes, stages_run

pytestmark = pytest.mark.pipeline

BUCKET = "fromzero-cache"
FAKE_KEY_ID, FAKE_SECRET = "testing-key-id", "testing-secret"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def isolated_aws(monkeypatch, tmp_path):
    """No ~/.aws, no instance metadata, no proxy: only what each test configures reaches boto."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_ENDPOINT_URL", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def s3_endpoint(isolated_aws):
    """moto's S3 server on a free loopback port with one empty bucket: yields its endpoint URL."""
    import boto3
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=FAKE_KEY_ID,
                     aws_secret_access_key=FAKE_SECRET).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.stop()


def bare_origin(tmp_path, source):
    """A bare repository standing in for the git host, holding `source`'s main branch."""
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", "-b", "main", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=source)
    git("push", "-q", "origin", "main", cwd=source)
    return origin


def fresh_clone(origin, destination):
    git("clone", "-q", str(origin), str(destination), cwd=destination.parent)
    return destination


def add_s3_remote(repo, endpoint):
    """What docs/experiments.md tells the team to run once (committed) and each member (local only)."""
    dvc("remote", "add", "-d", "storage", f"s3://{BUCKET}/dvc", cwd=repo)
    dvc("remote", "modify", "storage", "endpointurl", endpoint, cwd=repo)
    set_credentials(repo)


def set_credentials(repo):
    dvc("remote", "modify", "--local", "storage", "access_key_id", FAKE_KEY_ID, cwd=repo)
    dvc("remote", "modify", "--local", "storage", "secret_access_key", FAKE_SECRET, cwd=repo)


def s3_keys(endpoint):
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=FAKE_KEY_ID,
                          aws_secret_access_key=FAKE_SECRET)
    return [item["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
            for item in page.get("Contents", [])]


def test_a_colleague_pulls_results_and_applies_an_experiment_from_s3(baseline_repo, s3_endpoint, tmp_path):
    source, _ = baseline_repo
    # Clone A: the machine that ran the pipeline (the baseline repo's cache holds every output).
    a = tmp_path / "a"
    shutil.copytree(source, a, symlinks=True)
    origin = bare_origin(tmp_path, a)
    add_s3_remote(a, s3_endpoint)
    git("add", ".dvc/config", cwd=a)
    git("commit", "-q", "-m", "DVC remote: the team's S3 bucket", cwd=a)
    committed = subprocess.run(["git", "show", "HEAD:.dvc/config"], cwd=a, capture_output=True,
                               text=True, check=True).stdout
    assert "endpointurl" in committed and FAKE_SECRET not in committed and FAKE_KEY_ID not in committed
    assert ".dvc/config.local" not in git("ls-files", cwd=a).stdout

    # Push main's results (`dvc push` sends the workspace's outputs: main's, before any experiment).
    git("push", "-q", "origin", "main", cwd=a)
    dvc("push", "--run-cache", cwd=a)
    dvc("exp", "run", "--name", "lr-small", "-S", "lr=0.001", "-S", "gd.steps=2000", cwd=a)  # stops short
    exp_metrics = {path: (a / path).read_text() for path in ("metrics/evaluate.json", "metrics/fit.json")}
    exp_model = (a / "models/gd/model.npz").read_bytes()
    dvc("exp", "push", "origin", "lr-small", cwd=a)  # its git ref, and its outputs to the DVC remote
    keys = s3_keys(s3_endpoint)
    assert any(key.startswith("dvc/files/md5/") for key in keys), keys
    assert any(key.startswith("dvc/runs/") for key in keys), keys  # the run-cache went up too

    # Clone B: a colleague with a fresh clone and their own (fake) credentials.
    b = fresh_clone(origin, tmp_path / "b")
    assert not (b / "models/gd/model.npz").exists()
    set_credentials(b)
    dvc("pull", cwd=b)
    status = dvc("status", cwd=b).stdout
    assert "Data and pipelines are up to date" in status, status
    repro = dvc("repro", cwd=b).stdout
    assert stages_run(repro) == set(), repro
    main_outputs = output_bytes(source)
    assert output_bytes(b) == main_outputs  # byte for byte what A computed on main

    dvc("exp", "pull", "origin", "lr-small", cwd=b)
    assert "lr-small" in dvc("exp", "list", "--name-only", cwd=b).stdout
    dvc("exp", "apply", "lr-small", cwd=b)  # needs the experiment's models from the remote cache
    assert (b / "models/gd/model.npz").read_bytes() == exp_model
    for path, text in exp_metrics.items():
        assert (b / path).read_text() == text, path
    applied = json.loads((b / "metrics/evaluate.json").read_text())["details"]["test"]
    main_scores = json.loads(main_outputs["metrics/evaluate.json"])["details"]["test"]
    assert applied["gd"]["rmse"] != main_scores["gd"]["rmse"]  # lr moved gradient descent ...
    assert applied["knn"] == main_scores["knn"]  # ... and nothing else
    status = dvc("status", cwd=b).stdout
    assert "Data and pipelines are up to date" in status, status
