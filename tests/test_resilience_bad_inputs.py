"""Bad inputs each get a clear error naming the file/line or key, a non-zero exit,
and no output files (the README's table of bad inputs points here)."""

import time

import pandas as pd
import yaml

from conftest import REPO, run_dvc_stage, write_judge_check

SEEDS = REPO / "data/seeds"


def params_file(tmp_path, **sections) -> None:
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    for key, value in sections.items():
        params[key] = {**params[key], **value} if isinstance(value, dict) else value
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))


def assert_clean_failure(proc, *needles, leftovers=()):
    assert proc.returncode != 0
    for needle in needles:
        assert needle in proc.stderr, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    for path in leftovers:
        assert not path.exists(), f"{path} was written"


def test_resil_empty_seed_file(tmp_path, aloe_env):
    (tmp_path / "empty.jsonl").write_text("\n")
    params_file(
        tmp_path,
        personas={
            "seeds": {"profile": str(tmp_path / "empty.jsonl"), "personality": str(SEEDS / "personalities.jsonl")}
        },
    )
    proc = run_dvc_stage("personas_generate", cwd=tmp_path, env=aloe_env)
    assert_clean_failure(
        proc, "empty.jsonl: no persona texts", leftovers=[tmp_path / "data/personas/candidates.parquet"]
    )


def test_resil_zero_personas_after_filtering(tmp_path, aloe_env):
    rows = [
        dict(position=i, kind=k, text="Too short.", source="seed", round=0, call=-1, status="ok")
        for i, k in enumerate(["profile", "personality"])
    ]
    (tmp_path / "data/personas").mkdir(parents=True)
    pd.DataFrame(rows).to_parquet(tmp_path / "data/personas/candidates.parquet")
    params_file(tmp_path)
    proc = run_dvc_stage("personas_filter", cwd=tmp_path, env=aloe_env)
    assert_clean_failure(
        proc,
        "no profiles left after filtering",
        leftovers=[tmp_path / "metrics/personas.json", tmp_path / "data/personas/train.parquet"],
    )


def api_trees_setup(tmp_path, url: str) -> None:
    (tmp_path / "data/personas").mkdir(parents=True)
    pd.DataFrame(
        {
            "persona_id": ["p0"],
            "profile_id": ["a"],
            "profile": ["I am a nurse."],
            "personality_id": ["b"],
            "personality": ["Warm."],
        }
    ).to_parquet(tmp_path / "data/personas/train.parquet")
    backends = {
        "api": {
            "type": "openai",
            "model": "m",
            "base_url": url,
            "api_key_env": "ALOE_BAD_INPUT_KEY",
            "max_retries": 2,
            "timeout_s": 5,
        }
    }
    roles = {r: "api" for r in ("persona_writer", "user", "inducer", "responder", "judge")}
    params_file(tmp_path, llm={"backends": backends, "roles": roles})
    write_judge_check(tmp_path / "metrics/judge.json")


def test_resil_missing_api_key(tmp_path, aloe_env):
    api_trees_setup(tmp_path, "http://127.0.0.1:9/v1")
    aloe_env.pop("ALOE_BAD_INPUT_KEY", None)
    proc = run_dvc_stage("trees", cwd=tmp_path, env=aloe_env)
    assert_clean_failure(
        proc,
        "environment variable ALOE_BAD_INPUT_KEY is not set",
        leftovers=[tmp_path / "data/trees/trees.jsonl", tmp_path / "metrics/trees.json"],
    )


def test_resil_unreachable_endpoint_fails_within_retry_budget(tmp_path, aloe_env):
    api_trees_setup(tmp_path, "http://127.0.0.1:9/v1")
    aloe_env["ALOE_BAD_INPUT_KEY"] = "k"
    t0 = time.perf_counter()
    proc = run_dvc_stage("trees", cwd=tmp_path, env=aloe_env)
    assert_clean_failure(
        proc,
        "cannot reach http://127.0.0.1:9/v1",
        leftovers=[tmp_path / "data/trees/trees.jsonl", tmp_path / "metrics/trees.json"],
    )
    assert time.perf_counter() - t0 < 60


def test_resil_judge_nonsense_is_missing_not_scored(tmp_path, aloe_env, serve):
    """An endpoint that never answers with a score: the eval fails loudly, writes nothing."""
    srv = serve()  # echoes the prompt back, truncated: no digit 1-5
    (tmp_path / "data/personas").mkdir(parents=True)
    pd.DataFrame(
        {
            "persona_id": ["p0", "p1"],
            "profile_id": ["a", "b"],
            "personality_id": ["c", "d"],
            "profile": ["I am a nurse.", "I am a pilot."],
            "personality": ["Warm.", "Dry."],
        }
    ).to_parquet(tmp_path / "data/personas/eval.parquet")
    backends = {
        "api": {
            "type": "openai",
            "model": "echo",
            "base_url": srv.base_url,
            "api_key_env": "ALOE_BAD_INPUT_KEY",
            "max_retries": 1,
        }
    }
    roles = {r: "api" for r in ("persona_writer", "user", "inducer", "responder", "judge")}
    params_file(
        tmp_path,
        llm={"backends": backends, "roles": roles},
        wandb={"mode": "disabled"},
        eval={"examples": 2, "turns": 2, "variants": {"echo": {"backend": "api", "track": "params.yaml"}}},
    )
    aloe_env["ALOE_BAD_INPUT_KEY"] = "k"
    proc = run_dvc_stage("aloe_eval", key="echo", cwd=tmp_path, env=aloe_env)
    assert_clean_failure(proc, "the judge gave no usable score", leftovers=[tmp_path / "metrics/aloe/echo.json"])
