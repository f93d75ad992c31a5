"""Reading a chat message (the simulator's, a responder's): strip stage directions and
speaker labels, as the paper does; nothing left is unusable."""

from __future__ import annotations

import re

ACTION = re.compile(r"\*[^*]*\*")  # *smiles*, *waves*
SPEAKER = re.compile(r"^\s*(?:A|B|User|Me|Assistant)\s*:\s*", re.I)


def clean_message(text: str) -> str | None:
    """Strip stage directions and speaker labels; None if nothing is left."""
    text = ACTION.sub("", text)
    text = SPEAKER.sub("", text.strip())
    text = " ".join(text.split()).strip('"“” ')
    return text or None
