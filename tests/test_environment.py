"""The environment is the one requirements.lock pins (scripts/bootstrap.sh installs it),
and that lock is a dependency of every stage (stage_deps.py writes it into dvc.yaml)."""

import re
from importlib.metadata import PackageNotFoundError, version

from packaging.utils import canonicalize_name

from conftest import REPO


def locked() -> dict[str, str]:
    text = (REPO / "requirements.lock").read_text()
    return {canonicalize_name(n): v for n, v in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", text, re.M)}


def test_every_locked_package_is_installed_at_its_locked_version():
    pins = locked()
    assert len(pins) > 100 and "torch" not in pins  # torch: installed by bootstrap for the machine's device
    wrong = {}
    for name, pinned in pins.items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            installed = None
        if installed != pinned:
            wrong[name] = (pinned, installed)
    assert not wrong, f"not the locked versions (run `bash scripts/bootstrap.sh`): {wrong}"


def test_every_locked_requirement_is_hash_checked():
    blocks = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", (REPO / "requirements.lock").read_text())
    pinned = [b for b in blocks if re.match(r"[A-Za-z0-9_.-]+==", b)]
    assert pinned and all("--hash=sha256:" in b for b in pinned)


def test_the_modules_sharing_a_run_are_scheduled_on_one_worker():
    """xdist hands each WORKER_GROUPS group to one worker as one unit; every other test is a
    unit of its own. A renamed module would silently build the shared run once per worker."""
    from conftest import WORKER_GROUPS, scope_of

    assert all((REPO / module).is_file() for module in WORKER_GROUPS)
    shared = ("tests/test_pipeline_e2e.py", "tests/test_resilience_faults_secrets.py")
    tiny = {scope_of(f"{m}::test_x[a]") for m in shared}
    assert tiny == {"tiny_run"} and scope_of("tests/test_known_answer.py::test_y[planted]") == "known_answer"
    assert scope_of("tests/test_trees.py::test_one") == "tests/test_trees.py::test_one"
