"""A report card for each judge, from the planted pairs of the judge check.

The judge check (:mod:`aloe.judge_check`) asks both judges about pairs with a known
answer: a reply written for the persona (matched) against one written for a very
different persona (mismatched). This module turns those answers into figures a
researcher choosing a judge reads before a paid run, each with its count and, where
it is a rate or a mean, a 95% interval that resamples profiles (planted pairs built
on one profile are not independent).

Pairwise judge: accuracy (ties count half), both-order consistency, first-position
rate, position shift (the mean of P(first) over a pair's two orders, minus 0.5: 0 for
a judge that reads the replies, +b for one whose P(first) is pushed up by b), tie and
unreadable rates, and the Brier score of its order-averaged
P(matched preferred) against the known answer (0 = certain and right, 0.25 = a coin).

1-5 judge: the matched minus mismatched score gap, its AUROC (the score as a test of
"written for this persona": the chance that a matched reply outscores a mismatched
one, ties half; 0.5 = blind), the score distribution (share of the
most common score, rounded, and its entropy in bits), the Spearman correlation of
score with reply length in words, and the share of scores read from log-probabilities.

Status, one word per judge:
- ``underpowered``: fewer than :data:`MIN_CLUSTERS` profiles (or no interval at all,
  ``judge_check.bootstrap: 0``), so no interval is tight enough to call the judge
  anything, unless a constant score makes power moot;
- ``blind`` (1-5 judge): one score (rounded) for at least :data:`CONSTANT_SHARE` of the
  replies with no gap between matched and mismatched, a gap interval that reaches 0, or
  no readable score at all; its numbers cannot tell models apart. (Scores read from
  log-probabilities are expected values: a judge at 3.4 against 2.6 rounds to one score
  but separates the pairs, so the share alone does not make it blind);
- ``weak`` (pairwise judge): accuracy interval reaching 0.5, or accuracy below
  ``trees.min_judge_accuracy``;
- ``sees``: none of the above.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from aloe.judging.labels import decide, order_p_first
from aloe.stats import bootstrap, percentile_ci

MIN_CLUSTERS = 12  # below this many profiles, intervals are too wide to rate a judge
CONSTANT_SHARE = 0.9  # a 1-5 judge giving one score to this share of replies is blind


def planted_labels(pairs: list, min_margin: float) -> list:
    """Each judged planted pair read by the label rule's evidence (policy ``average``, whatever
    the trees' disagreement policy, so the check measures the judge and not the policy)."""
    return [
        decide(p.matched_first.reading, p.matched_second.reading, policy="average", min_margin=min_margin)
        for p in pairs
    ]


def pair_card(pairs: list, labels: list, min_accuracy: float, n_boot: int, seed: int) -> dict:
    """The pairwise judge's figures from judged planted pairs (:class:`aloe.judge_check.PlantedPair`)
    and their :func:`planted_labels`."""
    if not pairs:
        return {"n": 0, "clusters": 0, "status": "underpowered"}
    clusters = [p.profile_id for p in pairs]
    orders = [(p.matched_first.reading, p.matched_second.reading) for p in pairs]
    credit = np.array([0.5 if lab.subject_won is None else float(lab.subject_won) for lab in labels])
    tie = np.array([lab.subject_won is None for lab in labels], dtype=float)
    agree = np.array([lab.source == "agree" for lab in labels], dtype=float)
    unreadable = np.array([[o.verdict is None for o in pair] for pair in orders])
    said_first = np.array([[o.verdict == "first" for o in pair] for pair in orders])
    p_matched = np.array([np.nan if lab.p_subject is None else lab.p_subject for lab in labels])
    p_first = np.array([[np.nan if (q := order_p_first(o)) is None else q for o in pair] for pair in orders])

    def rate(values: np.ndarray) -> dict:
        return mean_with_ci(values, clusters, n_boot, seed)

    def first_rate(rows: np.ndarray) -> float | None:
        said = ~unreadable[rows]
        return float(said_first[rows][said].mean()) if said.any() else None

    card = {
        "n": len(pairs),
        "clusters": len(set(clusters)),
        "accuracy": rate(credit),
        "consistency": rate(agree),
        "first_position_rate": {
            "value": _round(first_rate(np.arange(len(pairs)))),
            "ci95": percentile_ci(bootstrap(first_rate, clusters, n_boot, seed)),
            "n": int((~unreadable).sum()),
        },
        "position_shift": rate(p_first.mean(axis=1) - 0.5),
        "tie_rate": rate(tie),
        "unreadable_rate": rate(unreadable.mean(axis=1)),
        "brier": rate((1.0 - p_matched) ** 2),
        "verdict_methods": dict(Counter(o.method for pair in orders for o in pair)),
    }
    acc = card["accuracy"]
    if card["clusters"] < MIN_CLUSTERS or acc["ci95"] is None:
        card["status"] = "underpowered"
    elif acc["ci95"][0] <= 0.5 or acc["value"] < min_accuracy:
        card["status"] = "weak"
    else:
        card["status"] = "sees"
    return card


