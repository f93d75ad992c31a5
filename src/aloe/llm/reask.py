"""Re-asking: build a request from decoding settings, send it, re-ask until usable.

Every role (:mod:`aloe.roles`) is asked this way; small models and busy APIs
sometimes return text that does not parse. A re-ask must be able to change the
answer: it carries a new seed, and when the first ask was greedy (temperature 0,
which ignores the seed) it samples at ``retry_temperature``. Items still unusable
are retried together, so every attempt is a single batched call, and the caller
decides what a final failure means. Because the attempt is part of every
request's seed, a resumed run replays each attempt from the response cache exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aloe.llm.base import ChatRequest, ChatResult
from aloe.params import Decoding


@dataclass
class Answer:
    value: Any  # what ``parse`` kept, or None if every attempt was unusable
    result: ChatResult  # the last result received
    attempts: int


def sampling(decoding: Decoding, attempt: int) -> dict:
    """Temperature and top-p for an attempt: a greedy first ask is re-asked by sampling."""
    temperature = decoding.temperature
    if attempt > 0 and temperature == 0:
        temperature = decoding.retry_temperature
    top_p = decoding.top_p if decoding.top_p is not None else 0.95 if temperature > 0 else 1.0
    return {"temperature": temperature, "top_p": top_p}


def build_request(decoding: Decoding, messages: list[dict], seed: int, attempt: int, prefill: str = "") -> ChatRequest:
    """The request of one attempt. ``prefill`` starts the assistant's answer (a trailing
    assistant message the model continues); empty, the messages go as they are."""
    if prefill:
        messages = [*messages, {"role": "assistant", "content": prefill}]
    return ChatRequest.from_messages(
        messages,
        max_tokens=decoding.max_tokens,
        top_logprobs=decoding.top_logprobs,
        seed=seed,
        **sampling(decoding, attempt),
    )


class Attempts:
    """The bookkeeping of re-asking, apart from how a batch is sent: the builder's
    per-tree pipeline awaits each batch, everything else through :meth:`aloe.roles.base.Role.ask`.

    ``messages(item)`` and ``seed(item, attempt)`` say what each item asks (see
    :func:`build_request`); ``parse(result)`` returns the value to keep, or None to ask again."""

    def __init__(
        self,
        items: list,
        messages: Callable[[Any], list[dict]],
        seed: Callable[[Any, int], int],
        parse: Callable[[ChatResult], Any],
        decoding: Decoding,
        prefill: str = "",
    ):
        self.items, self.messages, self.seed, self.parse = items, messages, seed, parse
        self.decoding, self.prefill = decoding, prefill
        self.answers: list[Answer | None] = [None] * len(items)
        self.todo = list(range(len(items)))
        self.attempt = 0

    def next_batch(self) -> list[ChatRequest]:
        """The requests of the next attempt; empty when every item is usable or out of attempts."""
        if self.attempt >= self.decoding.max_attempts:
            return []
        return [
            build_request(self.decoding, self.messages(item), self.seed(item, self.attempt), self.attempt, self.prefill)
            for item in (self.items[i] for i in self.todo)
        ]

    def take(self, results: list[ChatResult]) -> None:
        retry = []
        for i, result in zip(self.todo, results, strict=True):
            value = self.parse(result) if result.ok else None
            self.answers[i] = Answer(value, result, self.attempt + 1)
            if value is None:
                retry.append(i)
        self.todo = retry
        self.attempt += 1
