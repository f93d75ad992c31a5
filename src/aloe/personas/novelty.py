"""Greedy near-duplicate filtering in generation order, as in the paper.

A text is kept only if its cosine similarity to every text kept before it is at
most ``threshold``. The paper re-encoded the whole pool for every candidate;
here embeddings are computed once and compared block by block with one matrix
product per block, so 20k candidates take seconds, not hours.
"""

from __future__ import annotations

import numpy as np


def greedy_novel(emb: np.ndarray, threshold: float, kept: np.ndarray | None = None, block: int = 512) -> np.ndarray:
    """Boolean mask over ``emb`` rows (normalised) of those kept, in row order.

    ``kept`` holds embeddings already in the pool; every row is compared to them too.
    """
    dim = emb.shape[1]
    pool = [kept] if kept is not None and len(kept) else []
    keep = np.zeros(len(emb), dtype=bool)
    for start in range(0, len(emb), block):
        blk = emb[start : start + block]
        ok = np.ones(len(blk), dtype=bool)
        if pool:
            ok &= (blk @ np.concatenate(pool).T).max(axis=1) <= threshold
        within = blk @ blk.T
        chosen: list[int] = []
        for i in np.flatnonzero(ok):
            if not chosen or within[i, chosen].max() <= threshold:
                chosen.append(i)
        keep[start + np.array(chosen, dtype=int)] = True
        pool.append(blk[chosen].reshape(-1, dim))
    return keep


def max_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Largest cosine similarity between any row of ``a`` and any row of ``b``."""
    if not len(a) or not len(b):
        return 0.0
    return float((a @ b.T).max())


def mean_pairwise_similarity(emb: np.ndarray) -> float:
    """Mean off-diagonal cosine similarity: lower means a more diverse pool."""
    n = len(emb)
    if n < 2:
        return 0.0
    total = emb.sum(axis=0)
    return float((total @ total - n) / (n * (n - 1)))
