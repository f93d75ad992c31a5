"""Calibration of both judges on planted pairs: does a judge's confidence match how often it is right?

Pairwise: each order's P(first) (read from log-probabilities) against whether the first
reply was the one written for the persona, binned by P(first) (:data:`BINS`); a calibrated
judge that says 0.8 is right 80% of the time in that bin.

1-5: the score as a probability that the reply was written for the persona,
(score - 1) / 4, against the truth over matched and mismatched replies: its Brier score
(0 = certain and right; a judge that always says 3 scores 0.25) and, per rounded score,
the share of replies at that score that were matched (rising with the score if the judge
sees the persona).
"""

from __future__ import annotations

import numpy as np

BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


def pair_reliability(p_first: np.ndarray, first_is_matched: np.ndarray) -> list[dict]:
    """Rows of (P(first) bin, orders in it, their mean P(first), share where first was matched);
    orders without probabilities (NaN) are left out."""
    have = ~np.isnan(p_first)
    p, truth = p_first[have], first_is_matched[have]
    which = np.clip(np.digitize(p, BINS[1:-1]), 0, len(BINS) - 2)
    return [
        {
            "bin": [BINS[b], BINS[b + 1]],
            "n": int((which == b).sum()),
            "mean_p": round(float(p[which == b].mean()), 4),
            "observed": round(float(truth[which == b].mean()), 4),
        }
        for b in range(len(BINS) - 1)
        if (which == b).any()
    ]


def score_probability(scores: np.ndarray) -> np.ndarray:
    """A 1-5 score as P(written for this persona): 1 -> 0, 3 -> 0.5, 5 -> 1."""
    return np.clip((scores - 1.0) / 4.0, 0.0, 1.0)


def score_brier(matched: np.ndarray, mismatched: np.ndarray) -> np.ndarray:
    """Per pair: the mean squared error of both replies' score probabilities (matched is 1, mismatched 0)."""
    return ((1.0 - score_probability(matched)) ** 2 + score_probability(mismatched) ** 2) / 2


def score_reliability(matched: np.ndarray, mismatched: np.ndarray) -> list[dict]:
    """Rows of (rounded score, replies at it, share of them matched)."""
    scores = np.concatenate([matched, mismatched])
    truth = np.concatenate([np.ones(len(matched)), np.zeros(len(mismatched))])
    have = ~np.isnan(scores)
    rounded, truth = np.rint(scores[have]).astype(int), truth[have]
    return [
        {"score": int(k), "n": int((rounded == k).sum()), "observed": round(float(truth[rounded == k].mean()), 4)}
        for k in sorted(set(rounded))
    ]
