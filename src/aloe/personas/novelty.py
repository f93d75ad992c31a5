"""Greedy near-duplicate filtering in generation order, as in the paper.

A text is kept only if its cosine similarity to every text kept before it is at
most ``threshold``. The paper re-encoded the whole pool for every candidate;
here embeddings are computed once and compared block by block with one matrix
product per block, so 20k candidates take seconds, not hours.

Exact comparison costs candidates x kept: at 1M candidates and a pool of ~500k
that is hours. Past ``exact_up_to`` kept texts the pool is searched through an
HNSW index (faiss, inner product) instead. An approximate index can only err one
way: a neighbour it returns is a real kept text with its real similarity, so a
"near duplicate" verdict is always right, while a "novel" one can miss the true
nearest neighbour and keep a text the exact rule drops. Below ``exact_up_to`` the
search is exact, so any pool of that size gets exactly the paper's decisions.

Why HNSW (faiss, M 32, efSearch 128; float32 codes when this was measured) and not IVF: greedy runs with the
index from the first kept text, on bench/persona_filter.py's synthetic pool with hashed
embeddings, 2 busy cores. At 20k: HNSW ef 64 / 128 differ from exact on 8 / 5 decisions,
IVF-Flat (565 lists, nprobe 32) on 24. At 100k: HNSW ef 64 152 s and 411 differ (exact
39 s in that run); IVF (1024 lists) nprobe 64 88 s and 62 differ, nprobe 32 61 s and
3,082 differ (exact 60 s in that run). IVF was better at 100k, but it scans a fixed share
of the pool per query (the lists are fixed when it is trained, before the pool exists), so
its cost grows with the pool like exact search; HNSW grows with its logarithm and takes
one vector at a time (its 8-bit codes, below, learn each dimension's range once). Both are
slower than exact BLAS search below ~100k kept texts: hence ``exact_up_to``. bench/persona_filter.py measures agreement.
Later, on the static encoder's vectors (100k synthetic candidates, index from the start):
IVF-Flat with 2,048 lists trained on the candidates, 128 probed, 40 s and 98 differ from
exact, against HNSW's 70 s and 154 (blocks of 512); but in use (exact to 100k kept, then
the index) on 300k candidates IVF took 171 s where exact search took 127 s.
"""

from __future__ import annotations

import numpy as np

# Kept texts searched exactly before the HNSW index takes over. Exact search of a block of
# 512 costs ~8 us per kept text here (one BLAS product), an HNSW block ~0.75 s (inserts
# dominate): measured on 100k synthetic candidates (2 busy cores, float32 codes, blocks of
# 512), they cross near 100k kept. Not remeasured since the 8-bit codes and larger blocks.
EXACT_UP_TO = 100_000
HNSW_M = 32  # graph degree
HNSW_EF_SEARCH = 128  # candidates kept per search
# The graph stores 8-bit codes (a quarter of the memory traffic of float32); each query's
# RERANK nearest by code are re-scored on the float32 vectors, so a similarity the pool
# reports is exact. Measured with the static encoder on 100k synthetic candidates, index from
# the first kept text, blocks of 2,048, in one run on the idle machine: 23.0 s against 33.5 s
# for float32 codes, and the same 124 decisions differing from exact search. The codes learn
# each dimension's range from the pool at the switch, so a pool smaller than SQ_MIN_TRAIN
# (a test's, never the pipeline's 100k) keeps float32 codes: trained on one vector, the
# 8-bit index lost most neighbours.
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
    searched at once; exact decisions do not depend on it. With the HNSW index, 2,048 took
    54 s where 512 took 70 s (static encoder, 100k synthetic candidates, index from the
    first kept text, float32 codes; 124 and 154 decisions differ from exact; a separate run
    from RERANK's figures, where the same setting took 33.5 s); exact search: 15.5 and 14.2 s.
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
