"""OpenAI-compatible backend: OpenAI, vLLM, Ollama, llama.cpp server, TGI, transformers serve.

The ``openai`` client does the retrying (exponential backoff, honours
``Retry-After``/``retry-after-ms``); we set ``max_retries`` and the timeout
explicitly because its defaults (2 retries, 600 s) suit neither a paid batch job
nor a flaky self-hosted server. Concurrency is bounded by a semaphore. A client
is bound to the event loop it was created on: ``generate`` (a batch, blocking)
makes one per call; ``agenerate`` keeps one per running loop, so the tree
builder's per-tree pipeline shares one connection pool and one limit. HTTP
attempts are counted with an httpx hook, so the retries the client made on our
behalf show up in the run log.

Identity: the cache key holds the endpoint, the model name and what the server
says it serves under that name (``GET /models``: the model's ``root`` path on
vLLM, its owner on OpenAI), so a server restarted with other weights under the
same name does not replay old answers.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
from contextvars import ContextVar

import aiohttp
import httpx
import openai

from aloe.errors import AloeError
from aloe.llm.base import ChatRequest, ChatResult
from aloe.params import OpenAIBackendParams

log = logging.getLogger(__name__)

# Errors that mean the configuration is wrong: retrying other requests cannot help.
FATAL = (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError)
# Fields of a /models entry that name what is served; vLLM puts the request time in "created".
IDENTITY_FIELDS = ("id", "root", "parent", "owned_by", "max_model_len")
# HTTP attempts of one agenerate call, counted by the httpx hook in the tasks that call sends.
CALL_ATTEMPTS: ContextVar[list[int] | None] = ContextVar("call_attempts", default=None)


class OpenAIBackend:
    def __init__(self, cfg: OpenAIBackendParams, name: str = "openai"):
        self.cfg = cfg
        self.name = name
        self.chunk_size = cfg.concurrency * 4
        self.endpoint = cfg.base_url or "api.openai.com"
        self.http_attempts = 0
        self.continues_prefill = cfg.continue_prefill
        self.api_key = os.environ.get(cfg.api_key_env)
        if not self.api_key:
            raise AloeError(
                f"llm.backends.{name}: environment variable {cfg.api_key_env} is not set "
                f"(it must hold the API key for {self.endpoint}; "
                "local servers such as vLLM accept any non-empty value)"
            )
        self._model_id: str | None = None
        self.served_root: str | None = None  # what the server lists as the model's root (vLLM: its weights)
        self._async: tuple[asyncio.AbstractEventLoop, openai.AsyncOpenAI, asyncio.Semaphore] | None = None

    @property
    def model_id(self) -> str:
        """Endpoint, model name and a digest of what the server lists under that name."""
        if self._model_id is None:
            prefill = ":continues-prefill" if self.continues_prefill else ""  # the judge is asked otherwise
            self._model_id = f"openai:{self.endpoint}:{self.cfg.model}:{self._served_identity()}{prefill}"
        return self._model_id

    def _served_identity(self) -> str:
        client = openai.OpenAI(
            api_key=self.api_key,
            base_url=self.cfg.base_url,
            max_retries=self.cfg.max_retries,
            timeout=httpx.Timeout(self.cfg.timeout_s, connect=min(10.0, self.cfg.timeout_s)),
        )
        try:
            entries = [m.model_dump() for m in client.models.list()]
        except openai.APIConnectionError as e:
            raise AloeError(
                f"llm.backends.{self.name}: cannot reach {self.endpoint} after "
                f"{self.cfg.max_retries} retries ({e.__cause__ or e})"
            ) from None
        except openai.AuthenticationError as e:
            raise AloeError(f"llm.backends.{self.name}: {self.endpoint} refused the key: {e}") from None
        except (openai.APIStatusError, openai.APIResponseValidationError, ValueError):
            log.warning(
                "llm.backends.%s: %s does not list its models (GET /models); the cache key holds only the "
                "model name, so a server restarted with other weights under %r would replay old answers",
                self.name,
                self.endpoint,
                self.cfg.model,
            )
            return "unlisted"
        finally:
            client.close()
        entry = next((e for e in entries if e.get("id") == self.cfg.model), None)
        if entry is None:
            listed = ", ".join(sorted(str(e.get("id")) for e in entries)[:10])
            log.warning(
                "llm.backends.%s: %s does not list %r (it lists: %s)",
                self.name,
                self.endpoint,
                self.cfg.model,
                listed or "nothing",
            )
            return "unlisted"
        served = {k: entry[k] for k in IDENTITY_FIELDS if entry.get(k) is not None}
        self.served_root = served.get("root")
        return hashlib.sha256(json.dumps(served, sort_keys=True).encode()).hexdigest()[:12]

    def generate(self, requests: list[ChatRequest]) -> list[ChatResult]:
        return asyncio.run(self._generate_once(requests)) if requests else []

    async def _generate_once(self, requests: list[ChatRequest]) -> list[ChatResult]:
        try:
            return (await self.agenerate(requests))[0]
        finally:
            await self.aclose()

    async def agenerate(self, requests: list[ChatRequest]) -> tuple[list[ChatResult], int]:
        """The requests, sent concurrently, and the HTTP attempts they took (the client's
        retries included). Callers that keep one event loop (the tree builder's per-tree
        pipeline) share one client and one concurrency limit across their calls."""
        client, gate = self._session()
        attempts = [0]
        token = CALL_ATTEMPTS.set(attempts)  # the tasks below inherit it; the httpx hook counts into it
        try:
            return list(await asyncio.gather(*(self._one(client, gate, r) for r in requests))), attempts[0]
        except FATAL as e:
            raise AloeError(
                f"llm.backends.{self.name}: {self.endpoint} refused the request for {self.cfg.model}: {e}"
            ) from None
        except openai.APIConnectionError as e:
            raise AloeError(
                f"llm.backends.{self.name}: cannot reach {self.endpoint} "
                f"after {self.cfg.max_retries} retries ({e.__cause__ or e})"
            ) from None
        finally:
            CALL_ATTEMPTS.reset(token)

    def _session(self) -> tuple[openai.AsyncOpenAI, asyncio.Semaphore]:
        """The client and concurrency gate of the running event loop (both are bound to it)."""
        loop = asyncio.get_running_loop()
        if self._async is None or self._async[0] is not loop:

            async def count_attempt(_request: httpx.Request) -> None:
                self.http_attempts += 1
                if (counter := CALL_ATTEMPTS.get()) is not None:
                    counter[0] += 1

            timeout = httpx.Timeout(self.cfg.timeout_s, connect=min(10.0, self.cfg.timeout_s))
            limits = httpx.Limits(max_connections=self.cfg.concurrency, max_keepalive_connections=self.cfg.concurrency)
            # aiohttp underneath: at many concurrent requests httpx's pool spends more CPU than
            # the requests do (bench/trees_throughput.py)
            http = openai.DefaultAioHttpClient(timeout=timeout, limits=limits, event_hooks={"request": [count_attempt]})
            client = openai.AsyncOpenAI(
                api_key=self.api_key,
                base_url=self.cfg.base_url,
                timeout=timeout,
                max_retries=self.cfg.max_retries,
                http_client=http,
            )
            self._async = (loop, client, asyncio.Semaphore(self.cfg.concurrency))
        return self._async[1], self._async[2]

    async def aclose(self) -> None:
        if self._async is not None:
            await self._async[1].close()
            self._async = None

    async def _one(self, client: openai.AsyncOpenAI, gate: asyncio.Semaphore, req: ChatRequest) -> ChatResult:
        extra = {"logprobs": True, "top_logprobs": req.top_logprobs} if req.top_logprobs else {}
        if self.continues_prefill and req.messages[-1][0] == "assistant":
            # vLLM's names (also what `aloe serve` honours): continue the message, open no new turn
            extra["extra_body"] = {"continue_final_message": True, "add_generation_prompt": False}
        # A 200 with a body that does not parse is not retried by the client; retry it here.
        for attempt in range(self.cfg.max_retries + 1):
            async with gate:
                try:
                    resp = await client.chat.completions.create(
                        model=self.cfg.model,
                        messages=req.message_dicts(),
                        max_tokens=req.max_tokens,
                        temperature=req.temperature,
                        top_p=req.top_p,
                        seed=req.seed,
                        **extra,
                    )
                    return to_result(resp)
                except FATAL:
                    raise
                except (openai.APIStatusError, openai.APITimeoutError) as e:
                    if connection_lost(e):
                        raise
                    return ChatResult(text="", finish_reason="error", error=f"{type(e).__name__}: {e}"[:300])
                except openai.APIConnectionError:
                    raise
                except (openai.APIResponseValidationError, ValueError, KeyError, TypeError, IndexError) as e:
                    error = f"malformed response: {type(e).__name__}: {e}"[:300]
            await asyncio.sleep(min(2.0, 0.1 * 2**attempt))
        return ChatResult(text="", finish_reason="error", error=error)

    def close(self) -> None:
        pass


def connection_lost(error: Exception) -> bool:
    """The endpoint refused or dropped the connection, which waiting will not mend (as httpx
    reported it). The aiohttp transport reports every connection error as a connect timeout
    (its exception map picks the broader class); a real timeout stays a per-request error."""
    cause, seen = error.__cause__ or error.__context__, set()
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, aiohttp.ClientConnectionError) and not isinstance(cause, asyncio.TimeoutError):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def to_result(resp) -> ChatResult:
    choice = resp.choices[0]
    if choice.message is None or choice.message.content is None:
        raise ValueError("response has no message content")
    logprobs = None
    if choice.logprobs and choice.logprobs.content:
        logprobs = [
            {"token": p.token, "top": [[t.token, t.logprob] for t in (p.top_logprobs or [])]}
            for p in choice.logprobs.content
        ]
    usage = resp.usage
    return ChatResult(
        text=choice.message.content.strip(),
        finish_reason=choice.finish_reason or "stop",
        prompt_tokens=usage.prompt_tokens if usage else 0,
        completion_tokens=usage.completion_tokens if usage else 0,
        logprobs=logprobs,
    )
