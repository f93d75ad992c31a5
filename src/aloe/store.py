"""The machine-wide cache directory and the one SQLite key-value store behind the
response cache and the embedding cache.

Both caches live outside the repo on purpose: DVC deletes a stage's outputs
before rerunning it and ``dvc exp`` runs in temporary workspaces, so state that
must survive a kill or be shared by a sweep cannot live in outs. Several
processes (``dvc queue start -j 2``) may read and write one store at once: WAL
lets readers run beside a writer, every write is one ``BEGIN IMMEDIATE``
transaction (all of a chunk or none of it), and a writer waits for another's
transaction instead of failing with "database is locked".
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

BUSY_TIMEOUT_S = 120
CHUNK = 500  # SQLite's host-parameter limit is 999 on old builds


def cache_dir() -> Path:
    """``$ALOE_CACHE_DIR``, default ``~/.cache/aloe``."""
    return Path(os.environ.get("ALOE_CACHE_DIR") or Path.home() / ".cache" / "aloe")


class KeyValueStore:
    """``key TEXT -> value`` (text or bytes) in one table of one SQLite file."""

    def __init__(self, path: str | os.PathLike, table: str):
        if not table.isidentifier():
            raise ValueError(f"table name {table!r} is not an identifier")
        self.path = Path(path)
        self.table = table
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a chunk is one transaction.
        self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        self._setup(f"CREATE TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY, value)")

    def _setup(self, create: str) -> None:
        """Switching a new file to WAL takes an exclusive lock and does not wait for a busy
        handler: when two processes open the same new store at once, the loser retries."""
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute(create)
                # No fsync per commit: a killed process still loses nothing committed (the OS
                # has the pages); only a power loss may drop the last commits, which a rerun
                # pays for again. Per-tree pipelining commits once per call, hundreds a second.
                self._db.execute("PRAGMA synchronous=NORMAL")
                return
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def get_many(self, keys: Iterable[str]) -> dict:
        keys = list(dict.fromkeys(keys))
        found = {}
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start : start + CHUNK]
            marks = ",".join("?" * len(chunk))
            found.update(self._db.execute(f"SELECT key, value FROM {self.table} WHERE key IN ({marks})", chunk))
        return found

    def put_many(self, items: Iterable[tuple[str, object]]) -> None:
        """Write every item in one transaction: a kill leaves all of them or none."""
        rows = list(items)
        if not rows:
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany(f"INSERT OR REPLACE INTO {self.table} (key, value) VALUES (?, ?)", rows)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def __len__(self) -> int:
        return self._db.execute(f"SELECT COUNT(*) FROM {self.table}").fetchone()[0]

    def close(self) -> None:
        self._db.close()
