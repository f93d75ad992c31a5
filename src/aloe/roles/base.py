"""What every LLM role has: a question per item, decoding, a reader, a seed per item.

A role is asked about a list of *items* (one dataclass per role: what it needs to
render its prompt, plus ``key``, where in the run the question sits). It renders
its messages, sends them as one batched call per attempt to the backend that
params name for it (``llm.roles``), and reads each answer; an unreadable answer
is asked again with a new seed (:mod:`aloe.llm.reask`). A request's seed is
``derive_seed(*item.key, attempt)`` (the persona writer draws its own with its
examples), so a resumed run replays each call from the response cache. Items hold
copies (tuples) of the chats they carry: a re-ask sends what the first ask sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from aloe.llm.base import ChatRequest, ChatResult
from aloe.llm.client import LLM
from aloe.llm.reask import Answer, Attempts
from aloe.params import Decoding
from aloe.seeds import derive_seed


class Role:
    """One LLM role. Subclasses set ``plays`` and define :meth:`messages` and :meth:`read`."""

    plays: ClassVar[str]  # the llm.roles entry whose backend answers
    prefill: str = ""  # the start of the answer the backend continues (empty: none)

    def __init__(self, decoding: Decoding):
        self.decoding = decoding

    def messages(self, item: Any) -> list[dict]:
        raise NotImplementedError

    def read(self, result: ChatResult) -> Any:
        """What the answer says (the role's typed value), or None: unusable, ask again."""
        raise NotImplementedError

    def seed(self, item: Any, attempt: int) -> int:
        return derive_seed(*item.key, attempt)

    def attempts(self, items: list) -> Attempts:
        """The re-asking of ``items``, for a caller that sends each batch itself (the trees pipeline)."""
        return Attempts(items, self.messages, self.seed, self.read, self.decoding, self.prefill)

    def ask(self, llm: LLM, items: list) -> list[Answer]:
        """One :class:`Answer` per item, every attempt one batched call."""
        attempts = self.attempts(items)
        while batch := attempts.next_batch():
            attempts.take(llm.chat(self.plays, batch))
        return attempts.answers  # type: ignore[return-value]

    async def ask_async(self, send: Callable[[str, list[ChatRequest]], Awaitable[list[ChatResult]]], items: list):
        """:meth:`ask` where ``send(role, requests)`` is awaited (the trees pipeline)."""
        attempts = self.attempts(items)
        while batch := attempts.next_batch():
            attempts.take(await send(self.plays, batch))
        return attempts.answers
