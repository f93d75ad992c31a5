"""The reproducibility contract: every stage depends on the code it runs, and the
CI lock check (scripts/check_lock.py) catches a lock that does not match the tree."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO

BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO / "scripts"))

from stage_deps import code_deps, is_code, stage_specs  # noqa: E402


@pytest.mark.parametrize("name", sorted(stage_specs()))
def test_stage_deps_are_exactly_the_code_it_runs(name):
    """Every module a stage's script reaches is a dependency (a change to it re-runs the stage),
    and no code dependency is one it does not reach (which would re-run it for nothing)."""
    spec = stage_specs()[name]
    declared = [d for d in spec.get("deps", []) if "${" not in d]
    needed = code_deps(spec)
    assert re.search(r"stages/\w+\.py", spec["cmd"]), f"{name}: cmd runs no stages/*.py script"
    missing = [f for f in needed if not any(f == d or f.startswith(d.rstrip("/") + "/") for d in declared)]
    stale = [d for d in declared if is_code(d) and d not in needed]
    assert not missing and not stale, (
        f"stage {name}: missing {missing}, not reached {stale}; run `python scripts/stage_deps.py --write`"
    )


def test_the_layout_exists_in_a_clone_and_outputs_never_reach_git():
    """Each cached output is named in its directory's committed .gitignore (the file DVC keeps),
    so models/ and data/* exist in a fresh clone and `git add -A` never stages a model."""
    tracked = set(subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True).stdout.split())
    variants = yaml.safe_load((REPO / "params.yaml").read_text())["eval"]["variants"]
    for name, spec in stage_specs().items():
        for out in spec.get("do", spec).get("outs", []):
            template = out if isinstance(out, str) else next(iter(out))
            for path in {Path(template.replace("${key}", key)) for key in variants}:
                assert_ignored_by_its_directory(name, path, tracked)


def assert_ignored_by_its_directory(name: str, path: Path, tracked: set[str]) -> None:
    if any(str(path.parent) in spec.get("deps", []) for spec in stage_specs().values()):
        # a directory dependency (data/eval for aloe_compare): a committed .gitignore would be hashed with it
        assert str(path.parent / ".gitignore") not in tracked, f"{path.parent} is a dependency: no files in git"
        return
    ignore = path.parent / ".gitignore"
    assert str(ignore) in tracked, f"{name}: {ignore} is not committed"
    assert f"/{path.name}" in (REPO / ignore).read_text().split(), f"{name}: {path} not in {ignore}"


def test_accelerate_config_of_training_stages_is_a_dependency():
    for name in ("sft", "dpo"):
        spec = stage_specs()[name]
        config = re.search(r"--config_file (\S+)", spec["cmd"]).group(1)
        assert any(config.startswith(d.rstrip("/") + "/") for d in spec["deps"]), name


def sh(cmd: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        cmd,
        shell=True,
        cwd=cwd,
        capture_output=True,
        text=True,
        env={
            "PATH": f"{BIN}:/usr/bin:/bin",
            "HOME": str(cwd),
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@t",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@t",
        },
    )


def check_lock(path: Path) -> subprocess.CompletedProcess:
    return sh(f"{sys.executable} {REPO / 'scripts/check_lock.py'} {path}", path)


@pytest.fixture
def tiny_project(tmp_path) -> Path:
    """Two stages, one of them with a metric committed to git, reproduced and cloned."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "dep.txt").write_text("a\n")
    (src / "params.yaml").write_text("x: 1\n")
    (src / "dvc.yaml").write_text(
        yaml.safe_dump(
            {
                "stages": {
                    "one": {"cmd": "cp dep.txt out.txt", "deps": ["dep.txt"], "outs": ["out.txt"]},
                    "two": {
                        "cmd": "cp out.txt m.json",
                        "deps": ["out.txt"],
                        "params": ["x"],
                        "metrics": [{"m.json": {"cache": False}}],
                    },
                }
            }
        )
    )
    assert sh("git init -q && dvc init -q && dvc repro -q && git add -A && git commit -qm run", src).returncode == 0
    assert sh(f"git clone -q {src} {tmp_path / 'clone'}", tmp_path).returncode == 0
    return tmp_path / "clone"


def test_lock_check_passes_on_a_fresh_clone_of_a_reproduced_tree(tiny_project):
    proc = check_lock(tiny_project)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    "edit,needle",
    [
        ("echo b > dep.txt", "one: dependency dep.txt modified"),
        ("echo 'x: 2' > params.yaml", "two: param params.yaml:x modified"),
        ("echo '{\"m\": 1}' > m.json", "two: output m.json modified"),
        ("sed -i 's/cp out.txt m.json/cp -f out.txt m.json/' dvc.yaml", "two: changed command"),
    ],
)
def test_lock_check_fails_when_the_tree_moved_on(tiny_project, edit, needle):
    sh(f"{edit} && git commit -qam edit", tiny_project)
    proc = check_lock(tiny_project)
    assert proc.returncode == 1 and needle in proc.stderr, proc.stderr


def test_editing_the_judge_parser_without_rerunning_fails_the_lock_check(tmp_path):
    """On this repo: a commit that changes the message parser must re-run the benchmark and trees."""
    clone = tmp_path / "clone"
    assert sh(f"git clone -q {REPO} {clone}", tmp_path).returncode == 0
    sh("echo '# edited' >> src/aloe/roles/simulator.py && git commit -qam edit", clone)
    proc = check_lock(clone)
    assert proc.returncode == 1
    for stage in ("trees", "aloe_eval@base", "aloe_eval@sft", "aloe_eval@dpo"):
        assert re.search(rf"{stage}: dependency src/aloe/roles(/simulator\.py)? modified", proc.stderr), proc.stderr
