"""Helpers for end-to-end tests: a throwaway git copy of this checkout with tiny params."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

TINY = {
    "personas": {"generate": {"calls_per_round": 2, "max_rounds": 1, "max_tokens": 96},
                 "split": {"eval_profiles": 3, "eval_personalities": 2, "train_personas": 6}},
    "trees": {"personas": 3, "turns": 2},
    "sft": {"max_steps": 2, "batch_size": 2},
    "dpo": {"max_steps": 2, "batch_size": 2},
    "eval": {"examples": 2, "turns": 2, "bootstrap": 50},
}


def merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = merge(base[k], v) if isinstance(v, dict) and isinstance(base.get(k), dict) else v
    return out


def sh(cmd: str, cwd: Path, env: dict, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, shell=True, cwd=cwd, env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    return proc


def make_project(dest: Path, env: dict, overrides: dict | None = None) -> Path:
    """Copy tracked + untracked-not-ignored files into a new git repo with tiny params."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True,
                           text=True, check=True).stdout.split()
    for rel in files:
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    params = merge(yaml.safe_load((dest / "params.yaml").read_text()), merge(TINY, overrides or {}))
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    shutil.rmtree(dest / "metrics", ignore_errors=True)  # outputs of this repo's own run: start clean
    (dest / "dvc.lock").unlink(missing_ok=True)
    sh("git init -q && git add -A && git -c user.name=t -c user.email=t@t commit -qm init", dest, env)
    return dest


def project_env(cache_dir: Path) -> dict:
    return {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "ALOE_CACHE_DIR": str(cache_dir),
            "WANDB_MODE": "offline", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t", "PYTHONUNBUFFERED": "1"}
