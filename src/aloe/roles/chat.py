"""The chat model: the model under evaluation in the benchmark, and the checkpoint
``aloe chat`` talks to. It sees only the conversation; any non-empty answer is usable."""

from __future__ import annotations

from dataclasses import dataclass

from aloe.llm.base import ChatResult
from aloe.roles.base import Role


@dataclass(frozen=True)
class ChatAsk:
    messages: tuple[dict, ...]  # the conversation so far, ending with the user's message
    key: tuple


class Chat(Role):
    plays = "model"

    def messages(self, item: ChatAsk) -> list[dict]:
        return list(item.messages)

    def read(self, result: ChatResult) -> str | None:
        return result.text.strip() or None
