"""DVC push/pull through an S3 remote, for real, against moto's S3 server on loopback.
Credentials come from the environment only, as the README tells users to do."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def s3_server(monkeypatch):
    port = free_port()
    proc = subprocess.Popen([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for var, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                       ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(var, value)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    boto3.client("s3", endpoint_url=url).create_bucket(Bucket="aloe-test")
    yield url
    proc.terminate()
    proc.wait()


def run(cmd: str, cwd: Path) -> str:
    proc = subprocess.run(cmd, shell=True, cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"})
    assert proc.returncode == 0, f"{cmd}: {proc.stdout[-2000:]} {proc.stderr[-2000:]}"
    return proc.stdout


def test_s3_remote_push_then_pull_in_a_new_clone(tmp_path, s3_server):
    repo = tmp_path / "repo"
    repo.mkdir()
    run("git init -q && dvc init -q", repo)
    run(f"dvc remote add -d s3 s3://aloe-test/cache && dvc remote modify s3 endpointurl {s3_server}", repo)
    (repo / "data").mkdir()
    (repo / "data" / "pairs.jsonl").write_text('{"prompt": "hi", "chosen": "hello", "rejected": "go away"}\n')
    run("dvc add data/pairs.jsonl && git add -A && git -c user.name=t -c user.email=t@t commit -qm data", repo)
    run("dvc push", repo)
    config = (repo / ".dvc" / "config").read_text()
    assert "testing" not in config  # no credential was written to the repo
    objects = boto3.client("s3", endpoint_url=s3_server).list_objects_v2(Bucket="aloe-test")
    assert objects.get("KeyCount", 0) >= 1
    clone = tmp_path / "clone"
    run(f"git clone -q {repo} {clone}", tmp_path)
    run("dvc pull", clone)
    assert (clone / "data" / "pairs.jsonl").read_text() == (repo / "data" / "pairs.jsonl").read_text()
    assert "up to date" in run("dvc status", clone)
