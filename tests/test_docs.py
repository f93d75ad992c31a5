"""The README and the docs cite tests as evidence: every test file and test function they name exists."""

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
