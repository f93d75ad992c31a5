"""Every role on servers we did not write, through the `openai` backend:

- `transformers serve` (ships with transformers) serving models/base. It returns no
  log-probabilities and continues no prefill, so verdicts must be read from text, the
  user must be told once, and the stages must still label turns. Asked for a 1-5 score,
  the model opens a numbered list ("1. Does the conversational style fit the"); that is
  no score, so the benchmark stops with the reason instead of reporting a row of 1s.
- llama.cpp's server (`python -m llama_cpp.server`, from `llama-cpp-python[server]`)
  serving the embedded GGUF itself. It returns log-probabilities, and verdicts and
  scores must be read from them. Skipped where llama-cpp-python is not installed (it
  builds llama.cpp from source: an hour here, single-threaded beside other work); run it with
  `pip install "llama-cpp-python[server]" && pytest -m slow tests/test_third_party_server.py`.
"""

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


def started(argv: list[str], log: Path, ready: str, env: dict | None = None) -> subprocess.Popen:
    """A server process, once ``ready`` (a URL) answers; its log in the failure message."""
    with open(log, "w") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            urllib.request.urlopen(ready, timeout=2)
            return proc
        except OSError:
            assert proc.poll() is None, log.read_text()[-3000:]
            time.sleep(1)
    proc.kill()
    pytest.fail(f"{argv[:3]} did not come up: {log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def transformers_serve(base_model_dir, tmp_path_factory):
    port = free_port()
    argv = [str(SERVE), "serve", str(base_model_dir), "--port", str(port), "--host", "127.0.0.1"]
    proc = started(
        [*argv, "--continuous-batching"],
        tmp_path_factory.mktemp("serve") / "serve.log",
        f"http://127.0.0.1:{port}/health",
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    yield f"http://127.0.0.1:{port}/v1", str(base_model_dir)
    proc.terminate()
    proc.wait(timeout=30)


def write_project(tmp_path: Path, base_url: str, model: str, min_mass: float = 0.5, turns: int = 2) -> None:
    """Personas (three to train on, two unlike them to evaluate) and params sending every role
    to the server; ``min_mass``: how much probability the judges' answer tokens must hold to be read;
    ``turns``: of each tree."""
    profiles, personalities = (load_texts(REPO / f"data/seeds/{k}.jsonl") for k in ("profiles", "personalities"))
    (tmp_path / "data/personas").mkdir(parents=True)
    for split, rows in (("train", range(3)), ("eval", (12, 18))):
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
    # short replies (the judges' token limits as they are): the test is about reading the judges
    short = {"user": 24, "inducer": 48, "responder": 24}
    params["trees"].update(personas=3, turns=turns, max_tokens=short)
    params["judge"]["pairwise"]["min_mass"] = params["judge"]["scoring"]["min_mass"] = min_mass
    params["eval"].update(
        examples=2,
        turns=2,
        bootstrap=50,
        max_tokens={"user": 24, "model": 24},
        variants={"served": {"backend": "served", "track": "params.yaml"}},
    )
    params["wandb"]["mode"] = "disabled"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))


STAGES = (("judge_check", None), ("trees", None), ("pairs", None), ("aloe_eval", "served"))


def run_stages(tmp_path: Path, aloe_env: dict, fails: str | None = None) -> dict:
    """judge_check, trees, pairs and the benchmark on the served model; their stderr by stage.
    Every stage must succeed except ``fails``, which must fail."""
    env = {**aloe_env, "ALOE_SERVE_KEY": "local"}
    stderr = {}
    for stage, key in STAGES:
        proc = run_dvc_stage(stage, cwd=tmp_path, env=env, key=key)
        assert (proc.returncode != 0) == (stage == fails), f"{stage}: {proc.stderr[-3000:]}"
        stderr[stage] = proc.stderr
    return stderr


def test_trees_judge_check_and_benchmark_on_transformers_serve(transformers_serve, tmp_path, aloe_env):
    write_project(tmp_path, *transformers_serve, turns=1)  # about reading the judges: one turn is enough
    t0 = time.perf_counter()
    stderr = run_stages(tmp_path, aloe_env, fails="aloe_eval")
    assert stderr["trees"].count("returns no log-probabilities") == 1  # told once, naming the backend
    assert "llm.backends.served" in stderr["trees"]
    trees = json.loads((tmp_path / "metrics/trees.json").read_text())
    assert trees["verdict_methods"].get("logprobs", 0) == 0 and trees["verdict_methods"]["text"] > 0
    assert trees["label_rate"] > 0
    pairs = json.loads((tmp_path / "metrics/pairs.json").read_text())
    assert pairs["dpo_pairs"] > 0
    # the 1-5 judge wrote list openings only: not one was read as a score, in the check or the benchmark
    scoring = json.loads((tmp_path / "metrics/judge.json").read_text())["scoring"]
    assert scoring["n"] == 0 and set(scoring["methods"]) == {"missing"} and scoring["status"] == "unreadable", scoring
    assert max(scoring["missing_reasons"], key=scoring["missing_reasons"].get) == "list"
    assert "the judge gave no usable score" in stderr["aloe_eval"]
    assert not (tmp_path / "metrics/aloe/served.json").exists()
    print(f"transformers serve: four stages in {time.perf_counter() - t0:.0f} s")


@pytest.fixture(scope="module")
def llama_cpp_server(tmp_path_factory):
    pytest.importorskip("llama_cpp.server", reason="llama-cpp-python[server] is not installed")
    from aloe.base_model import embedded_gguf

    port = free_port()
    proc = started(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(embedded_gguf()), "--model_alias", "smollm2"]
        + ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--logits_all", "true"],
        tmp_path_factory.mktemp("llama") / "server.log",
        f"http://127.0.0.1:{port}/v1/models",
    )
    yield f"http://127.0.0.1:{port}/v1", "smollm2"
    proc.terminate()
    proc.wait(timeout=30)


def test_trees_judge_check_and_benchmark_on_llama_cpp_server(llama_cpp_server, tmp_path, aloe_env):
    # The 135M model puts well under the default 0.5 of its probability on its verdict and
    # score tokens, so at the default the text decides (seen here: 12 of 12 verdicts, 4 of 4
    # scores). A low threshold shows that llama.cpp's probabilities arrive where the readers look.
    write_project(tmp_path, *llama_cpp_server, min_mass=0.05)
    t0 = time.perf_counter()
    stderr = run_stages(tmp_path, aloe_env)
    assert "no log-probabilities" not in "".join(stderr.values())
    trees = json.loads((tmp_path / "metrics/trees.json").read_text())
    assert trees["verdict_methods"].get("logprobs", 0) > 0  # verdicts read from the returned probabilities
    aloe = json.loads((tmp_path / "metrics/aloe/served.json").read_text())
    assert aloe["judge_logprobs"] is True and aloe["score_methods"]["logprobs"] > 0
    print(f"llama.cpp server: four stages in {time.perf_counter() - t0:.0f} s")
