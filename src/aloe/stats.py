"""Cluster bootstrap: intervals that respect how the data is clustered.

Benchmark examples that share a profile are not independent (the same person,
five personalities), nor are planted judge pairs built on one profile. Every
interval here resamples whole clusters with replacement, keeps every resample,
and reports a percentile interval. Paired comparisons resample the same
clusters for both sides, so what they share cancels.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np


def cluster_resamples(clusters: Sequence, n_boot: int, seed: int) -> Iterator[np.ndarray]:
    """Row indices of ``n_boot`` resamples, each drawing as many clusters as there are,
    with replacement, and taking all rows of every drawn cluster."""
    labels = np.asarray([str(c) for c in clusters])
    ids = np.unique(labels)
    rows = [np.flatnonzero(labels == c) for c in ids]
    rng = np.random.default_rng(seed)
    for _ in range(n_boot):
        yield np.concatenate([rows[i] for i in rng.integers(0, len(ids), len(ids))])


def percentile_ci(values: Sequence[float], level: float = 0.95) -> list[float] | None:
    values = [v for v in values if v is not None and np.isfinite(v)]
    if not values:
        return None
    tail = (1 - level) / 2 * 100
    return [round(float(v), 4) for v in np.percentile(values, [tail, 100 - tail])]


def bootstrap(
    statistic: Callable[[np.ndarray], float | None], clusters: Sequence, n_boot: int, seed: int
) -> list[float | None]:
    """``statistic(rows)`` on every cluster resample; None where it is undefined for a resample."""
    return [statistic(rows) for rows in cluster_resamples(clusters, n_boot, seed)]


def two_sided_p(deltas: Sequence[float | None]) -> float | None:
    """Bootstrap p-value of "the difference is 0": twice the smaller tail share, capped at 1."""
    values = np.asarray([d for d in deltas if d is not None and np.isfinite(d)])
    if not len(values):
        return None
    return round(float(min(1.0, 2 * min((values <= 0).mean(), (values >= 0).mean()))), 4)
