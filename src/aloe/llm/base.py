"""The batch chat interface every backend speaks."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class ChatRequest:
    """One chat completion. Everything that can change the answer is a field,
    because the response cache is keyed on all of them."""

    messages: tuple[tuple[str, str], ...]  # ((role, content), ...), hashable and ordered
    max_tokens: int = 256
    temperature: float = 0.7
    top_p: float = 1.0
    seed: int = 0
    top_logprobs: int = 0  # >0: return the k likeliest tokens at every generated position

    @classmethod
    def from_messages(cls, messages: list[dict], **kwargs) -> ChatRequest:
        return cls(messages=tuple((m["role"], m["content"]) for m in messages), **kwargs)

    def message_dicts(self) -> list[dict]:
        return [{"role": r, "content": c} for r, c in self.messages]

    def cache_key(self, model_id: str) -> str:
        payload = json.dumps({"model": model_id, **asdict(self)}, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass
class ChatResult:
    """A completion. ``logprobs`` (when asked for and the backend gives them) has one
    entry per generated token, in order: ``{"token": text of the generated token,
    "top": [[token text, log-probability], ...]}`` with the k likeliest tokens at
    that position, as the OpenAI API reports them. Several entries of ``top`` may
    read the same once stripped (" 4" and "4"): readers sum them."""

    text: str
    finish_reason: str = "stop"  # stop | length | error
    prompt_tokens: int = 0
    completion_tokens: int = 0
    logprobs: list[dict] | None = None
    error: str | None = None
    cached: bool = field(default=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict:
        data = asdict(self)
        data.pop("cached")
        return data

    @classmethod
    def from_json(cls, data: dict) -> ChatResult:
        return cls(**data, cached=True)


class Backend(Protocol):
    """A model that answers a batch of chat requests, in order."""

    name: str  # the params name of the backend (llm.backends.<name>), for messages
    model_id: str  # identity of weights, decoding settings and library versions: part of every cache key
    chunk_size: int  # how many requests to hand over at once (one cache commit per chunk)
    continues_prefill: bool  # a trailing assistant message is continued, not answered

    def generate(self, requests: list[ChatRequest]) -> list[ChatResult]: ...

    def close(self) -> None: ...
