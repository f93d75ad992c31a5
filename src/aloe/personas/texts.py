"""Persona text files: the paper's released format (one JSON string per line) or
objects with a ``text`` field. Errors name file:line."""

from __future__ import annotations

from pathlib import Path

from aloe.errors import AloeError
from aloe.files import read_jsonl


def load_texts(path: str | Path) -> list[str]:
    texts = []
    for lineno, value in read_jsonl(path):
        if isinstance(value, dict):
            value = value.get("text")
        if not isinstance(value, str) or not value.strip():
            raise AloeError(f"{path}:{lineno}: expected a JSON string or an object with a non-empty 'text' string")
        texts.append(value.strip())
    if not texts:
        raise AloeError(f"{path}: no persona texts (the file is empty)")
    return texts
