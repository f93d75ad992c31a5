"""Ask a role: build its request from its decoding settings, send it, re-ask until usable.

Tree building, the judge check, the ALOE benchmark and the persona check all ask
roles this way; small models and busy APIs sometimes return text that does not
parse. A re-ask must be able to change the answer: it carries a new seed, and
when the first ask was greedy (temperature 0, which ignores the seed) it samples
at ``retry_temperature``. Items still unusable are retried together, so every
attempt is a single batched call, and the caller decides what a final failure
means. Because the attempt is part of every request's seed, a resumed run
replays each attempt from the response cache exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aloe.llm.base import ChatRequest, ChatResult
from aloe.llm.client import LLM
from aloe.params import Decoding
from aloe.seeds import derive_seed


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


def build_request(
    decoding: Decoding, messages: list[dict], seed_key: tuple, attempt: int, prefill: str = ""
) -> ChatRequest:
    """The request of one attempt of a role. Its seed is ``derive_seed(*seed_key, attempt)``,
    so each caller keeps its own seed key. ``prefill`` starts the assistant's answer (a
    trailing assistant message the model continues); empty, the messages go as they are."""
    if prefill:
        messages = [*messages, {"role": "assistant", "content": prefill}]
    return ChatRequest.from_messages(
        messages,
        max_tokens=decoding.max_tokens,
        top_logprobs=decoding.top_logprobs,
        seed=derive_seed(*seed_key, attempt),
        **sampling(decoding.temperature, attempt, decoding.retry_temperature),
    )


class Attempts:
    """The bookkeeping of re-asking, apart from how a batch is sent: the builder's
    per-tree pipeline awaits each batch, everything else calls :func:`ask_until_usable`.

    ``messages(item)`` and ``seed_key(item)`` say what each item asks (see
    :func:`build_request`); ``parse(result)`` returns the value to keep, or None to ask again."""

    def __init__(
        self,
        items: list,
        messages: Callable[[Any], list[dict]],
        seed_key: Callable[[Any], tuple],
        parse: Callable[[ChatResult], Any],
        decoding: Decoding,
        prefill: str = "",
    ):
        self.items, self.messages, self.seed_key, self.parse = items, messages, seed_key, parse
        self.decoding, self.prefill = decoding, prefill
        self.answers: list[Answer | None] = [None] * len(items)
        self.todo = list(range(len(items)))
        self.attempt = 0

    def next_batch(self) -> list[ChatRequest]:
        """The requests of the next attempt; empty when every item is usable or out of attempts."""
        if self.attempt >= self.decoding.max_attempts:
            return []
        return [
            build_request(self.decoding, self.messages(item), self.seed_key(item), self.attempt, self.prefill)
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


def ask_until_usable(
    llm: LLM,
    role: str,
    items: list,
    messages: Callable[[Any], list[dict]],
    seed_key: Callable[[Any], tuple],
    parse: Callable[[ChatResult], Any],
    decoding: Decoding,
    prefill: str = "",
) -> list[Answer]:
    """One Answer per item (see :class:`Attempts`), every attempt one batched call to ``role``."""
    attempts = Attempts(items, messages, seed_key, parse, decoding, prefill)
    while batch := attempts.next_batch():
        attempts.take(llm.chat(role, batch))
    return attempts.answers  # type: ignore[return-value]
