"""Every role on a server we did not write: `transformers serve` (the OpenAI-compatible server
that ships with transformers) serving the embedded model on CPU, through the `openai`
backend. It returns no log-probabilities, so verdicts and scores must be read from text,
the user must be told once, and the stages must still label turns and score replies."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
import yaml

from aloe.personas.texts import load_texts
from conftest import REPO, run_dvc_stage

pytestmark = pytest.mark.slow
SERVE = Path(sys.executable).parent / "transformers"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def transformers_serve(base_model_dir, tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [
                str(SERVE),
                "serve",
                str(base_model_dir),
                "--port",
                str(port),
                "--host",
                "127.0.0.1",
                "--continuous-batching",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{url}/health", timeout=2)
            break
        except OSError:
            assert proc.poll() is None, log.read_text()[-3000:]
            time.sleep(1)
    else:
        proc.kill()
        pytest.fail(f"transformers serve did not come up: {log.read_text()[-3000:]}")
    yield f"{url}/v1", str(base_model_dir)
    proc.terminate()
    proc.wait(timeout=30)


def test_trees_judge_check_and_benchmark_on_transformers_serve(transformers_serve, tmp_path, aloe_env):
    base_url, model = transformers_serve
    profiles, personalities = (load_texts(REPO / f"data/seeds/{k}.jsonl") for k in ("profiles", "personalities"))
    (tmp_path / "data/personas").mkdir(parents=True)
    for split, rows in (("train", range(3)), ("eval", (12, 18))):  # eval personas unlike the training ones
        pd.DataFrame(
            [
                {
                    "persona_id": f"p{i}",
                    "profile_id": f"a{i}",
                    "profile": profiles[i],
                    "personality_id": f"b{i}",
                    "personality": personalities[i],
                }
                for i in rows
            ]
        ).to_parquet(tmp_path / f"data/personas/{split}.parquet")
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["llm"] = {
        "backends": {
            "served": {
                "type": "openai",
                "model": model,
                "base_url": base_url,
                "api_key_env": "ALOE_SERVE_KEY",
                "concurrency": 16,
                "timeout_s": 120,
            }
        },
        "roles": {r: "served" for r in ("persona_writer", "user", "inducer", "responder", "judge")},
    }
    params["judge_check"] = {"pairs": 3, "bootstrap": 50}
    params["trees"].update(personas=3, turns=2)
    params["eval"].update(
        examples=2, turns=2, bootstrap=50, variants={"served": {"backend": "served", "track": "params.yaml"}}
    )
    params["wandb"]["mode"] = "disabled"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    env = {**aloe_env, "ALOE_SERVE_KEY": "local"}
    t0 = time.perf_counter()
    for stage, key in (("judge_check", None), ("trees", None), ("pairs", None), ("aloe_eval", "served")):
        proc = run_dvc_stage(stage, cwd=tmp_path, env=env, key=key)
        assert proc.returncode == 0, f"{stage}: {proc.stderr[-3000:]}"
        if stage == "trees":
            assert proc.stderr.count("returns no log-probabilities") == 1  # told once, naming the backend
            assert "llm.backends.served" in proc.stderr
    trees = json.loads((tmp_path / "metrics/trees.json").read_text())
    assert trees["verdict_methods"].get("logprobs", 0) == 0 and trees["verdict_methods"]["text"] > 0
    assert trees["label_rate"] > 0
    pairs = json.loads((tmp_path / "metrics/pairs.json").read_text())
    assert pairs["dpo_pairs"] > 0
    aloe = json.loads((tmp_path / "metrics/aloe/served.json").read_text())
    assert aloe["score_methods"]["text"] > 0 and aloe["score_methods"]["logprobs"] == 0
    assert aloe["judge_logprobs"] is False and aloe["judge_missing"] == 0
    print(f"transformers serve: four stages in {time.perf_counter() - t0:.0f} s")
