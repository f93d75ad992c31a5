"""Shared fixtures: one materialised base model per test session, one TINY `dvc repro`
of the whole pipeline per session (shared by the end-to-end, fault and secret tests), a
loopback OpenAI-compatible server, and a private response cache per test."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from aloe.llm.cache import ResponseCache
from aloe.llm.server import BackgroundServer, ChatServer, FaultPlan

REPO = Path(__file__).resolve().parents[1]


# Test modules that must run on one worker, in one process: the two modules sharing the
# session's TINY run (built once, then mutated by experiments the secret scan must cover)
# and the known-answer module (both directions share one response cache). xdist's own
# `xdist_group` mark does nothing under pytest 9.2 (pytest-xdist#1386), hence this map.
WORKER_GROUPS = {
    "tests/test_pipeline_e2e.py": "tiny_run",
    "tests/test_resilience_faults_secrets.py": "tiny_run",
    "tests/test_known_answer.py": "known_answer",
}


def scope_of(nodeid: str) -> str:
    """The unit of work a test belongs to: its WORKER_GROUPS group, else the test alone."""
    return WORKER_GROUPS.get(nodeid.split("::")[0], nodeid)


def pytest_xdist_make_scheduler(config, log):
    """xdist's scope scheduling with ``scope_of`` as the scopes; the largest scope is handed
    out first, so the TINY run starts at once."""
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

    return GroupScheduling(config, log)


def pytest_collection_modifyitems(config, items):
    """Slow tests first (a stable sort, so each module keeps its order): xdist hands out the
    groups first, then these one at a time, so the longest work starts early and the fast
    tests fill the gaps at the end instead of a 6-minute test running alone."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def share_cores_among_workers() -> None:
    """Under pytest-xdist each worker gets its share of the cores, for torch here and for
    the stages it starts (OMP_NUM_THREADS): two workers of two threads each on 2 cores ran
    torch-bound tests three times slower than one worker did."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        import torch

        threads = max(1, (os.cpu_count() or 1) // workers)
        os.environ["OMP_NUM_THREADS"] = os.environ["ALOE_CPU_THREADS"] = str(threads)
        torch.set_num_threads(threads)


share_cores_among_workers()
MODEL_CACHE = Path(os.environ.get("ALOE_CACHE_DIR") or Path.home() / ".cache" / "aloe") / "models"


def private_cache(path: Path) -> Path:
    """A new ``$ALOE_CACHE_DIR`` at ``path``: responses of its own, models from the shared
    model cache (the GGUF and its dequantised copy are made once per machine)."""
    path.mkdir()
    MODEL_CACHE.mkdir(parents=True, exist_ok=True)
    (path / "models").symlink_to(MODEL_CACHE)
    return path


@pytest.fixture(scope="session")
def base_model_dir(tmp_path_factory) -> Path:
    """models/base built by the real base_model code from the embedded wheel (once per session)."""
    from aloe.base_model import materialise

    out = tmp_path_factory.mktemp("models") / "base"
    materialise("embedded", None, out)
    return out


# the inducer, responders and judges of the shared run go to a server failing ~20% of calls
FAULTS = {"rate_limit": 0.05, "server_error": 0.05, "timeout": 0.02, "truncated": 0.04, "malformed": 0.04}
API_ROLES = ("inducer", "responder", "judge")


@dataclass
class TinyRun:
    """The shared run: the project, its environment and repro log, the folder around it (for
    remotes and clones), what the faulty server drew and saw, and the key it was sent."""

    proj: Path
    env: dict
    log: str
    root: Path
    fault_counts: dict
    server: object
    fake_key: str


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, base_model_dir):
    """One `dvc repro` of every stage on TINY params, through both backends: the in-process
    embedded model writes personas and plays the user (the README's default), while the inducer,
    responders and judges go through the `openai` backend to a loopback server that serves the
    same model, fails about 20% of calls (429 with Retry-After, 500, stalls past the timeout,
    truncated and malformed bodies) and is sent a fake key that must reach no artifact. The
    server stays up for the session: later experiments on the project call it too, and the
    secret scan (which may run after them) covers what they and the queue wrote as well.
    Persona generation and the user simulator meet no faults here (test_llm_remote.py
    covers every fault kind at the client)."""
    from aloe.llm.local import TransformersBackend
    from aloe.llm.server import BackgroundServer, ChatServer, FaultPlan
    from aloe.params import TransformersBackendParams
    from e2e import make_project, project_env, sh

    root = tmp_path_factory.mktemp("tiny_run")
    cache = private_cache(root / "cache")
    fake_key = f"sk-aloe-FAKE-{uuid.uuid4().hex}"  # made at run time: no file holds it before the run
    local = TransformersBackend(
        TransformersBackendParams(type="transformers", model=str(base_model_dir), batch_size=16)
    )
    # A stall outlasts the client's timeout. Replies are kept short so that a batch of the
    # embedded model (15-25 s for 6 x 64 tokens on 2 cores) stays well inside that timeout:
    # the test is about faults, and at 64 tokens every slow batch would read as one.
    # At most two stalls: each costs the client its whole timeout (30 s), and at 2% of ~150 calls
    # the run drew three or four, most in the benchmark, where calls come one at a time.
    faults = FaultPlan(rates=FAULTS, limits={"timeout": 2}, seed=7, retry_after_s=0.2, stall_s=35.0)
    server = ChatServer(local.generate, model_name="smollm2", faults=faults, max_batch=16, batch_window_s=0.05)
    with BackgroundServer(server) as srv:
        overrides = {
            "llm": {
                "backends": {
                    "api": {
                        "type": "openai",
                        "model": "smollm2",
                        "base_url": srv.base_url,
                        "api_key_env": "ALOE_TEST_API_KEY",
                        "concurrency": 16,
                        "timeout_s": 30,
                        "max_retries": 6,
                        "continue_prefill": True,  # the judges fill their "Verdict:"/"Score:" slots
                    },
                },
                "roles": {r: "api" for r in API_ROLES},
            },
            "trees": {"max_tokens": {"user": 24, "inducer": 48, "responder": 24}},
            "eval": {"max_tokens": {"user": 24, "model": 24}},
            "wandb": {"mode": "offline"},
        }
        env = {**project_env(cache), "ALOE_TEST_API_KEY": fake_key}
        proj = make_project(root / "proj", env, overrides)
        sh(f"dvc remote modify localremote url {root / 'remote'}", proj, env)
        # the log goes into the project too, where the secret scan reads it
        proc = sh("dvc repro > repro.log 2>&1; status=$?; cat repro.log; exit $status", proj, env)
        yield TinyRun(proj, env, proc.stdout + proc.stderr, root, faults.counts, server, fake_key)


@pytest.fixture
def cache(tmp_path) -> ResponseCache:
    c = ResponseCache(tmp_path / "responses.sqlite")
    yield c
    c.close()


@pytest.fixture
def aloe_env(tmp_path, monkeypatch) -> dict:
    """Environment for stage subprocesses: a fresh response cache, the shared model cache."""
    cache_dir = private_cache(tmp_path / "aloe-cache")
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
    card = {
        "judge": "a test's judge",  # no backend's identity: the benchmark's gate does not apply
        "n": 16,
        "accuracy": accuracy,
        "accuracy_ci95": [accuracy, accuracy],
        "above_chance": accuracy > 0.5,
        "pairwise": {"status": "sees" if accuracy > 0.5 else "weak"},
        "scoring": {"status": "sees"},
    }
    path.write_text(json.dumps(card))


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
