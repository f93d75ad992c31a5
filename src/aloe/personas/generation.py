"""Iterative self-generation of persona texts (profiles or personalities).

Each round asks the persona writer for new texts, showing it a few examples
sampled from the pool kept so far; a candidate joins the pool only if it is
novel (cosine similarity to everything in the pool at most a threshold). The
loop stops at the target size, after ``patience`` rounds that add too little,
or after ``max_rounds``. Every fragment the model produced is returned with its
round, call and status, so the filter stage and a human can audit it.

Determinism: example sampling is seeded by (seed, kind, round, call) and every
request carries its own seed, so with the response cache a rerun after a kill
replays the finished rounds for free and produces identical candidates.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np

from aloe.llm.client import LLM
from aloe.params import PersonaGenerateParams
from aloe.personas.embeddings import Embedder
from aloe.personas.novelty import EXACT_UP_TO, greedy_novel
from aloe.roles.persona_writer import PersonaWriter

log = logging.getLogger(__name__)


def starting_pool(
    chunks: Iterable[list[str]], embedder: Embedder, threshold: float, target: int
) -> tuple[list[str], np.ndarray]:
    """The novel texts of the seeds and imports (chunks of texts, in order), and their
    embeddings. Reading stops once the pool reaches ``target``: no round runs then, so a
    pool imported by the million costs one chunk here, not the whole file."""
    pool: list[str] = []
    pool_emb = None
    for texts in chunks:
        emb = embedder.encode(texts)
        keep = greedy_novel(emb, threshold, kept=pool_emb, exact_up_to=EXACT_UP_TO)
        pool += [t for t, k in zip(texts, keep, strict=True) if k]
        pool_emb = emb[keep] if pool_emb is None else np.concatenate([pool_emb, emb[keep]])
        if len(pool) >= target:
            break
    return pool, pool_emb


def grow(
    kind: str,
    pool: list[str],
    pool_emb: np.ndarray,
    llm: LLM,
    embedder: Embedder,
    cfg: PersonaGenerateParams,
    seed: int,
) -> list[dict]:
    """Grow the pool of ``kind`` from the starting ``pool``; return every generated candidate row."""
    pool, rows = list(pool), []
    stale = 0
    writer = PersonaWriter(cfg.temperature, cfg.max_tokens, cfg.candidates_per_call, cfg.examples_per_prompt)
    for rnd in range(1, cfg.max_rounds + 1):
        if len(pool) >= cfg.target_size:
            break
        items = [writer.item(kind, pool, f"{seed}/{kind}/{rnd}/{call}") for call in range(cfg.calls_per_round)]
        fresh = []
        for call, lines in enumerate(writer.write(llm, items)):
            for text, status in lines:
                rows.append(dict(kind=kind, text=text, source="generated", round=rnd, call=call, status=status))
                if status == "ok":
                    fresh.append(text)
        fresh_emb = embedder.encode(fresh)
        keep = greedy_novel(fresh_emb, cfg.novelty_threshold, kept=pool_emb)
        pool += [t for t, k in zip(fresh, keep, strict=True) if k]
        pool_emb = np.concatenate([pool_emb.reshape(-1, fresh_emb.shape[1]), fresh_emb[keep]])
        log.info("%s round %d: %d candidates, %d novel, pool %d", kind, rnd, len(fresh), int(keep.sum()), len(pool))
        stale = stale + 1 if keep.sum() < cfg.min_new_per_round else 0
        if stale >= cfg.patience:
            log.info("%s: saturated after %d rounds", kind, rnd)
            break
    return rows
