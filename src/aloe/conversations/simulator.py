"""The user simulator: the role that plays a persona, in trees, the judge check and the benchmark.

The simulator keeps a chat of its own in which it speaks as "assistant": it is told
the persona once (``opening``), and after every turn it reads the reply it got as a
user message (``follow_up``). Its output, like a responder's, is cleaned of stage
directions and speaker labels (``clean_message``).
"""

from __future__ import annotations

import re

from aloe.prompts import render

ACTION = re.compile(r"\*[^*]*\*")  # *smiles*, *waves* (the paper strips these too)
SPEAKER = re.compile(r"^\s*(?:A|B|User|Me|Assistant)\s*:\s*", re.I)


def opening(profile: str, personality: str) -> list[dict]:
    """The simulator's chat before its first message: the persona it plays."""
    return [{"role": "user", "content": render("user_simulator", profile=profile, personality=personality)}]


def follow_up(simulator: list[dict], message: str, reply: str) -> list[dict]:
    """The simulator's chat after it sent ``message`` and got ``reply``."""
    return [
        *simulator,
        {"role": "assistant", "content": message},
        {"role": "user", "content": render("user_followup", message=reply)},
    ]


def clean_message(text: str) -> str | None:
    """Strip stage directions and speaker labels; None if nothing is left."""
    text = ACTION.sub("", text)
    text = SPEAKER.sub("", text.strip())
    text = " ".join(text.split()).strip('"“” ')
    return text or None
