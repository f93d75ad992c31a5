"""The one object stages talk to: ``llm.chat(role, requests)``.

Resolves a role to its backend (params ``llm.roles``), serves what it can from
the response cache, sends the rest to the backend chunk by chunk and commits
each chunk to the cache before the next (so a kill loses one chunk at most), and
keeps per-role accounting that stages write into their metrics.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import asdict, dataclass

from tqdm import tqdm

from aloe.llm.base import Backend, ChatRequest, ChatResult
from aloe.llm.cache import ResponseCache
from aloe.params import LLMParams, OpenAIBackendParams


@dataclass
class RoleStats:
    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    retries: int = 0
    errors: int = 0
    seconds: float = 0.0


def make_backend(name: str, cfg) -> Backend:
    if isinstance(cfg, OpenAIBackendParams):
        from aloe.llm.remote import OpenAIBackend

        return OpenAIBackend(cfg, name)
    from aloe.llm.local import TransformersBackend

    return TransformersBackend(cfg, name)


class LLM:
    def __init__(self, params: LLMParams, roles: tuple[str, ...] | None = None,
                 cache: ResponseCache | None = None, progress: bool = True):
        """Build the backends for ``roles`` now, so a missing key or model fails
        before any work; several roles naming one backend share one instance."""
        self.params = params
        self.cache = cache or ResponseCache()
        self.progress = progress
        self.stats: dict[str, RoleStats] = defaultdict(RoleStats)
        self._backends: dict[str, Backend] = {}
        self._extra: dict[str, Backend] = {}
        for role in roles or tuple(params.roles):
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
        name = self.params.roles[role]
        if name not in self._backends:
            self._backends[name] = make_backend(name, self.params.backends[name])
        return self._backends[name]

    def model_id(self, role: str) -> str:
        return self.backend(role).model_id

    def chat(self, role: str, requests: list[ChatRequest]) -> list[ChatResult]:
        backend = self.backend(role)
        stats = self.stats[role]
        keys = [r.cache_key(backend.model_id) for r in requests]
        found = self.cache.get_many(list(dict.fromkeys(keys)))
        results: list[ChatResult | None] = [found.get(k) for k in keys]
        missing = [i for i, r in enumerate(results) if r is None]
        stats.calls += len(requests)
        stats.cache_hits += len(requests) - len(missing)
        bar = tqdm(total=len(missing), desc=f"{role} ({backend.model_id[:40]})", unit="call",
                   disable=not self.progress or not missing, leave=False)
        for start in range(0, len(missing), backend.chunk_size):
            idx = missing[start : start + backend.chunk_size]
            attempts_before = getattr(backend, "http_attempts", 0)
            t0 = time.perf_counter()
            fresh = backend.generate([requests[i] for i in idx])
            stats.seconds += time.perf_counter() - t0
            if hasattr(backend, "http_attempts"):
                stats.retries += backend.http_attempts - attempts_before - len(idx)
            self.cache.put_many(backend.model_id, [(keys[i], r) for i, r in zip(idx, fresh)])
            for i, r in zip(idx, fresh):
                results[i] = r
                stats.errors += not r.ok
                stats.prompt_tokens += r.prompt_tokens
                stats.completion_tokens += r.completion_tokens
            bar.update(len(idx))
        bar.close()
        return results  # type: ignore[return-value]

    def report(self) -> dict[str, dict]:
        """Per-role accounting for a stage's metrics file."""
        return {role: {k: round(v, 2) if isinstance(v, float) else v for k, v in asdict(s).items()}
                for role, s in sorted(self.stats.items())}

    def close(self) -> None:
        for b in [*self._backends.values(), *self._extra.values()]:
            b.close()
        self.cache.close()
