"""Which code each DVC stage runs, from its script's imports: the contract that a change
to any module a stage reaches re-runs that stage.

    python scripts/stage_deps.py            # list what is missing from / stale in dvc.yaml
    python scripts/stage_deps.py --write    # rewrite the code deps of every stage in dvc.yaml

Code deps are the stage script, every ``aloe`` module it imports at any depth (lazy
imports included) with their packages, prompt templates named by a literal in
``render("name", ...)``, and requirements.lock (the pinned environment). Other deps
(data, models, configs) are left as they are.
tests/test_dvc_contract.py fails when a stage's deps miss any of them.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
ENV_LOCK = "requirements.lock"


def module_file(name: str) -> Path | None:
    base = SRC / Path(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_aloe_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "aloe"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "aloe":
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names if module_file(f"{node.module}.{a.name}")}
    return found


def prompt_files(path: Path) -> set[Path]:
    """Templates named in ``render("name", ...)``; an f-string name (``f"persona_{kind}"``) is a glob."""
    names = re.findall(r"render\(\s*f?\"([\w{}.]+)\"", path.read_text())
    return {f for n in names for f in (SRC / "aloe" / "prompts").glob(re.sub(r"\{[^}]*\}", "*", n) + ".txt")}


def reached_files(script: Path) -> set[Path]:
    """The stage script, every aloe module it reaches, their packages, and literal prompt files."""
    files, todo = {script}, [script]
    while todo:
        current = todo.pop()
        files |= prompt_files(current)
        for name in imported_aloe_modules(current):
            parts = name.split(".")
            for i in range(1, len(parts) + 1):
                f = module_file(".".join(parts[:i]))
                if f and f not in files:
                    files.add(f)
                    todo.append(f)
    return files


def stage_specs() -> dict[str, dict]:
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    return {name: spec.get("do", spec) for name, spec in stages.items()}


def code_deps(spec: dict) -> list[str]:
    """The modules the stage reaches, and the environment lock (a new library version can
    change what any stage computes)."""
    scripts = re.findall(r"stages/\w+\.py", spec["cmd"])
    files = {f for s in scripts for f in reached_files(REPO / s)}
    return sorted(str(f.relative_to(REPO)) for f in files) + [ENV_LOCK]


def is_code(dep: str) -> bool:
    return (
        dep == ENV_LOCK or dep.startswith("stages/") or (dep.startswith("src/aloe/") and dep.endswith((".py", ".txt")))
    )


def write() -> None:
    """Replace the code deps of each stage's block in dvc.yaml, keeping every other line."""
    specs, out, stage, written = stage_specs(), [], None, set()
    for line in (REPO / "dvc.yaml").read_text().splitlines():
        if head := re.match(r"^  (\w+):\s*$", line):
            stage = head.group(1)
        item = re.match(r"^(\s+)- (\S+)\s*$", line)
        if stage in specs and item and is_code(item.group(2)):
            if stage not in written:
                out += [f"{item.group(1)}- {dep}" for dep in code_deps(specs[stage])]
                written.add(stage)
            continue
        out.append(line)
    (REPO / "dvc.yaml").write_text("\n".join(out) + "\n")


def main() -> None:
    if "--write" in sys.argv:
        write()
    problems = []
    for name, spec in stage_specs().items():
        declared = [d for d in spec.get("deps", []) if "${" not in d]
        needed = code_deps(spec)
        missing = [f for f in needed if not any(f == d or f.startswith(d.rstrip("/") + "/") for d in declared)]
        stale = [d for d in declared if is_code(d) and d not in needed]
        problems += [f"{name}: missing {f}" for f in missing] + [f"{name}: not reached {d}" for d in stale]
    print("\n".join(problems) or "every stage depends on exactly the code it runs")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
