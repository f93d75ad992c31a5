"""Role prompt templates, one editable text file per role (str.format fields)."""

from importlib import resources


def render(name: str, **fields: str) -> str:
    return resources.files(__name__).joinpath(f"{name}.txt").read_text().format(**fields)
