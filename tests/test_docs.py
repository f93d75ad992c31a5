"""The README cites tests as evidence: every test file and test function it names exists."""

import re

from conftest import REPO

README = (REPO / "README.md").read_text()
TESTS = {p.name: p.read_text() for p in (REPO / "tests").glob("test_*.py")}


def test_every_test_file_the_readme_cites_exists():
    cited = set(re.findall(r"\b(test_\w+\.py)\b", README))
    assert cited, "the README cites no test file"
    assert not cited - set(TESTS), f"cited but missing: {sorted(cited - set(TESTS))}"


def test_every_test_function_the_readme_cites_exists():
    cited = {name for name in re.findall(r"`[^`]*?\b(test_\w+)\b[^`]*`", README) if not name.endswith("_py")}
    cited -= {name.removesuffix(".py") for name in TESTS}
    defined = {name for text in TESTS.values() for name in re.findall(r"^def (test_\w+)", text, re.M)}
    assert not cited - defined, f"cited but missing: {sorted(cited - defined)}"
