"""The eval-leak guard: no training conversation may belong to a benchmark persona.

A persona leaks when its profile or its personality is, after normalisation
(lower case, punctuation and spacing folded), one of the eval texts actually
used, or a near-duplicate of one by the persona filter's own embedding model
and threshold. "I am a nurse in Leeds." and "i am a nurse, in Leeds" are the
same person.
"""

from __future__ import annotations

import re

import numpy as np

from aloe.personas.embeddings import Embedder
from aloe.personas.rows import Persona


def normalise(text: str) -> str:
    """The persona filter's normalisation (DuckDB's ``norm`` column), in Python."""
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


class LeakGuard:
    def __init__(self, eval_personas: list[Persona], embedder: Embedder, threshold: float):
        self.embedder = embedder
        self.threshold = threshold
        self.texts = {kind: sorted({getattr(p, kind) for p in eval_personas}) for kind in ("profile", "personality")}
        self.exact = {kind: {normalise(t) for t in texts} for kind, texts in self.texts.items()}
        self.vectors = {kind: embedder.encode(texts) for kind, texts in self.texts.items()}

    def reasons(self, personas: list[tuple[str, str]]) -> list[str | None]:
        """Per (profile, personality): None, or why it is refused (exact | near_duplicate)."""
        out: list[str | None] = [None] * len(personas)
        for k, kind in enumerate(("profile", "personality")):
            texts = [p[k] for p in personas]
            sims = self.embedder.encode(texts) @ self.vectors[kind].T if len(self.texts[kind]) else None
            for i, text in enumerate(texts):
                if not text.strip():
                    continue
                if normalise(text) in self.exact[kind]:
                    out[i] = "exact"
                elif out[i] is None and sims is not None and float(np.max(sims[i])) > self.threshold:
                    out[i] = "near_duplicate"
        return out
