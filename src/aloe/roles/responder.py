"""The responders: answer the user's latest message, with a hint about who the user is
(the hinted responder: the inducer's inference in the trees, a planted persona in the
judge check) or without one (the plain responder). Both are one role, one backend:
an item with a hint gets the hinted prompt."""

from __future__ import annotations

from dataclasses import dataclass

from aloe.llm.base import ChatResult
from aloe.prompts import render
from aloe.roles.base import Role
from aloe.roles.clean import clean_message


@dataclass(frozen=True)
class ResponderAsk:
    history: tuple[dict, ...]  # the conversation before the message, as user/assistant turns
    message: str
    hint: tuple[str, str] | None  # (profile, personality) the reply should suit, or None: plain
    key: tuple


class Responder(Role):
    plays = "responder"

    def messages(self, item: ResponderAsk) -> list[dict]:
        if item.hint is None:
            content = render("responder_plain", message=item.message)
        else:
            profile, personality = item.hint
            content = render(
                "responder_hint", message=item.message, inferred_profile=profile, inferred_personality=personality
            )
        return [*item.history, {"role": "user", "content": content}]

    def read(self, result: ChatResult) -> str | None:
        return clean_message(result.text)
