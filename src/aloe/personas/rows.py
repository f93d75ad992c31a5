"""A persona as the splits write it and every LLM stage reads it: one row of
data/personas/{train,eval}.parquet, a profile crossed with a personality."""

from __future__ import annotations

from dataclasses import dataclass, fields

import pandas as pd

from aloe.errors import AloeError


@dataclass(frozen=True)
class Persona:
    persona_id: str  # "<profile_id>+<personality_id>"
    profile_id: str  # the cluster every interval resamples
    profile: str
    personality_id: str
    personality: str


COLUMNS = [f.name for f in fields(Persona)]


def read_personas(path: str) -> list[Persona]:
    """Every row of a personas parquet, in file order; a missing column is an error naming the file."""
    frame = pd.read_parquet(path)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise AloeError(f"{path}: not a personas file (missing column {', '.join(missing)})")
    return [Persona(**row) for row in frame[COLUMNS].to_dict("records")]
