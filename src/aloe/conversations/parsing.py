"""Robust reading of role outputs: user messages and inducer summaries (judges: aloe.judging).

Small models and busy APIs both produce near misses ("**First**", "Message 1",
"Profile -" on one line). Each parser accepts the reasonable variants and
returns None for anything it cannot read, so the caller can retry with a new
seed instead of guessing.
"""

from __future__ import annotations

import re

ACTION = re.compile(r"\*[^*]*\*")  # *smiles*, *waves* (the paper strips these too)
SPEAKER = re.compile(r"^\s*(?:A|B|User|Me|Assistant)\s*:\s*", re.I)
INDUCER = re.compile(
    r"profile\s*[:\-]\s*(?P<profile>.*?)\s*(?:(?:\n|\b)personalit(?:y|ies)\s*[:\-]\s*"
    r"(?P<personality>.*)|$)",
    re.I | re.S,
)


def clean_message(text: str) -> str | None:
    """Strip stage directions and speaker labels; None if nothing is left."""
    text = ACTION.sub("", text)
    text = SPEAKER.sub("", text.strip())
    text = " ".join(text.split()).strip('"“” ')
    return text or None


def parse_inducer(text: str) -> tuple[str, str] | None:
    m = INDUCER.search(re.sub(r"[*#_]", "", text))  # markdown emphasis around the labels
    if not m:
        return None
    profile = " ".join(m["profile"].split()).strip() or "None"
    personality = " ".join((m["personality"] or "").split()).strip() or "None"  # unstated = nothing revealed
    return profile, personality