def score_card(pairs: list, n_boot: int, seed: int) -> dict:
    """The 1-5 judge's figures from planted pairs where both replies were scored."""
    scored = [p for p in pairs if p.matched_score.score is not None and p.mismatched_score.score is not None]
    every = [s for p in pairs for s in (p.matched_score, p.mismatched_score)]
    methods = Counter(s.method for s in every)
    if not scored:  # nothing asked: nothing known; never a readable pair: no number can come from it
        status = "blind" if every and not methods["logprobs"] + methods["text"] else "underpowered"
        return {"n": 0, "clusters": 0, "status": status, "methods": dict(methods)}
    clusters = [p.profile_id for p in scored]
    matched = np.array([p.matched_score.score for p in scored])
    mismatched = np.array([p.mismatched_score.score for p in scored])
    gap = matched - mismatched

    def auroc(rows: np.ndarray) -> float:
        truth = [1] * len(rows) + [0] * len(rows)
        return float(roc_auc_score(truth, np.concatenate([matched[rows], mismatched[rows]])))

    values = np.concatenate([matched, mismatched])
    lengths = np.array([len(p.reply(tag).split()) for tag in ("matched", "mismatched") for p in scored])
    counts = Counter(int(round(v)) for v in values)
    shares = np.array(list(counts.values())) / len(values)
    card = {
        "n": len(scored),
        "clusters": len(set(clusters)),
        "gap": mean_with_ci(gap, clusters, n_boot, seed),
        "auroc": {
            "value": _round(auroc(np.arange(len(scored)))),
            "ci95": percentile_ci(bootstrap(auroc, clusters, n_boot, seed)),
            "n": len(scored),
        },
        "distribution": {str(k): counts[k] for k in sorted(counts)},
        "most_common_share": _round(float(shares.max())),
        "entropy_bits": _round(float(-(shares * np.log2(shares)).sum()) + 0.0),  # + 0.0: no "-0.0"
        "length_spearman": _round(spearman(values, lengths)),  # None where scores or lengths are constant
        "logprobs_share": _round(methods["logprobs"] / len(every)),
        "methods": dict(methods),
    }
    gap_ci = card["gap"]["ci95"]
    no_gap = gap_ci is not None and gap_ci[0] <= 0
    if card["most_common_share"] >= CONSTANT_SHARE and (no_gap or gap_ci is None):
        card["status"] = "blind"  # (nearly) one score and nothing between matched and mismatched
    elif card["clusters"] < MIN_CLUSTERS or gap_ci is None:
        card["status"] = "underpowered"
    elif no_gap:
        card["status"] = "blind"
    else:
        card["status"] = "sees"
    return card


def blind_reason(card: dict) -> str:
    """Why a 1-5 judge's card says ``blind``, in words."""
    if not card["n"]:
        return f"not one of its {sum(card['methods'].values())} answers on planted pairs was a readable score"
    if card["most_common_share"] >= CONSTANT_SHARE:
        common = max(card["distribution"], key=card["distribution"].get)
        return f"it gave {common} to {card['most_common_share']:.0%} of planted replies"
    return (
        f"its matched-minus-mismatched score gap {card['gap']['value']} {card['gap']['ci95']} "
        f"reaches 0 on {card['n']} planted pairs in {card['clusters']} profiles"
    )


def mean_with_ci(values: np.ndarray, clusters: list, n_boot: int, seed: int) -> dict:
    """Mean (NaN rows left out), its cluster-bootstrap interval and the count it rests on."""
    values = np.asarray(values, dtype=float)

    def mean(rows: np.ndarray) -> float | None:
        got = values[rows][~np.isnan(values[rows])]
        return float(got.mean()) if len(got) else None

    return {
        "value": _round(mean(np.arange(len(values)))),
        "ci95": percentile_ci(bootstrap(mean, clusters, n_boot, seed)),
        "n": int((~np.isnan(values)).sum()),
    }


def spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    """Rank correlation; None where either side is constant or there are under 3 points."""
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    return float(spearmanr(a, b).statistic)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
