"""The one object stages talk to: ``llm.chat(role, requests)``.

Resolves a role to its backend (params ``llm.roles``), serves what it can from
the response cache, sends the rest to the backend chunk by chunk and commits
each chunk to the cache before the next (so a kill loses one chunk at most),
and keeps per-role accounting in two parts: the workload (calls and tokens of
every call, cached or not: what the inputs determine, for the metrics files)
and the run (cache hits, retries, errors, seconds: what this machine and this
cache state did, for the run log).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass

from tqdm import tqdm

from aloe.llm.base import Backend, ChatRequest, ChatResult
from aloe.llm.cache import ResponseCache
from aloe.params import LLMParams, OpenAIBackendParams

log = logging.getLogger(__name__)


@dataclass
class RoleStats:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cache_hits: int = 0
    retries: int = 0
    errors: int = 0
    seconds: float = 0.0

    def workload(self) -> dict:
        return {"calls": self.calls, "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens}

    def run(self) -> dict:
        return {
            "cache_hits": self.cache_hits,
            "retries": self.retries,
            "errors": self.errors,
            "seconds": round(self.seconds, 2),
        }


def make_backend(name: str, cfg) -> Backend:
    if isinstance(cfg, OpenAIBackendParams):
        from aloe.llm.remote import OpenAIBackend

        return OpenAIBackend(cfg, name)
    from aloe.llm.local import TransformersBackend

    return TransformersBackend(cfg, name)


class LLM:
    def __init__(
        self,
        params: LLMParams,
        roles: tuple[str, ...] | None = None,
        cache: ResponseCache | None = None,
        progress: bool = True,
    ):
        """Build the backends for ``roles`` now, so a missing key or model fails
        before any work; several roles naming one backend share one instance."""
        self.params = params
        self.cache = cache if cache is not None else ResponseCache()  # an empty cache is falsy (__len__)
        self.progress = progress
        self.stats: dict[str, RoleStats] = defaultdict(RoleStats)
        self.without_logprobs: set[str] = set()  # backends that answered a logprobs request without them
        self._backends: dict[str, Backend] = {}
        self._extra: dict[str, Backend] = {}
        for role in tuple(params.roles) if roles is None else roles:
            self.backend(role)

    def add_role(self, role: str, backend: Backend) -> None:
        """Serve ``role`` with a backend built elsewhere (the model under evaluation).

        If a backend with the same model_id already serves a role, it is reused, so
        evaluating models/base does not load those weights a second time."""
        same = [b for b in self._backends.values() if b.model_id == backend.model_id]
        self._extra[role] = same[0] if same else backend

    def backend(self, role: str) -> Backend:
        if role in self._extra:
            return self._extra[role]
        name = self.params.backend_of(role)
        if name not in self._backends:
            self._backends[name] = make_backend(name, self.params.backends[name])
        return self._backends[name]

    def model_id(self, role: str) -> str:
        return self.backend(role).model_id

    def continues_prefill(self, role: str) -> bool:
        """Whether the role's backend continues a trailing assistant message (a prefill such
        as "Score:") rather than answering it with a new one."""
        return self.backend(role).continues_prefill

    def chat(self, role: str, requests: list[ChatRequest]) -> list[ChatResult]:
        backend = self.backend(role)
        keys, results, missing = self._from_cache(role, backend, requests)
        bar = tqdm(
            total=len(missing),
            desc=f"{role} ({backend.model_id[:40]})",
            unit="call",
            disable=not self.progress or not missing,
            leave=False,
        )
        for start in range(0, len(missing), backend.chunk_size):
            idx = missing[start : start + backend.chunk_size]
            attempts_before = getattr(backend, "http_attempts", None)
            t0 = time.perf_counter()
            fresh = backend.generate([requests[i] for i in idx])
            retries = 0 if attempts_before is None else backend.http_attempts - attempts_before - len(idx)
            self._store(role, keys, results, idx, fresh, t0, retries)
            bar.update(len(idx))
        bar.close()
        return self._account(role, backend, requests, results)

    def concurrent(self, role: str) -> bool:
        """Whether the role's backend takes requests one by one as they come (an endpoint),
        rather than in batches formed by the caller (a local model)."""
        return hasattr(self.backend(role), "agenerate")

    async def achat(self, role: str, requests: list[ChatRequest]) -> list[ChatResult]:
        """:meth:`chat` for a concurrent backend, inside a running event loop: the calls of
        many callers share the backend's connection pool and concurrency limit."""
        backend = self.backend(role)
        keys, results, missing = self._from_cache(role, backend, requests)
        for start in range(0, len(missing), backend.chunk_size):
            idx = missing[start : start + backend.chunk_size]
            t0 = time.perf_counter()
            fresh, attempts = await backend.agenerate([requests[i] for i in idx])
            self._store(role, keys, results, idx, fresh, t0, attempts - len(idx))
        return self._account(role, backend, requests, results)

    async def aclose(self) -> None:
        """Close the per-loop clients of concurrent backends before their event loop ends."""
        for b in {id(b): b for b in [*self._backends.values(), *self._extra.values()]}.values():
            if hasattr(b, "aclose"):
                await b.aclose()

    def _from_cache(self, role: str, backend: Backend, requests: list[ChatRequest]):
        keys = [r.cache_key(backend.model_id) for r in requests]
        found = self.cache.get_many(keys)
        results: list[ChatResult | None] = [found.get(k) for k in keys]
        missing = [i for i, r in enumerate(results) if r is None]
        self.stats[role].cache_hits += len(requests) - len(missing)
        return keys, results, missing

    def _store(self, role, keys, results, idx, fresh, t0: float, retries: int) -> None:
        """Commit one answered chunk to the cache (a kill loses at most the chunk in flight)."""
        stats = self.stats[role]
        stats.seconds += time.perf_counter() - t0  # under achat, overlapping waits add up
        stats.retries += retries
        self.cache.put_many([(keys[i], r) for i, r in zip(idx, fresh, strict=True)])
        for i, r in zip(idx, fresh, strict=True):
            results[i] = r

    def _account(self, role, backend, requests, results) -> list[ChatResult]:
        stats = self.stats[role]
        for req, res in zip(requests, results, strict=True):
            stats.calls += 1
            stats.errors += not res.ok
            stats.prompt_tokens += res.prompt_tokens
            stats.completion_tokens += res.completion_tokens
            if req.top_logprobs and res.ok and res.logprobs is None:
                self._warn_no_logprobs(role, backend)
        return results  # type: ignore[return-value]

    def _warn_no_logprobs(self, role: str, backend: Backend) -> None:
        if backend.name in self.without_logprobs:
            return
        self.without_logprobs.add(backend.name)
        log.warning(
            "llm.backends.%s (%s) returns no log-probabilities although role %r asks for them: verdicts "
            "and scores are read from the text alone (integer scores; a verdict without a probability, "
            "so judge orders that disagree are ties). Serve the judge with vLLM, llama.cpp or an API that "
            "returns logprobs to get graded verdicts and expected scores.",
            backend.name,
            backend.model_id[:60],
            role,
        )

    def report(self) -> dict[str, dict]:
        """Per-role workload for a stage's metrics file: calls and tokens, cached or not."""
        return {role: s.workload() for role, s in sorted(self.stats.items())}

    def run_report(self) -> dict[str, dict]:
        """Per-role run bookkeeping for the stage's run log (never a DVC metric). With per-tree
        pipelining ``seconds`` is the sum of every call's wait, overlapping ones included."""
        return {role: s.run() for role, s in sorted(self.stats.items())}

    def close(self) -> None:
        for b in [*self._backends.values(), *self._extra.values()]:
            b.close()
        self.cache.close()
