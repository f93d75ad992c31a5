"""Content-addressed response cache shared by every workspace on the machine.

The key is the hash of the backend's identity (weights or served model, decoding
settings, library versions) and the full request, seed included; the value is
the result as JSON. A killed stage loses at most the chunk in flight; a rerun, a
sweep that shares upstream calls, or a colleague's identical run pays for
nothing twice. Errors are never stored, so a rerun asks again.
"""

from __future__ import annotations

import json
import os

from aloe.llm.base import ChatResult
from aloe.store import KeyValueStore, cache_dir


class ResponseCache:
    def __init__(self, path: str | os.PathLike | None = None):
        self._store = KeyValueStore(path or cache_dir() / "responses.sqlite", "chat_results")
        self.path = self._store.path

    def get_many(self, keys: list[str]) -> dict[str, ChatResult]:
        return {k: ChatResult.from_json(json.loads(v)) for k, v in self._store.get_many(keys).items()}

    def put_many(self, items: list[tuple[str, ChatResult]]) -> None:
        """Store the successful results of one chunk in one transaction."""
        self._store.put_many((k, json.dumps(r.to_json())) for k, r in items if r.ok)

    def __len__(self) -> int:
        return len(self._store)

    def close(self) -> None:
        self._store.close()
