"""Robust reading of role outputs: user messages, inducer summaries, judge verdicts.

Small models and busy APIs both produce near misses ("**First**", "Message 1",
"Profile -" on one line). Each parser accepts the reasonable variants and
returns None for anything it cannot read, so the caller can retry with a new
seed instead of guessing.
"""

from __future__ import annotations

import math
import re

ACTION = re.compile(r"\*[^*]*\*")  # *smiles*, *waves* (the paper strips these too)
SPEAKER = re.compile(r"^\s*(?:A|B|User|Me|Assistant)\s*:\s*", re.I)
INDUCER = re.compile(r"profile\s*[:\-]\s*(?P<profile>.*?)\s*(?:(?:\n|\b)personalit(?:y|ies)\s*[:\-]\s*"
                     r"(?P<personality>.*)|$)", re.I | re.S)
VERDICT_WORDS = {"first": "first", "1": "first", "one": "first", "second": "second", "2": "second", "two": "second"}


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


def parse_verdict(text: str) -> str | None:
    """'first' | 'second' from the judge's text, or None if it says neither (or both)."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    found = {VERDICT_WORDS[w] for w in words[:4] if w in VERDICT_WORDS}
    if len(found) == 1:
        return found.pop()
    words = set(words)
    found = {v for w, v in VERDICT_WORDS.items() if w in words and not w.isdigit()}
    return found.pop() if len(found) == 1 else None


def verdict_from_logprobs(logprobs: dict[str, float] | None) -> tuple[str | None, float | None]:
    """Compare the probability mass on first-like and second-like first tokens.

    Returns (verdict, P(first) / (P(first) + P(second))); both None when the
    judge put no mass on either among its top tokens (or gave no logprobs).
    """
    if not logprobs:
        return None, None
    mass = {"first": 0.0, "second": 0.0}
    for token, lp in logprobs.items():
        word = token.strip().lower()
        for key in ("first", "second"):
            if word and (key.startswith(word) and len(word) >= 2 or word == ("1" if key == "first" else "2")):
                mass[key] += math.exp(lp)
    total = mass["first"] + mass["second"]
    if total == 0:
        return None, None
    p_first = mass["first"] / total
    return ("first" if p_first >= 0.5 else "second"), p_first
