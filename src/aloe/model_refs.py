"""Resolve a model reference (a local dir or a hub id) once, with errors a user can act on.

A reference that looks like a path is only ever a path: ``models/sft`` that does
not exist is an error naming the DVC stage that makes it, never a hub lookup
that retries for a minute. A hub id (``org/name``) is tried only when no local
path of that name exists, and an unreachable hub fails in seconds, naming the id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from aloe.errors import AloeError

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
LOCAL_ROOTS = ("models", "data")


@dataclass(frozen=True)
class ModelRef:
    ref: str
    local: bool  # a local dir; else a hub id

    @property
    def path(self) -> Path:
        return Path(self.ref)


def producing_stage(path: str, dvc_yaml: Path = Path("dvc.yaml")) -> str | None:
    """The stage of ``dvc.yaml`` that declares ``path`` (or a parent of it) as an output."""
    if not dvc_yaml.exists():
        return None
    stages = (yaml.safe_load(dvc_yaml.read_text()) or {}).get("stages", {})
    target = Path(path)
    for name, spec in stages.items():
        for out in spec.get("outs", []) + spec.get("metrics", []):
            out = next(iter(out)) if isinstance(out, dict) else out
            if "${" not in out and (Path(out) == target or Path(out) in target.parents):
                return name
    return None


def looks_like_path(ref: str) -> bool:
    first = Path(ref).parts[0] if Path(ref).parts else ""
    return (
        ref.startswith(("/", "./", "../", "~")) or first in LOCAL_ROOTS or ref.count("/") > 1 or not HUB_ID.match(ref)
    )


def resolve(ref: str, key: str) -> ModelRef:
    """``key`` is the params key or option the reference came from, for the message."""
    path = Path(ref).expanduser()
    if path.exists():
        if not path.is_dir():
            raise AloeError(f"{key}: {ref} is a file; a model is a directory (config.json, weights, tokenizer)")
        return ModelRef(str(path), local=True)
    if looks_like_path(ref):
        stage = producing_stage(ref)
        fix = (
            f"run `dvc repro {stage}` or `dvc pull {ref}`"
            if stage
            else "no stage in dvc.yaml makes it; give an existing model directory"
        )
        raise AloeError(f"{key}: {ref} does not exist: {fix}")
    return ModelRef(ref, local=False)


def check_hub_reachable(ref: ModelRef, key: str, revision: str | None = None, timeout_s: float = 5.0) -> None:
    """Fail in seconds when a hub id is neither in the local HF cache nor reachable."""
    from huggingface_hub import HfApi, try_to_load_from_cache

    if isinstance(try_to_load_from_cache(ref.ref, "config.json", revision=revision), str):
        return  # in the local Hugging Face cache: loads offline
    try:
        HfApi().model_info(ref.ref, revision=revision, timeout=timeout_s)
    except Exception as e:  # offline, unknown id, gated: all mean the same to the user here
        raise AloeError(
            f"{key}: cannot load hub model {ref.ref!r} (not in the local Hugging Face cache and the hub "
            f"did not answer: {type(e).__name__}); give a local model directory instead"
        ) from None
