"""CI gate: the committed dvc.lock describes the committed tree.

`dvc.lock` records the hash of every dependency, parameter and output a stage
used. On a clean clone the only differences DVC may report are outputs that are
not there yet (data and models live in the DVC cache and remote, not in git).
Anything else means the lock (and the metrics committed with it) came from
other code or params than the ones committed, and `dvc metrics diff` against
this commit would compare with a run nobody can reproduce. Exits 1 and lists
every mismatch; runs in about a second, without running any stage.

    python scripts/check_lock.py [REPO_DIR]
"""

from __future__ import annotations

import sys

import yaml
from dvc.repo import Repo

MISSING = {"deleted", "not in cache"}


def lock_problems(root: str = ".") -> list[str]:
    with Repo(root) as repo:
        stages = {s.addressing: s for s in repo.index.stages}
        produced = {str(o.def_path) for s in stages.values() for o in s.outs}
        in_git = {str(o.def_path) for s in stages.values() for o in s.outs if not o.use_cache}
        status = repo.status()
        with open(repo.root_dir + "/dvc.lock") as f:
            locked = set((yaml.safe_load(f) or {}).get("stages", {}))
    problems = [f"{name}: not in dvc.lock (never run with this definition)" for name in stages if name not in locked]
    for name, entries in status.items():
        for entry in entries:
            if isinstance(entry, str):  # "changed command", "always changed"
                problems.append(f"{name}: {entry}")
                continue
            for path, state in entry.get("changed deps", {}).items():
                if isinstance(state, dict):  # params.yaml: {key: modified|new|deleted}
                    problems += [f"{name}: param {path}:{key} {s}" for key, s in state.items()]
                elif not (state == "deleted" and any(o == path or o.startswith(path + "/") for o in produced)):
                    problems.append(f"{name}: dependency {path} {state}")
            for path, state in entry.get("changed outs", {}).items():
                if state not in MISSING or path in in_git:
                    problems.append(f"{name}: output {path} {state} (committed outputs must match the lock)")
    return problems


def main() -> None:
    problems = lock_problems(sys.argv[1] if len(sys.argv) > 1 else ".")
    if problems:
        print(
            "dvc.lock does not match the committed tree; run `dvc repro` and commit dvc.lock "
            "and metrics/ with the code:",
            *problems,
            sep="\n  ",
            file=sys.stderr,
        )
        sys.exit(1)
    print("dvc.lock matches the tree: every dependency, parameter and committed output")


if __name__ == "__main__":
    main()
