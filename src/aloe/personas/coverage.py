"""Whether a persona pool covers people, not just counts texts.

A pool's size says little on its own: ten thousand paraphrases of one retired teacher cover
less than a hundred distinct people. Two measures, per kind (profiles, personalities):

- Saturation: per generation round, the candidates that came in and how many were kept
  (round 0: the seeds and imported files). A kept share that falls round after round
  says that more rounds buy little.
- Coverage: k-means (faiss, seeded) over the kept texts' embeddings, k = ``COVERAGE_K`` or
  fewer (a smaller pool gets one cluster per text; a cluster left empty by texts with
  identical embeddings is not counted). The share of the clusters that the training
  personas' texts reach and that the eval split reaches, and for each eval text the
  similarity of its nearest text left for training (the leak guard checks only the
  largest of these).
"""

from __future__ import annotations

import faiss
import numpy as np
import pandas as pd

COVERAGE_K = 20
KMEANS_ITERATIONS = 25


def saturation(ruled: pd.DataFrame, kinds: dict[str, str]) -> list[dict]:
    """One row per generation round: candidates and kept texts of each kind (``kinds`` maps a
    kind to its plural, the column prefix). ``ruled``: the filter's frame (kind, round, reason)."""
    counts = (
        ruled.assign(kept=ruled["reason"].isna())
        .groupby(["round", "kind"])["kept"]
        .agg(candidates="size", kept="sum")
        .unstack("kind", fill_value=0)
    )
    rows = []
    for rnd in sorted(counts.index):
        row = {"round": int(rnd)}
        for kind, plural in kinds.items():
            for what in ("candidates", "kept"):
                row[f"{plural}_{what}"] = int(counts.loc[rnd, (what, kind)]) if (what, kind) in counts else 0
        rows.append(row)
    return rows


def clusters(vectors: np.ndarray, seed: int) -> np.ndarray:
    """Each vector's k-means cluster, clusters numbered by size (0 the largest)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    k = min(COVERAGE_K, len(vectors))
    kmeans = faiss.Kmeans(
        vectors.shape[1], k, niter=KMEANS_ITERATIONS, seed=seed, spherical=True, min_points_per_centroid=1
    )
    kmeans.train(vectors)
    _, assigned = kmeans.index.search(vectors, 1)
    assigned = assigned[:, 0]
    by_size = np.argsort(-np.bincount(assigned, minlength=k), kind="stable")
    return np.argsort(by_size)[assigned]


def coverage(pool: pd.DataFrame, emb: dict[str, np.ndarray], train_ids: set[str], seed: int) -> tuple[dict, list]:
    """The coverage summary of one kind and its per-cluster counts (largest cluster first).

    ``pool``: the kept texts with ``id`` and ``split`` (eval or train); ``train_ids``: the
    ids the training personas use (a sample of the train split's crossings)."""
    vectors = np.stack([emb[i] for i in pool["id"]])
    cluster = clusters(vectors, seed)
    k = int(cluster.max()) + 1
    in_eval = (pool["split"] == "eval").to_numpy()
    in_train = pool["id"].isin(train_ids).to_numpy()
    reached_eval, reached_train = set(cluster[in_eval]), set(cluster[in_train])
    left_for_training = vectors[~in_eval]
    nearest = (vectors[in_eval] @ left_for_training.T).max(axis=1)
    summary = {
        "k": k,
        "clusters_reached": {
            "train_personas": round(len(reached_train) / k, 4),
            "eval": round(len(reached_eval) / k, 4),
        },
        "eval_clusters_reached_by_train": round(len(reached_eval & reached_train) / max(len(reached_eval), 1), 4),
        "eval_nearest_train_similarity": {
            q: round(float(np.quantile(nearest, p)), 4)
            for q, p in (("min", 0.0), ("p10", 0.1), ("median", 0.5), ("p90", 0.9), ("max", 1.0))
        },
    }
    per_cluster = {
        what: np.bincount(cluster[members], minlength=k)
        for what, members in (("kept", slice(None)), ("train_personas", in_train), ("eval", in_eval))
    }
    counts = [{what: int(n[c]) for what, n in per_cluster.items()} for c in range(k)]
    return summary, counts


def coverage_rows(counts: dict[str, list]) -> list[dict]:
    """The plot file's rows: one per cluster rank, the counts of each kind side by side (0 past
    the last cluster of a kind that has fewer, so every row has every column)."""
    rows = []
    for rank in range(max(len(c) for c in counts.values())):
        row = {"cluster": rank}
        for plural, per_cluster in counts.items():
            for what in ("kept", "train_personas", "eval"):
                row[f"{plural}_{what}"] = per_cluster[rank][what] if rank < len(per_cluster) else 0
        rows.append(row)
    return rows
