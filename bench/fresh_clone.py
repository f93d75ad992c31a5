"""README command 1 as a newcomer runs it: a fresh clone of this commit, a new ``.venv``, an
empty response cache, then the README's command verbatim. Records the seconds of the set-up
and of each stage (from DVC announcing it to DVC announcing the next), the largest peak RSS of
any process of the run, the load average before and after (was the machine idle?), and which
outputs differ from the committed ``dvc.lock`` (the run logs always do: they hold wall times).

    python bench/fresh_clone.py --out bench/results/fresh_clone.json
"""

from __future__ import annotations

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
        "differ_from_lock": [p for p in differ if not p.startswith("logs/")],
        "logs_differ": [p for p in differ if p.startswith("logs/")],
    }
    if not keep:
        shutil.rmtree(root)
    write_result(out, result)


if __name__ == "__main__":
    main()
