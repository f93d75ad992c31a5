"""The parameter table of docs/parameters.md, generated from the params models (src/aloe/params/),
so a default or a description is written once.

    python scripts/params_table.py            # print the table
    python scripts/params_table.py --write    # replace it in docs/parameters.md between the markers
"""

from __future__ import annotations

import sys
import typing
from pathlib import Path

from pydantic import BaseModel

from aloe.params import OpenAIBackendParams, Params, TransformersBackendParams

PAGE = Path(__file__).resolve().parents[1] / "docs" / "parameters.md"
START, END = "<!-- params-table:start -->", "<!-- params-table:end -->"
EXPAND = {"llm.backends": {"…type: transformers": TransformersBackendParams, "…type: openai": OpenAIBackendParams}}


def default_of(field) -> str:
    return "required" if field.is_required() else shown(field.get_default(call_default_factory=True))


def shown(value) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, dict):
        return "see `params.yaml`" if value else "{}"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return f"`{value}`" if isinstance(value, str) else str(list(value) if isinstance(value, tuple) else value)


def nested_model(annotation):
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def rows(model: type[BaseModel], prefix: str = "") -> list[tuple[str, str, str]]:
    out = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        sub = nested_model(field.annotation)
        if sub is not None and field.description is None:
            out += rows(sub, f"{path}.")
            continue
        out.append((path, default_of(field), field.description or ""))
        for label, backend in EXPAND.get(path, {}).items():
            out += [
                (f"{path}.<name>.{k}", default_of(f), f"{label}: {f.description}")
                for k, f in backend.model_fields.items()
                if k != "type"
            ]
    return out


def table() -> str:
    lines = ["| key | default | meaning |", "|---|---|---|"]
    lines += [f"| `{k}` | {d} | {m} |" for k, d, m in rows(Params)]
    return "\n".join(lines)


def main() -> None:
    generated = table()
    if "--write" not in sys.argv:
        print(generated)
        return
    text = PAGE.read_text()
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    PAGE.write_text(f"{head}{START}\n{generated}\n{END}{tail}")


if __name__ == "__main__":
    main()
