"""Read a 1-5 judge score: expected value over the first token's log-probabilities
when the backend returns them, else the integer in the text, else None."""

from __future__ import annotations

import math
import re

MIN_MASS = 0.05  # below this, the top tokens say little about 1-5: fall back to the text


def expected_score(logprobs: dict[str, float] | None) -> float | None:
    if not logprobs:
        return None
    mass = {k: 0.0 for k in range(1, 6)}
    for token, lp in logprobs.items():
        t = token.strip()
        if t in ("1", "2", "3", "4", "5"):
            mass[int(t)] += math.exp(lp)
    total = sum(mass.values())
    if total < MIN_MASS:
        return None
    return sum(k * p for k, p in mass.items()) / total


def parse_score(text: str) -> float | None:
    m = re.search(r"(?<![\d.])([1-5])(?:\s*/\s*5)?(?![\d.])", text)
    return float(m.group(1)) if m else None


def read_score(text: str, logprobs: dict[str, float] | None) -> tuple[float | None, str]:
    """(score, method) with method 'logprobs' | 'text' | 'missing'."""
    value = expected_score(logprobs)
    if value is not None:
        return value, "logprobs"
    value = parse_score(text)
    return (value, "text") if value is not None else (None, "missing")
