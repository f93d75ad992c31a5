"""The model under evaluation, as a backend of the LLM layer (so its calls are cached too)."""

from __future__ import annotations

from aloe.llm.base import Backend
from aloe.llm.client import make_backend
from aloe.params import Params, TransformersBackendParams


def local_subject(model_dir: str, params: Params) -> Backend:
    """A model dir through the transformers backend, on the device/dtype of the local roles."""
    local = next((b for b in params.llm.backends.values() if b.type == "transformers"), None)
    cfg = TransformersBackendParams(
        type="transformers",
        model=model_dir,
        batch_size=params.eval.batch_size,
        device=local.device if local else "auto",
        dtype=local.dtype if local else "auto",
    )
    return make_backend("evaluated", cfg)


def variant_backend(params: Params, name: str) -> Backend:
    variant = params.eval.variants[name]
    if variant.backend:
        return make_backend(variant.backend, params.llm.backends[variant.backend])
    return local_subject(variant.model, params)
