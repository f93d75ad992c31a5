"""What benchmark scripts (and the end-to-end tests) share: a free loopback port, waiting
for a server, the JSON result file, and a throwaway copy of this checkout to run the
pipeline in."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import click
import yaml


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout_s: float = 180.0, alive=lambda: True) -> None:
    """Until something listens on 127.0.0.1:port; ``alive()`` False means the server died."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if not alive():
                raise RuntimeError(f"the server for port {port} exited before listening") from None
            time.sleep(0.2)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout_s} s")


def write_result(out: str, result: dict) -> None:
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(result, indent=2) + "\n")
    click.echo(json.dumps(result, indent=2))


REPO = Path(__file__).resolve().parents[1]


def p_text(diff: dict) -> str:
    """A paired difference's bootstrap p; a p of 0 says only that no resample crossed zero,
    so it reads as under one in their number."""
    if diff["AL_mean_p"] != 0:
        return f"p {diff['AL_mean_p']}"
    return f"p < {1 / diff['bootstrap']:g}, {diff['bootstrap']:,} resamples"


def merge(base: dict, over: dict) -> dict:
    """``over`` laid onto ``base``, recursively for nested sections."""
    out = dict(base)
    for k, v in over.items():
        out[k] = merge(base[k], v) if isinstance(v, dict) and isinstance(base.get(k), dict) else v
    return out


def sh(cmd: str, cwd: Path, env: dict, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, shell=True, cwd=cwd, env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    return proc


def throwaway_project(dest: Path, env: dict, overrides: dict | None = None) -> Path:
    """This checkout's tracked and untracked-not-ignored files, as a new git repo with
    ``overrides`` laid onto params.yaml and no lock or metrics (nothing reproduced yet)."""
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    for rel in files:
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    params = merge(yaml.safe_load((dest / "params.yaml").read_text()), overrides or {})
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    shutil.rmtree(dest / "metrics", ignore_errors=True)
    (dest / "dvc.lock").unlink(missing_ok=True)
    sh("git init -q && git add -A && git -c user.name=t -c user.email=t@t commit -qm init", dest, env)
    return dest


def project_env(cache_dir: Path | None = None) -> dict:
    """The environment a throwaway project runs in: this interpreter's tools first, W&B offline."""
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "WANDB_MODE": "offline",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
        "PYTHONUNBUFFERED": "1",
        "DVC_NO_ANALYTICS": "1",  # no usage-report daemon after every dvc command
    }
    if cache_dir is not None:
        env["ALOE_CACHE_DIR"] = str(cache_dir)
    return env


def git_describe() -> str:
    """The commit a result was measured at (``-dirty`` if the checkout had changes)."""
    return subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
