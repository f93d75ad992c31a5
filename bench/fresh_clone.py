"""README command 1 as a newcomer runs it: a fresh clone of this commit, a new ``.venv``, an
empty response cache, then the README's command verbatim. Records the seconds of the set-up
and of each stage (from DVC announcing it to DVC announcing the next), the largest peak RSS of
any process of the run, the load average before and after (was the machine idle?), each
stage's own clock (``logs/<stage>.json``'s ``wall_s``: the rest of a stage's seconds is
start-up and DVC) and its LLM calls' cache hits and seconds per role, and which outputs differ
from the committed ``dvc.lock`` (the run logs always do: they hold wall times). A JSON or JSONL
output that differs is compared field by field with this checkout's copy, where that copy is
the committed one: how many numbers moved and by how much, and how many other fields (texts,
verdicts, labels) differ.

    python bench/fresh_clone.py --out bench/results/fresh_clone.json
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import click
import yaml

from common import REPO, write_result

COMMAND = "bash scripts/bootstrap.sh && . .venv/bin/activate && dvc repro"


def run(clone: Path, env: dict) -> tuple[int, dict[str, float], str]:
    """The command in ``clone``: its exit status, seconds per step (set-up, then each stage)
    and its output."""
    proc = subprocess.Popen(
        ["bash", "-c", COMMAND], cwd=clone, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    marks, lines = [("setup", time.perf_counter())], []
    for line in proc.stdout:
        lines.append(line)
        if m := re.match(r"Running stage '(.+)':", line):
            marks.append((m.group(1), time.perf_counter()))
    rc = proc.wait()
    marks.append(("end", time.perf_counter()))
    seconds = {name: round(nxt - t, 1) for (name, t), (_, nxt) in zip(marks[:-1], marks[1:], strict=True)}
    return rc, seconds, "".join(lines)


def outputs(lock_path: Path) -> dict[str, str | None]:
    """Every output of a dvc.lock: path -> its md5."""
    lock = yaml.safe_load(lock_path.read_text())
    return {o["path"]: o.get("md5") for stage in lock["stages"].values() for o in stage.get("outs", [])}


def stage_logs(clone: Path, stages: list[str]) -> dict[str, dict]:
    """The run log each stage wrote (stages that write none are left out): its own clock and,
    per LLM role, the cache hits and seconds of its calls."""
    logs = {s: clone / "logs" / f"{s.replace('@', '_')}.json" for s in stages}
    return {s: json.loads(p.read_text()) for s, p in logs.items() if p.is_file()}


def records(path: Path) -> list:
    text = path.read_text()
    return [json.loads(line) for line in text.splitlines()] if path.suffix == ".jsonl" else [json.loads(text)]


def moved(a, b, out: dict) -> None:
    """Tally how ``b`` differs from ``a``: numbers that moved (and the largest move), other fields."""
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
        for k in a:
            moved(a[k], b[k], out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for x, y in zip(a, b, strict=True):
            moved(x, y, out)
    elif isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        if a != b:
            out["numbers_moved"] += 1
            out["largest_move"] = max(out["largest_move"], abs(a - b))
    elif a != b:
        out["other_fields"] += 1


def field_diff(made: Path, committed: Path, md5: str | None) -> dict | None:
    """``made`` against the committed version, where ``committed`` (this checkout's copy) is it."""
    if made.suffix not in (".json", ".jsonl") or not committed.is_file():
        return None
    if hashlib.md5(committed.read_bytes()).hexdigest() != md5:
        return None
    out = {"numbers_moved": 0, "largest_move": 0.0, "other_fields": 0}
    moved(records(committed), records(made), out)
    return out


@click.command()
@click.option("--out", required=True, help="the result JSON")
@click.option("--workdir", default=None, help="where to clone (default: a new temporary directory)")
@click.option("--keep", is_flag=True, help="keep the clone and its cache for a look")
def main(out: str, workdir: str | None, keep: bool) -> None:
    if COMMAND not in (REPO / "README.md").read_text():
        raise click.ClickException(f"README.md no longer says `{COMMAND}`: update COMMAND here")
    root = Path(workdir or tempfile.mkdtemp(prefix="aloe-fresh-"))
    if root.exists() and any(root.iterdir()):
        raise click.ClickException(f"{root} is not empty: give a new or empty --workdir")
    clone, cache = root / "clone", root / "cache"
    cache.mkdir(parents=True)
    load_before = os.getloadavg()[0]
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    committed = outputs(clone / "dvc.lock")  # the cloned commit's lock, before the run rewrites it
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env |= {"ALOE_CACHE_DIR": str(cache), "DVC_NO_ANALYTICS": "1"}
    rc, seconds, log = run(clone, env)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    (root / "repro.log").write_text(log)
    if rc != 0:
        raise click.ClickException(f"the command exited {rc}; its output is in {root / 'repro.log'}:\n{log[-3000:]}")
    made = outputs(clone / "dvc.lock")
    differ = sorted(p for p in committed.keys() | made.keys() if committed.get(p) != made.get(p))
    logs = stage_logs(clone, list(seconds))
    diffs = {p: field_diff(clone / p, REPO / p, committed.get(p)) for p in differ if not p.startswith("logs/")}
    result = {
        "commit": subprocess.run(
            ["git", "describe", "--always"], cwd=clone, capture_output=True, text=True
        ).stdout.strip(),
        "command": COMMAND,
        "cpus": os.cpu_count(),
        "wall_s": round(sum(seconds.values()), 1),
        "seconds": seconds,
        "peak_rss_gb": round(peak_kb / 2**20, 2),
        "loadavg_1m_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "outputs": len(committed),
        "in_stage_s": {s: log["wall_s"] for s, log in logs.items()},
        "llm_calls": {s: log["calls"] for s, log in logs.items() if "calls" in log},
        "differ_from_lock": [p for p in differ if not p.startswith("logs/")],
        "field_diff": {p: d for p, d in diffs.items() if d is not None},
        "logs_differ": [p for p in differ if p.startswith("logs/")],
    }
    if not keep:
        shutil.rmtree(root)
    write_result(out, result)


if __name__ == "__main__":
    main()
