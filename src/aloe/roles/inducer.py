"""The inducer: reads a conversation and the true persona and writes, conservatively,
what the user has revealed so far (the "inferred" profile and personality).

One worked example goes first as chat turns (the paper used two): small models
copy the format. The reader accepts the near misses small models and busy APIs
write ("**Profile**", "Profile -" on one line) and returns None for anything
else, so the answer is asked again with a new seed instead of guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aloe.llm.base import ChatResult
from aloe.prompts import render
from aloe.roles.base import Role

INDUCER = re.compile(
    r"profile\s*[:\-]\s*(?P<profile>.*?)\s*(?:(?:\n|\b)personalit(?:y|ies)\s*[:\-]\s*"
    r"(?P<personality>.*)|$)",
    re.I | re.S,
)
EXAMPLE_PROFILE = "A 19-year-old anthropology student who plays guitar, loves indie films and acts in a theatre group."
EXAMPLE_PERSONALITY = "Curious, witty, sociable, a good listener."


@dataclass(frozen=True)
class InducerAsk:
    conversation: str  # "A: ...\nB: ..." up to the user's latest message
    profile: str
    personality: str
    key: tuple


def parse_inducer(text: str) -> tuple[str, str] | None:
    m = INDUCER.search(re.sub(r"[*#_]", "", text))  # markdown emphasis around the labels
    if not m:
        return None
    profile = " ".join(m["profile"].split()).strip() or "None"
    personality = " ".join((m["personality"] or "").split()).strip() or "None"  # unstated = nothing revealed
    return profile, personality


class Inducer(Role):
    plays = "inducer"

    def messages(self, item: InducerAsk) -> list[dict]:
        example = render(
            "inducer",
            conversation=render("inducer_example").strip(),
            profile=EXAMPLE_PROFILE,
            personality=EXAMPLE_PERSONALITY,
        )
        question = render("inducer", conversation=item.conversation, profile=item.profile, personality=item.personality)
        return [
            {"role": "user", "content": example},
            {"role": "assistant", "content": render("inducer_example_answer").strip()},
            {"role": "user", "content": question},
        ]

    def read(self, result: ChatResult) -> tuple[str, str] | None:
        return parse_inducer(result.text)
