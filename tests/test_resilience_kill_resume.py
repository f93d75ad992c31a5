"""kill -9 in the middle of `trees`, rerun: identical output, committed calls reused."""

import json
import signal
import sqlite3
import subprocess
import time

import pandas as pd
import pytest
import yaml

from aloe.personas.texts import load_texts
from conftest import REPO, stage_argv, write_judge_check

pytestmark = pytest.mark.slow
TREES = 2  # two trees of two turns: 24 calls, the kill comes after 6 of them are committed


def setup_workdir(path, base_model_dir):
    (path / "data/personas").mkdir(parents=True)
    (path / "models").mkdir()
    (path / "models/base").symlink_to(base_model_dir)
    profiles = load_texts(REPO / "data/seeds/profiles.jsonl")[:TREES]
    personalities = load_texts(REPO / "data/seeds/personalities.jsonl")[:TREES]
    pd.DataFrame(
        {
            "persona_id": [f"p{i}" for i in range(TREES)],
            "profile_id": [f"a{i}" for i in range(TREES)],
            "profile": profiles,
            "personality_id": [f"b{i}" for i in range(TREES)],
            "personality": personalities,
        }
    ).to_parquet(path / "data/personas/train.parquet")
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["trees"].update(personas=TREES, turns=2, max_tokens={"user": 24, "inducer": 48, "responder": 24})
    (path / "params.yaml").write_text(yaml.safe_dump(params))
    write_judge_check(path / "metrics/judge.json")


def trees_cmd():
    return stage_argv("trees")


def cached_rows(cache_dir) -> int:
    db = cache_dir / "responses.sqlite"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=1) as con:
            return con.execute("SELECT COUNT(*) FROM chat_results").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_resil_kill9_then_rerun_gives_identical_trees(tmp_path, base_model_dir, monkeypatch):
    import os

    runs = {}
    for name in ("straight", "killed"):
        work, cache = tmp_path / name, tmp_path / f"{name}-cache"
        work.mkdir()
        cache.mkdir()
        setup_workdir(work, base_model_dir)
        env = {**os.environ, "ALOE_CACHE_DIR": str(cache)}
        if name == "killed":
            proc = subprocess.Popen(
                trees_cmd(), cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            deadline = time.time() + 300
            while cached_rows(cache) < 6 and time.time() < deadline and proc.poll() is None:
                time.sleep(0.2)
            assert proc.poll() is None, "the stage finished before it could be killed"
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            committed = cached_rows(cache)
            assert not (work / "data/trees/trees.jsonl").exists()  # no half-written output
        done = subprocess.run(trees_cmd(), cwd=work, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]
        runs[name] = (work / "data/trees/trees.jsonl").read_bytes()
        if name == "killed":
            calls = json.loads((work / "logs/trees.json").read_text())["calls"]  # the run log counts cache hits
            hits = sum(c["cache_hits"] for c in calls.values())
            assert hits >= committed  # every call committed before the kill was replayed, not repaid
    assert runs["straight"] == runs["killed"]
