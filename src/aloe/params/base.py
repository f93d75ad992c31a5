"""What every params section is built from: strict models, documented fields, shared types."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

PositiveInt = Annotated[int, Field(gt=0)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]

WordRange = tuple[PositiveInt, PositiveInt]
Temperature = Annotated[float, Field(ge=0.0, le=2.0)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def doc(default, description: str, **constraints):
    """A field with its default and the README's one-line description (the README's
    parameter table is generated from these: scripts/params_table.py)."""
    return Field(default, description=description, **constraints)


@dataclass(frozen=True)
class Decoding:
    """How one role is asked: the settings every request and re-ask of that role share
    (aloe.roles asks through aloe.llm.reask). Derived from a params section by its
    ``decoding(role)``, so a role's numbers are read in one place."""

    temperature: float
    max_tokens: int
    max_attempts: int
    retry_temperature: float
    top_logprobs: int = 0  # >0: ask for the k likeliest tokens at every position (judges)
    top_p: float | None = None  # None: 0.95 when sampling, 1.0 when greedy


class RoleSection(Strict):
    """A section that sets ``temperature`` and ``max_tokens`` per role (fields named for the
    roles) and the re-ask settings ``max_attempts`` and ``retry_temperature`` for all of them."""

    def decoding(self, role: str) -> Decoding:
        """How the role ``role`` of this section is asked (the judges: params ``judge``)."""
        return Decoding(
            temperature=getattr(self.temperature, role),
            max_tokens=getattr(self.max_tokens, role),
            max_attempts=self.max_attempts,
            retry_temperature=self.retry_temperature,
        )
