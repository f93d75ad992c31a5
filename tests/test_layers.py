"""The package's layers: every import (lazy ones included) points down, never up or
sideways, so no two packages import each other and no module imports itself in a ring."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import REPO

sys.path.insert(0, str(REPO / "scripts"))

from stage_deps import imported_aloe_modules  # noqa: E402

SRC = REPO / "src"
# Bottom to top; a unit is a package of src/aloe or a top-level module. A unit may import
# its own modules and any unit of a lower layer.
LAYERS = (
    {"aloe", "errors", "seeds", "prompts", "stats", "configs"},
    {"files", "params", "model_refs", "tokenizers", "store"},
    {"stage", "tracking", "cards", "llm", "base_model"},
    {"roles"},
    {"judging", "personas"},
    {"conversations", "evaluation", "training", "judge_check"},
    {"estimate"},
    {"cli"},
)
RANK = {unit: rank for rank, layer in enumerate(LAYERS) for unit in layer}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "aloe"


def graph() -> dict[str, set[str]]:
    """Every aloe module and the aloe modules it imports, at any depth of the file (functions too)."""
    return {module_name(p): imported_aloe_modules(p) for p in (SRC / "aloe").rglob("*.py")}


def test_every_unit_has_a_layer():
    units = {unit(m) for m in graph()}
    assert units <= set(RANK), f"place these in LAYERS: {sorted(units - set(RANK))}"


def test_imports_only_point_down():
    back = [
        f"{importer} -> {imported}"
        for importer, targets in graph().items()
        for imported in targets
        if unit(imported) != unit(importer) and RANK[unit(imported)] >= RANK[unit(importer)]
    ]
    assert back == [], "imports that run up or sideways across the layers:\n" + "\n".join(sorted(back))


def test_no_module_cycles():
    edges = graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> list[str] | None:
        state[module] = 1
        for nxt in sorted(edges.get(module, ())):
            nxt = nxt if nxt in edges else nxt.rsplit(".", 1)[0]  # `from aloe.x import name`
            if state.get(nxt) == 1:
                return [*path, module, nxt]
            if nxt in edges and nxt not in state and (ring := visit(nxt, [*path, module])):
                return ring
        state[module] = 2
        return None

    rings = [ring for m in sorted(edges) if m not in state and (ring := visit(m, []))]
    assert rings == [], f"import cycle: {' -> '.join(rings[0])}"
