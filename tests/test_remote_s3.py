"""DVC push/pull of a pipeline output through an S3 remote, for real, against moto's S3 server
on loopback. Credentials come from the environment only, as the README tells users to do."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pandas as pd
import pytest

from conftest import write_judge_check
from e2e import make_project, project_env

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def s3_server(monkeypatch):
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for var, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
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


def run(cmd: str, cwd: Path, env: dict) -> str:
    proc = subprocess.run(cmd, shell=True, cwd=cwd, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, f"{cmd}: {proc.stdout[-2000:]} {proc.stderr[-2000:]}"
    return proc.stdout


def pipeline_inputs(proj: Path) -> None:
    """What the pairs stage reads, as its upstream stages would have written it."""
    (proj / "data/trees").mkdir(parents=True, exist_ok=True)
    turn = {
        "user": "Long shift today!",
        "assistant": {"preferred": "Put your feet up, you earned it!", "rejected": "Okay."},
        "chosen": "preferred",
        "tie": False,
        "margin": 0.3,
        "judge": {"source": "agree"},
    }
    with open(proj / "data/trees/trees.jsonl", "w") as f:
        for i in range(3):
            f.write(
                json.dumps(
                    {
                        "id": f"t{i}",
                        "profile": f"I am nurse number {i} in Leeds.",
                        "personality": "Warm.",
                        "conversations": [turn, turn],
                    }
                )
                + "\n"
            )
    (proj / "data/personas").mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {
            "persona_id": ["e"],
            "profile_id": ["a"],
            "profile": ["I fly planes over Perth."],
            "personality_id": ["b"],
            "personality": ["Dry."],
        }
    ).to_parquet(proj / "data/personas/eval.parquet")
    write_judge_check(proj / "metrics/judge.json")
    (proj / "logs").mkdir(exist_ok=True)
    (proj / "logs/params_valid.txt").write_text("ok\n")


def test_pipeline_outputs_push_to_s3_and_pull_into_a_new_clone(tmp_path, s3_server, aloe_env):
    """Our pairs stage, run by DVC from our dvc.yaml, pushed to S3 and pulled into a clone,
    where our training loader reads it."""
    from aloe.training.data import load_splits

    env = {
        **project_env(Path(aloe_env["ALOE_CACHE_DIR"])),
        **{k: os.environ[k] for k in os.environ if k.startswith("AWS_")},
    }
    proj = make_project(tmp_path / "proj", env)
    pipeline_inputs(proj)
    run(f"dvc remote add -d s3 s3://aloe-test/cache && dvc remote modify s3 endpointurl {s3_server}", proj, env)
    run("dvc repro -s pairs && git add -A && git commit -qm pairs", proj, env)
    run("dvc push pairs", proj, env)
    assert "testing" not in (proj / ".dvc" / "config").read_text()  # no credential was written to the repo
    objects = boto3.client("s3", endpoint_url=s3_server).list_objects_v2(Bucket="aloe-test")
    assert objects.get("KeyCount", 0) >= 4  # the two datasets' files and the run log
    clone = tmp_path / "clone"
    run(f"git clone -q {proj} {clone}", tmp_path, env)
    assert not (clone / "data/pairs/dpo").exists()
    run("dvc pull pairs", clone, env)
    train, validation = load_splits(str(clone / "data/pairs/dpo"))
    assert len(train) + (len(validation) if validation else 0) == 6
    assert train[0]["chosen"] == [{"role": "assistant", "content": "Put your feet up, you earned it!"}]
