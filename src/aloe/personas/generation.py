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
import random

import numpy as np

from aloe.llm.base import ChatRequest
from aloe.llm.client import LLM
from aloe.params import PersonaGenerateParams
from aloe.personas.embeddings import Embedder
from aloe.personas.novelty import greedy_novel
from aloe.personas.parsing import parse_candidates
from aloe.prompts import render

log = logging.getLogger(__name__)


def grow(
    kind: str, start: list[tuple[str, str]], llm: LLM, embedder: Embedder, cfg: PersonaGenerateParams, seed: int
) -> list[dict]:
    """Grow the pool of ``kind`` from ``start`` = [(text, source)]; return every candidate row."""
    rows = [dict(kind=kind, text=t, source=src, round=0, call=-1, status="ok") for t, src in start]
    start_emb = embedder.encode([t for t, _ in start])
    novel = greedy_novel(start_emb, cfg.novelty_threshold)
    pool = [t for (t, _), n in zip(start, novel, strict=True) if n]
    pool_emb = start_emb[novel]
    stale = 0
    for rnd in range(1, cfg.max_rounds + 1):
        if len(pool) >= cfg.target_size:
            break
        requests = []
        for call in range(cfg.calls_per_round):
            rng = random.Random(f"{seed}/{kind}/{rnd}/{call}")
            examples = rng.sample(pool, min(cfg.examples_per_prompt, len(pool)))
            content = render(
                f"persona_{kind}", n=str(cfg.candidates_per_call), examples="\n".join(f"- {e}" for e in examples)
            )
            requests.append(
                ChatRequest.from_messages(
                    [{"role": "user", "content": content}],
                    max_tokens=cfg.max_tokens,
                    temperature=cfg.temperature,
                    top_p=0.95,
                    seed=rng.randrange(2**31),
                )
            )
        fresh = []
        for call, result in enumerate(llm.chat("persona_writer", requests)):
            for text, status in fragments(result):
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


def fragments(result) -> list[tuple[str, str]]:
    """(text, status) of every line the writer produced; the last line of an answer cut
    by max_tokens is ``truncated`` (a person described halfway is not a persona)."""
    if not result.ok:
        return [(result.error, "llm_error")]
    parsed = parse_candidates(result.text)
    if parsed and result.finish_reason == "length" and parsed[-1][1] in ("ok", "fragment"):
        parsed[-1] = (parsed[-1][0], "truncated")
    return parsed
