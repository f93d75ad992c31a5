"""Re-ask a role until its output is usable, one batched call per attempt.

Tree building, the judge check and the ALOE benchmark all need this: small
models and busy APIs sometimes return text that does not parse. A re-ask must
be able to change the answer: it carries a new seed, and when the first ask was
greedy (temperature 0, which ignores the seed) it samples at
``retry_temperature``. Items still unusable are retried together, so every
attempt is a single batched call, and the caller decides what a final failure
means. Because the attempt is part of every request, a resumed run replays each
attempt from the response cache exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aloe.llm.base import ChatRequest, ChatResult
from aloe.llm.client import LLM


@dataclass
class Answer:
    value: Any  # what ``parse`` kept, or None if every attempt was unusable
    result: ChatResult  # the last result received
    attempts: int


def sampling(temperature: float, attempt: int, retry_temperature: float) -> dict:
    """Temperature and top-p for an attempt: a greedy first ask is re-asked by sampling."""
    if attempt > 0 and temperature == 0:
        temperature = retry_temperature
    return {"temperature": temperature, "top_p": 0.95 if temperature > 0 else 1.0}


class Attempts:
    """The bookkeeping of re-asking, apart from how a batch is sent: the builder's
    per-tree pipeline awaits each batch, everything else calls ``llm.chat``.

    ``request(item, attempt)`` must vary the seed with ``attempt`` (and use
    :func:`sampling`); ``parse(result)`` returns the value to keep, or None to ask again."""

    def __init__(
        self,
        items: list,
        request: Callable[[Any, int], ChatRequest],
        parse: Callable[[ChatResult], Any],
        max_attempts: int,
    ):
        self.items, self.request, self.parse, self.max_attempts = items, request, parse, max_attempts
        self.answers: list[Answer | None] = [None] * len(items)
        self.todo = list(range(len(items)))
        self.attempt = 0

    def next_batch(self) -> list[ChatRequest]:
        """The requests of the next attempt; empty when every item is usable or out of attempts."""
        if self.attempt >= self.max_attempts:
            return []
        return [self.request(self.items[i], self.attempt) for i in self.todo]

    def take(self, results: list[ChatResult]) -> None:
        retry = []
        for i, result in zip(self.todo, results, strict=True):
            value = self.parse(result) if result.ok else None
            self.answers[i] = Answer(value, result, self.attempt + 1)
            if value is None:
                retry.append(i)
        self.todo = retry
        self.attempt += 1


def ask_until_usable(
    llm: LLM,
    role: str,
    items: list,
    request: Callable[[Any, int], ChatRequest],
    parse: Callable[[ChatResult], Any],
    max_attempts: int,
) -> list[Answer]:
    """One Answer per item (see :class:`Attempts`), every attempt one batched call."""
    attempts = Attempts(items, request, parse, max_attempts)
    while batch := attempts.next_batch():
        attempts.take(llm.chat(role, batch))
    return attempts.answers  # type: ignore[return-value]
