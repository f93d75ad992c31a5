"""The README and the docs: every test they cite exists, and every generated table of measured figures
matches the results file it comes from (scripts/docs_tables.py)."""

import re

import pytest

from conftest import REPO

PAGES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
TESTS = {p.name: p.read_text() for p in (REPO / "tests").glob("test_*.py")}


def test_the_docs_cite_tests():
    cited = {name for page in PAGES for name in re.findall(r"\b(test_\w+\.py)\b", page.read_text())}
    assert cited, "neither the README nor the docs cite a test file"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_test_file_a_page_cites_exists(page):
    cited = set(re.findall(r"\b(test_\w+\.py)\b", page.read_text()))
    assert not cited - set(TESTS), f"cited but missing: {sorted(cited - set(TESTS))}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_test_function_a_page_cites_exists(page):
    text = page.read_text()
    cited = {name for name in re.findall(r"`[^`]*?\b(test_\w+)\b[^`]*`", text) if not name.endswith("_py")}
    cited -= {name.removesuffix(".py") for name in TESTS}
    defined = {name for text in TESTS.values() for name in re.findall(r"^def (test_\w+)", text, re.M)}
    assert not cited - defined, f"cited but missing: {sorted(cited - defined)}"


def load_tables():
    import importlib.util

    spec = importlib.util.spec_from_file_location("docs_tables", REPO / "scripts/docs_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_generated_table_matches_its_source():
    assert load_tables().stale(REPO) == []


def test_one_changed_figure_in_a_results_file_makes_the_check_fail(tmp_path):
    import json
    import shutil

    tables = load_tables()
    for rel in ("README.md", "params.yaml", "configs", "docs", "metrics", "bench/results"):
        copy = shutil.copytree if (REPO / rel).is_dir() else shutil.copy2
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        copy(REPO / rel, tmp_path / rel)
    assert tables.stale(tmp_path) == []
    result = tmp_path / "bench/results/known_answer.json"
    data = json.loads(result.read_text())
    data["planted"]["compare"]["dpo-base"]["AL_mean"] = 0.5
    result.write_text(json.dumps(data))
    assert tables.stale(tmp_path) == ["docs/known-answer.md: known_answer"]
    timing = tmp_path / "bench/results/fresh_clone.json"
    data = json.loads(timing.read_text())
    data["seconds"]["trees"] += 60
    timing.write_text(json.dumps(data))
    assert tables.stale(tmp_path) == ["docs/benchmarks.md: fresh_clone", "docs/known-answer.md: known_answer"]
