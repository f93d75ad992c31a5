"""Shared fixtures: one materialised base model per test session, a loopback
OpenAI-compatible server, and a private response cache per test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aloe.llm.cache import ResponseCache
from aloe.llm.server import BackgroundServer, ChatServer, FaultPlan

REPO = Path(__file__).resolve().parents[1]
MODEL_CACHE = Path(os.environ.get("ALOE_CACHE_DIR") or Path.home() / ".cache" / "aloe") / "models"


@pytest.fixture(scope="session")
def base_model_dir(tmp_path_factory) -> Path:
    """models/base built by the real base_model code from the embedded wheel (once per session)."""
    from aloe.base_model import materialise

    out = tmp_path_factory.mktemp("models") / "base"
    materialise("embedded", None, out)
    return out


@pytest.fixture
def cache(tmp_path) -> ResponseCache:
    c = ResponseCache(tmp_path / "responses.sqlite")
    yield c
    c.close()


@pytest.fixture
def aloe_env(tmp_path, monkeypatch) -> dict:
    """Environment for stage subprocesses: a fresh response cache, the shared model cache."""
    cache_dir = tmp_path / "aloe-cache"
    cache_dir.mkdir()
    MODEL_CACHE.mkdir(parents=True, exist_ok=True)
    (cache_dir / "models").symlink_to(MODEL_CACHE)
    monkeypatch.setenv("ALOE_CACHE_DIR", str(cache_dir))
    return {**os.environ, "ALOE_CACHE_DIR": str(cache_dir), "WANDB_MODE": "offline"}


@pytest.fixture
def serve():
    """Start a ChatServer on 127.0.0.1; yields a factory taking ChatServer kwargs."""
    running = []

    def start(**kwargs) -> BackgroundServer:
        if "faults" in kwargs and isinstance(kwargs["faults"], dict):
            kwargs["faults"] = FaultPlan(**kwargs["faults"])
        srv = BackgroundServer(ChatServer(**kwargs)).__enter__()
        running.append(srv)
        return srv

    yield start
    for srv in running:
        srv.__exit__(None, None, None)


def stage_argv(stage: str, key: str | None = None) -> list[str]:
    """The command dvc.yaml runs for ``stage`` (``key`` for a foreach stage), as argv with
    this interpreter and this checkout's script, so tests use the pipeline's own paths."""
    import shlex

    import yaml

    spec = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"][stage]
    cmd = spec["do"]["cmd"].replace("${key}", key) if "do" in spec else spec["cmd"]
    argv = shlex.split(cmd)
    assert argv[0] == "python" and argv[1].startswith("stages/"), cmd
    return [sys.executable, str(REPO / argv[1]), *argv[2:]]


def run_dvc_stage(
    stage: str, cwd: Path, env: dict | None = None, key: str | None = None, extra: tuple = ()
) -> subprocess.CompletedProcess:
    return subprocess.run([*stage_argv(stage, key), *extra], cwd=cwd, env=env, capture_output=True, text=True)


def write_judge_check(path: Path, accuracy: float = 1.0) -> None:
    """A metrics/judge.json as the judge_check stage writes it, for stages gated on it."""
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {"accuracy": accuracy, "accuracy_ci95": [accuracy, accuracy], "n": 16, "above_chance": accuracy > 0.5}
        )
    )


ROLES = ("persona_writer", "user", "inducer", "responder", "judge")


@pytest.fixture
def scripted_llm(serve, cache, monkeypatch):
    """Factory: an LLM whose every role goes through the real `openai` backend to a
    loopback server answering with ``generate`` (see tests/scripted.py)."""
    from aloe.llm.client import LLM
    from aloe.params import LLMParams

    monkeypatch.setenv("ALOE_SCRIPTED_KEY", "k")
    made = []

    def make(generate, **server) -> tuple:
        srv = serve(generate=generate, batch_window_s=0.0, **server)
        params = LLMParams.model_validate(
            {
                "backends": {
                    "api": {
                        "type": "openai",
                        "model": "aloe-local",
                        "base_url": srv.base_url,
                        "api_key_env": "ALOE_SCRIPTED_KEY",
                        "max_retries": 1,
                    }
                },
                "roles": {r: "api" for r in ROLES},
            }
        )
        llm = LLM(params, cache=cache, progress=False)
        made.append(llm)
        return llm, srv

    yield make
