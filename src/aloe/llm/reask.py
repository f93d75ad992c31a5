"""Re-ask a role until its output is usable, one batched call per attempt.

Tree building and the ALOE benchmark both need this: small models and busy APIs
sometimes return text that does not parse, and asking again with a new seed
usually fixes it. Items still unusable are retried together, so every attempt is
a single batched call, and the caller decides what a final failure means.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from aloe.llm.base import ChatRequest, ChatResult
from aloe.llm.client import LLM


@dataclass
class Answer:
    value: Any  # what ``parse`` kept, or None if every attempt was unusable
    result: ChatResult  # the last result received
    attempts: int


def ask_until_usable(llm: LLM, role: str, items: list, request: Callable[[Any, int], ChatRequest],
                     parse: Callable[[ChatResult], Any], max_attempts: int) -> list[Answer]:
    """One Answer per item. ``request(item, attempt)`` must vary the seed with ``attempt``;
    ``parse(result)`` returns the value to keep, or None to ask again."""
    answers: list[Answer | None] = [None] * len(items)
    todo = list(range(len(items)))
    for attempt in range(max_attempts):
        if not todo:
            break
        results = llm.chat(role, [request(items[i], attempt) for i in todo])
        retry = []
        for i, result in zip(todo, results):
            value = parse(result) if result.ok else None
            answers[i] = Answer(value, result, attempt + 1)
            if value is None:
                retry.append(i)
        todo = retry
    return answers  # type: ignore[return-value]
