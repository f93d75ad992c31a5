"""Helpers for end-to-end tests: a throwaway git copy of this checkout with tiny params
(the copy itself is bench/common.py's, shared with the benchmarks)."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from common import merge, project_env, sh, throwaway_project  # noqa: E402

TINY = {
    "personas": {
        "generate": {"calls_per_round": 2, "max_rounds": 1, "max_tokens": 96},
        "split": {"eval_profiles": 3, "eval_personalities": 2, "train_personas": 6},
    },
    "judge_check": {"pairs": 2, "bootstrap": 50},
    "trees": {"personas": 3, "turns": 2},
    "sft": {"max_steps": 2, "per_device_train_batch_size": 2},
    "dpo": {"max_steps": 2, "per_device_train_batch_size": 2},
    "grpo": {"personas": 2, "turns": 1, "num_generations": 2, "per_device_train_batch_size": 2},
    "eval": {"examples": 2, "turns": 2, "bootstrap": 50},
}


def make_project(dest: Path, env: dict, overrides: dict | None = None) -> Path:
    """A throwaway copy of this checkout with TINY params (and ``overrides`` on top)."""
    return throwaway_project(dest, env, merge(TINY, overrides or {}))


__all__ = ["REPO", "TINY", "make_project", "project_env", "sh"]
