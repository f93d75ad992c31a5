"""The user simulator: plays a persona, in the trees, the judge check and the benchmark.

It keeps a chat of its own in which it speaks as "assistant": it is told the
persona once (:meth:`UserSimulator.opening`), and after every turn it reads the
reply it got as a user message (:meth:`UserSimulator.follow_up`). Its answer is
the user's next message, cleaned (:func:`aloe.roles.clean.clean_message`).
"""

from __future__ import annotations

from dataclasses import dataclass

from aloe.llm.base import ChatResult
from aloe.prompts import render
from aloe.roles.base import Role
from aloe.roles.clean import clean_message


@dataclass(frozen=True)
class SimulatorAsk:
    chat: tuple[dict, ...]  # the simulator's own chat so far
    key: tuple


class UserSimulator(Role):
    plays = "user"

    @staticmethod
    def opening(profile: str, personality: str) -> list[dict]:
        """The simulator's chat before its first message: the persona it plays."""
        return [{"role": "user", "content": render("user_simulator", profile=profile, personality=personality)}]

    @staticmethod
    def follow_up(chat: list[dict], message: str, reply: str) -> list[dict]:
        """The simulator's chat after it sent ``message`` and got ``reply``."""
        return [
            *chat,
            {"role": "assistant", "content": message},
            {"role": "user", "content": render("user_followup", message=reply)},
        ]

    def messages(self, item: SimulatorAsk) -> list[dict]:
        return list(item.chat)

    def read(self, result: ChatResult) -> str | None:
        return clean_message(result.text)
