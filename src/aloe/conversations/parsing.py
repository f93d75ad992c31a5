"""Robust reading of the inducer's summary (user messages: aloe.conversations.simulator;
judges: aloe.judging).

Small models and busy APIs both produce near misses ("**Profile**", "Profile -"
on one line). The parser accepts the reasonable variants and returns None for
anything it cannot read, so the caller can retry with a new seed instead of guessing.
"""

from __future__ import annotations

import re

INDUCER = re.compile(
    r"profile\s*[:\-]\s*(?P<profile>.*?)\s*(?:(?:\n|\b)personalit(?:y|ies)\s*[:\-]\s*"
    r"(?P<personality>.*)|$)",
    re.I | re.S,
)


def parse_inducer(text: str) -> tuple[str, str] | None:
    m = INDUCER.search(re.sub(r"[*#_]", "", text))  # markdown emphasis around the labels
    if not m:
        return None
    profile = " ".join(m["profile"].split()).strip() or "None"
    personality = " ".join((m["personality"] or "").split()).strip() or "None"  # unstated = nothing revealed
    return profile, personality
