"""OpenAI-compatible backend: OpenAI, vLLM, Ollama, llama.cpp server, TGI.

The ``openai`` client does the retrying (exponential backoff, honours
``Retry-After``/``retry-after-ms``); we set ``max_retries`` and the timeout
explicitly because its defaults (2 retries, 600 s) suit neither a paid batch job
nor a flaky self-hosted server. Concurrency is bounded by a semaphore. One
``AsyncOpenAI`` per ``generate`` call, because a client is bound to the event
loop it was created on. HTTP attempts are counted with an httpx hook, so the
retries the client made on our behalf show up in the metrics.
"""

from __future__ import annotations

import asyncio
import os

import httpx
import openai

from aloe.errors import AloeError
from aloe.llm.base import ChatRequest, ChatResult
from aloe.params import OpenAIBackendParams

# Errors that mean the configuration is wrong: retrying other requests cannot help.
FATAL = (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError)


class OpenAIBackend:
    def __init__(self, cfg: OpenAIBackendParams, name: str = "openai"):
        self.cfg = cfg
        self.name = name
        self.chunk_size = cfg.concurrency * 4
        self.model_id = f"openai:{cfg.base_url or 'api.openai.com'}:{cfg.model}"
        self.http_attempts = 0
        self.api_key = os.environ.get(cfg.api_key_env)
        if not self.api_key:
            raise AloeError(
                f"llm.backends.{name}: environment variable {cfg.api_key_env} is not set "
                f"(it must hold the API key for {cfg.base_url or 'api.openai.com'}; "
                "local servers such as vLLM accept any non-empty value)"
            )

    def generate(self, requests: list[ChatRequest]) -> list[ChatResult]:
        return asyncio.run(self._generate_all(requests)) if requests else []

    async def _generate_all(self, requests: list[ChatRequest]) -> list[ChatResult]:
        async def count_attempt(_request: httpx.Request) -> None:
            self.http_attempts += 1

        timeout = httpx.Timeout(self.cfg.timeout_s, connect=min(10.0, self.cfg.timeout_s))
        limits = httpx.Limits(max_connections=self.cfg.concurrency, max_keepalive_connections=self.cfg.concurrency)
        http = httpx.AsyncClient(timeout=timeout, limits=limits, event_hooks={"request": [count_attempt]})
        client = openai.AsyncOpenAI(api_key=self.api_key, base_url=self.cfg.base_url, timeout=timeout,
                                    max_retries=self.cfg.max_retries, http_client=http)
        gate = asyncio.Semaphore(self.cfg.concurrency)
        try:
            async with client:
                return list(await asyncio.gather(*(self._one(client, gate, r) for r in requests)))
        except FATAL as e:
            raise AloeError(f"llm.backends.{self.name}: {self.model_id} refused the request: {e}") from None
        except openai.APIConnectionError as e:
            raise AloeError(
                f"llm.backends.{self.name}: cannot reach {self.cfg.base_url or 'api.openai.com'} "
                f"after {self.cfg.max_retries} retries ({e.__cause__ or e})"
            ) from None

    async def _one(self, client: openai.AsyncOpenAI, gate: asyncio.Semaphore, req: ChatRequest) -> ChatResult:
        extra = {"logprobs": True, "top_logprobs": req.top_logprobs} if req.top_logprobs else {}
        # A 200 with a body that does not parse is not retried by the client; retry it here.
        for attempt in range(self.cfg.max_retries + 1):
            async with gate:
                try:
                    resp = await client.chat.completions.create(
                        model=self.cfg.model, messages=req.message_dicts(), max_tokens=req.max_tokens,
                        temperature=req.temperature, top_p=req.top_p, seed=req.seed, **extra)
                    return _to_result(resp)
                except FATAL:
                    raise
                except (openai.APIStatusError, openai.APITimeoutError) as e:
                    return ChatResult(text="", finish_reason="error", error=f"{type(e).__name__}: {e}"[:300])
                except openai.APIConnectionError:
                    raise
                except (openai.APIResponseValidationError, ValueError, KeyError, TypeError, IndexError) as e:
                    error = f"malformed response: {type(e).__name__}: {e}"[:300]
            await asyncio.sleep(min(2.0, 0.1 * 2**attempt))
        return ChatResult(text="", finish_reason="error", error=error)

    def close(self) -> None:
        pass


def _to_result(resp) -> ChatResult:
    choice = resp.choices[0]
    if choice.message is None or choice.message.content is None:
        raise ValueError("response has no message content")
    logprobs = None
    if choice.logprobs and choice.logprobs.content:
        logprobs = {t.token: t.logprob for t in choice.logprobs.content[0].top_logprobs}
    usage = resp.usage
    return ChatResult(
        text=choice.message.content.strip(),
        finish_reason=choice.finish_reason or "stop",
        prompt_tokens=usage.prompt_tokens if usage else 0,
        completion_tokens=usage.completion_tokens if usage else 0,
        first_token_logprobs=logprobs,
    )
