"""Content-addressed response cache shared by every workspace on the machine.

One SQLite file under ``$ALOE_CACHE_DIR`` (default ``~/.cache/aloe``): the key is
the hash of the model identity and the full request, seed included. It lives
outside the repo on purpose: DVC wipes a stage's outputs before rerunning it and
``dvc exp`` runs in temporary workspaces, so resumable state cannot live in
outs. A killed stage loses at most the chunk in flight; a rerun, a sweep that
shares upstream calls, or a colleague's identical run pays for nothing twice.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from aloe.llm.base import ChatResult


def cache_dir() -> Path:
    return Path(os.environ.get("ALOE_CACHE_DIR") or Path.home() / ".cache" / "aloe")


class ResponseCache:
    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path else cache_dir() / "responses.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=120, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, model TEXT, result TEXT)"
        )

    def get_many(self, keys: list[str]) -> dict[str, ChatResult]:
        found: dict[str, ChatResult] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT key, result FROM responses WHERE key IN ({marks})", chunk)
            found.update((k, ChatResult.from_json(json.loads(v))) for k, v in rows)
        return found

    def put_many(self, model_id: str, items: list[tuple[str, ChatResult]]) -> None:
        """Store successful results in one transaction: all of a chunk or none of it."""
        rows = [(k, model_id, json.dumps(r.to_json())) for k, r in items if r.ok]
        with self._db:  # BEGIN ... COMMIT
            self._db.executemany("INSERT OR REPLACE INTO responses VALUES (?, ?, ?)", rows)

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        self._db.close()
