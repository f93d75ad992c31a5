"""The persona checker: does a text read like one real person's profile or personality?

A greedy yes/no in a word or two; an unreadable answer is asked again by sampling.
Used by the optional LLM check of the persona pool (``personas.filter.llm_check``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aloe.llm.base import ChatResult
from aloe.params import Decoding
from aloe.prompts import render
from aloe.roles.base import Role

WHAT = {"profile": "daily life (age, work, home, family, hobbies)", "personality": "personality"}
DECODING = Decoding(temperature=0.0, max_tokens=4, max_attempts=3, retry_temperature=0.7)


@dataclass(frozen=True)
class CheckAsk:
    kind: str  # profile | personality
    text: str
    key: tuple


def read_yes_no(text: str) -> str | None:
    words = re.findall(r"[a-z]+", text.lower())[:3]
    found = {w for w in words if w in ("yes", "no")}
    return found.pop() if len(found) == 1 else None


class PersonaChecker(Role):
    plays = "persona_checker"

    def __init__(self, decoding: Decoding = DECODING):
        super().__init__(decoding)

    def messages(self, item: CheckAsk) -> list[dict]:
        return [{"role": "user", "content": render("persona_check", what=WHAT[item.kind], text=item.text)}]

    def read(self, result: ChatResult) -> str | None:
        return read_yes_no(result.text)
