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


def run_stage(script: str, *args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "stages" / script), *args], cwd=cwd, env=env,
                          capture_output=True, text=True)
