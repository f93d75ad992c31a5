"""A small OpenAI-compatible chat server on loopback.

Two uses: ``aloe serve --model models/base`` self-serves a local checkpoint to
any OpenAI client (requests that arrive together are micro-batched into one
``generate`` call), and the test suite and benchmarks start it with a
:class:`FaultPlan` to exercise the OpenAI backend against real HTTP: 429 with
Retry-After, 500, stalls past the client timeout, truncated and malformed bodies.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from aloe.llm.base import ChatRequest, ChatResult

BATCHER = web.AppKey("batcher", asyncio.Task)
FAULTS = ("rate_limit", "server_error", "timeout", "truncated", "malformed")


@dataclass
class FaultPlan:
    """Each request draws at most one fault, with the given probabilities; a kind drawn
    ``limits[kind]`` times is drawn no more (a stall costs the client its whole timeout, so a
    test can have a few of them without paying for one in every fiftieth call)."""

    rates: dict[str, float] = field(default_factory=dict)
    limits: dict[str, int] = field(default_factory=dict)
    seed: int = 0
    retry_after_s: float = 0.05
    stall_s: float = 30.0
    latency_s: float = 0.0  # added to every successful response
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = (set(self.rates) | set(self.limits)) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}; known: {FAULTS}")
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def draw(self) -> str | None:
        with self._lock:
            u = self._rng.random()
            for name in FAULTS:
                u -= self.rates.get(name, 0.0)
                if u < 0:
                    if self.counts.get(name, 0) >= self.limits.get(name, math.inf):
                        break
                    self.counts[name] = self.counts.get(name, 0) + 1
                    return name
            self.counts["ok"] = self.counts.get("ok", 0) + 1
            return None


Generate = Callable[[list[ChatRequest]], list[ChatResult]]


def echo_generate(requests: list[ChatRequest]) -> list[ChatResult]:
    """Model-free responder for client-side tests and benchmarks: repeats the last message."""
    return [
        ChatResult(
            text=f"echo: {r.messages[-1][1]}"[: 4 * r.max_tokens],
            prompt_tokens=1,
            completion_tokens=1,
            logprobs=[{"token": "echo", "top": [["echo", 0.0]]}] if r.top_logprobs else None,
        )
        for r in requests
    ]


class ChatServer:
    def __init__(
        self,
        generate: Generate = echo_generate,
        model_name: str = "aloe-local",
        faults: FaultPlan | None = None,
        max_batch: int = 32,
        batch_window_s: float = 0.01,
        logprobs: bool = True,
        root: str | None = None,
        latency: Callable[[ChatRequest], float] | None = None,
    ):
        self.generate = generate
        self.model_name = model_name
        self.faults = faults or FaultPlan()
        self.max_batch = max_batch
        self.batch_window_s = batch_window_s
        self.logprobs = logprobs  # False: answer like a server that never returns log-probabilities
        self.root = root  # what /v1/models says is served under model_name (vLLM: the weights' path)
        self.latency = latency  # seconds to hold each answer, per request (benchmarks, tests), on top of faults
        self.requests_seen = 0
        self.api_keys_seen: set[str] = set()  # bearer tokens received (tests check a key was really sent)
        self.prefills_continued = 0  # requests that asked to continue their last message (vLLM's flag)
        self.abandoned = 0  # requests dropped before generation because their client had gone
        self._queue: asyncio.Queue | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        app.on_startup.append(self._start_batcher)
        app.on_cleanup.append(self._stop_batcher)
        return app

    async def _start_batcher(self, app: web.Application) -> None:
        self._queue = asyncio.Queue()
        app[BATCHER] = asyncio.create_task(self._batcher())

    async def _stop_batcher(self, app: web.Application) -> None:
        app[BATCHER].cancel()

    async def _batcher(self) -> None:
        """Gather requests that arrive within one window into one generate call. A request
        whose client has gone (it timed out and will retry) is dropped unanswered, as vLLM
        aborts it: generating it anyway piles up work nobody reads, until every request
        waits longer than its client's timeout."""
        loop = asyncio.get_running_loop()
        while True:
            items = [await self._queue.get()]
            deadline = loop.time() + self.batch_window_s
            while len(items) < self.max_batch and (left := deadline - loop.time()) > 0:
                try:
                    items.append(await asyncio.wait_for(self._queue.get(), left))
                except asyncio.TimeoutError:
                    break
            live = [(req, fut) for req, fut in items if not fut.done()]
            self.abandoned += len(items) - len(live)
            if not live:
                continue
            items = live
            try:
                results = await loop.run_in_executor(None, self.generate, [req for req, _ in items])
                for (_, fut), res in zip(items, results, strict=True):
                    fut.done() or fut.set_result(res)
            except Exception as e:  # surface model errors as 500s rather than hanging clients
                for _, fut in items:
                    fut.done() or fut.set_exception(e)

    async def _models(self, request: web.Request) -> web.Response:
        entry = {"id": self.model_name, "object": "model", "created": int(time.time()), "owned_by": "aloe"}
        if self.root:
            entry["root"] = self.root
        return web.json_response({"object": "list", "data": [entry]})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        self.requests_seen += 1
        self.api_keys_seen.add(request.headers.get("Authorization", "").removeprefix("Bearer "))
        fault = self.faults.draw()
        if fault == "rate_limit":
            ms = int(self.faults.retry_after_s * 1000)
            headers = {"Retry-After": str(max(1, round(self.faults.retry_after_s))), "retry-after-ms": str(ms)}
            return web.json_response(
                {"error": {"message": "rate limited", "type": "rate_limit"}}, status=429, headers=headers
            )
        if fault == "server_error":
            return web.json_response({"error": {"message": "internal error"}}, status=500)
        if fault == "timeout":
            await asyncio.sleep(self.faults.stall_s)
        body = await request.json()
        self.prefills_continued += bool(body.get("continue_final_message"))
        req = ChatRequest.from_messages(
            body["messages"],
            max_tokens=int(body.get("max_tokens") or body.get("max_completion_tokens") or 256),
            temperature=float(body.get("temperature", 1.0)),
            top_p=float(body.get("top_p", 1.0)),
            seed=int(body.get("seed") or 0),
            top_logprobs=int(body.get("top_logprobs") or 0) if body.get("logprobs") else 0,
        )
        fut = asyncio.get_running_loop().create_future()
        await self._queue.put((req, fut))
        try:
            result: ChatResult = await fut
        except Exception as e:
            return web.json_response({"error": {"message": str(e)}}, status=500)
        delay = self.faults.latency_s + (self.latency(req) if self.latency else 0.0)
        if delay:
            await asyncio.sleep(delay)
        if not (self.logprobs and body.get("logprobs")):
            result = dataclasses.replace(result, logprobs=None)
        payload = json.dumps(self._completion(result, body.get("model", self.model_name)))
        if fault == "truncated":
            return web.Response(text=payload[: len(payload) // 2], content_type="application/json")
        if fault == "malformed":
            return web.Response(text='{"id": "x", "choices": [{"message": nul', content_type="application/json")
        return web.Response(text=payload, content_type="application/json")

    @staticmethod
    def _completion(result: ChatResult, model: str) -> dict:
        logprobs = None
        if result.logprobs:  # the OpenAI shape: every generated token with its top alternatives
            logprobs = {
                "content": [
                    {
                        "token": p["token"],
                        "bytes": None,
                        "logprob": next(
                            (lp for t, lp in p["top"] if t == p["token"]), p["top"][0][1] if p["top"] else 0.0
                        ),
                        "top_logprobs": [{"token": t, "logprob": lp, "bytes": None} for t, lp in p["top"]],
                    }
                    for p in result.logprobs
                ]
            }
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": result.text},
                    "finish_reason": result.finish_reason,
                    "logprobs": logprobs,
                }
            ],
            "usage": {
                "prompt_tokens": result.prompt_tokens,
                "completion_tokens": result.completion_tokens,
                "total_tokens": result.prompt_tokens + result.completion_tokens,
            },
        }


class BackgroundServer:
    """Run a :class:`ChatServer` on 127.0.0.1 in a daemon thread (tests, benchmarks)."""

    def __init__(self, server: ChatServer, port: int = 0):
        self.server = server
        self.port = port
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> BackgroundServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)
        return self

    async def _start(self) -> None:
        # a client that disconnects cancels its handler, so its queued request is dropped
        self._runner = web.AppRunner(self.server.app(), access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
