"""The pair datasets a trainer reads."""

from __future__ import annotations

from datasets import load_from_disk

from aloe.errors import AloeError


def load_splits(path: str):
    """(train, validation or None), in memory on purpose: trainers ``map`` the data, and
    on-disk datasets get cache files written into their directory, another stage's output."""
    data = load_from_disk(path, keep_in_memory=True)
    if len(data["train"]) == 0:
        raise AloeError(f"{path}: the train split is empty")
    return data["train"], data.get("validation")
