"""Greedy near-duplicate filtering in generation order, as in the paper.

A text is kept only if its cosine similarity to every text kept before it is at
most ``threshold``. The paper re-encoded the whole pool for every candidate;
here embeddings are computed once and compared block by block with one matrix
product per block.

Exact comparison costs candidates x kept, hours at a million candidates. Past
``exact_up_to`` kept texts the pool is searched through an HNSW index (faiss,
inner product) instead, whose cost grows with the logarithm of the pool and which
takes one vector at a time (IVF scans a fixed share of a pool whose lists were
fixed before the pool existed). An approximate index can err both ways: a missed
neighbour keeps a text the exact rule drops, and that kept text can later drop
one the exact rule keeps. Below ``exact_up_to`` the search is exact, so any pool
of that size gets exactly the paper's decisions. bench/persona_filter.py measures
the agreement (bench/results/persona_filter_*.json; the README's scale table).
"""

from __future__ import annotations

import numpy as np

# Kept texts searched exactly before the HNSW index takes over: below about this size exact
# BLAS search is the faster of the two (bench/persona_filter.py).
EXACT_UP_TO = 100_000
HNSW_M = 32  # graph degree
HNSW_EF_SEARCH = 128  # candidates kept per search
# The graph stores 8-bit codes (a quarter of the memory traffic of float32); each query's
# RERANK nearest by code are re-scored on the float32 vectors, so a similarity the pool
# reports is exact. The codes learn each dimension's range from the pool at the switch, so a
# pool smaller than SQ_MIN_TRAIN (a test's, never the pipeline's 100k) keeps float32 codes:
# trained on a handful of vectors, 8-bit codes lose most neighbours.
RERANK = 4
SQ_MIN_TRAIN = 512


class KeptPool:
    """The kept embeddings, searched for each query's highest similarity: exactly
    (one matrix product) while the pool holds at most ``exact_up_to`` vectors, then
    through an HNSW index holding all of them (``exact_up_to`` None: always exact)."""

    def __init__(self, dim: int, exact_up_to: int | None = None, dtype=np.float32):
        self.exact_up_to = exact_up_to
        self.vectors = np.zeros((0, dim), dtype=dtype)
        self.size = 0
        self.index = None

    def add(self, vectors: np.ndarray) -> None:
        if self.index is not None:
            self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        if self.size + len(vectors) > len(self.vectors):  # grow by doubling: no copy per block
            rows = max(2 * len(self.vectors), self.size + len(vectors))
            grown = np.zeros((rows, self.vectors.shape[1]), self.vectors.dtype)
            grown[: self.size] = self.vectors[: self.size]
            self.vectors = grown
        self.vectors[self.size : self.size + len(vectors)] = vectors
        self.size += len(vectors)
        if self.index is None and self.exact_up_to is not None and self.size > self.exact_up_to:
            import faiss

            kept = np.ascontiguousarray(self.vectors[: self.size], dtype=np.float32)
            dim = kept.shape[1]
            if len(kept) >= SQ_MIN_TRAIN:
                self.index = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_8bit, HNSW_M, faiss.METRIC_INNER_PRODUCT)
                self.index.train(kept)  # each dimension's range, from the pool so far
            else:
                self.index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            self.index.hnsw.efSearch = HNSW_EF_SEARCH
            self.index.add(kept)

    def nearest(self, queries: np.ndarray) -> np.ndarray:
        """Each query's highest similarity to the pool (-inf for an empty pool)."""
        if not self.size:
            return np.full(len(queries), -np.inf, dtype=np.float32)
        if self.index is not None:
            ids = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), RERANK)[1]
            sims = np.einsum("qkd,qd->qk", self.vectors[np.maximum(ids, 0)], queries)
            return np.where(ids >= 0, sims, -np.inf).max(axis=1)
        return (queries @ self.vectors[: self.size].T).max(axis=1)


def greedy_novel(
    emb: np.ndarray,
    threshold: float,
    kept: np.ndarray | None = None,
    block: int = 2048,
    exact_up_to: int | None = None,
) -> np.ndarray:
    """Boolean mask over ``emb`` rows (normalised) of those kept, in row order.

    ``kept`` holds embeddings already in the pool; every row is compared to them too.
    ``exact_up_to``: see KeptPool (None: exact, whatever the size). ``block``: candidates
    searched at once (larger blocks amortise the index's per-search cost); exact decisions
    do not depend on it.
    """
    pool = KeptPool(emb.shape[1], exact_up_to, emb.dtype)
    if kept is not None and len(kept):
        pool.add(kept)
    keep = np.zeros(len(emb), dtype=bool)
    for start in range(0, len(emb), block):
        blk = emb[start : start + block]
        ok = pool.nearest(blk) <= threshold
        within = blk @ blk.T
        chosen: list[int] = []
        for i in np.flatnonzero(ok):
            if not chosen or within[i, chosen].max() <= threshold:
                chosen.append(i)
        keep[start + np.array(chosen, dtype=int)] = True
        pool.add(blk[chosen])
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
