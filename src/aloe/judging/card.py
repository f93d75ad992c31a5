"""A report card for each judge, from the planted pairs of the judge check.

The judge check (:mod:`aloe.judge_check`) asks both judges about pairs with a known
answer: a reply written for the persona (matched) against one written for a very
different persona (mismatched), and the other probes of :data:`aloe.judge_check.planted.PROBES`.
This module turns those answers into figures a researcher choosing a judge reads before
a paid run, each with its count and, where
it is a rate or a mean, a 95% interval that resamples profiles (planted pairs built
on one profile are not independent).

Pairwise judge: accuracy (ties count half), both-order consistency, first-position
rate, position shift (the mean of P(first) over a pair's two orders, minus 0.5: 0 for
a judge that reads the replies, +b for one whose P(first) is pushed up by b), tie and
unreadable rates, the Brier score of its order-averaged
P(matched preferred) against the known answer (0 = certain and right, 0.25 = a coin) and
a reliability table of its per-order P(first) (:mod:`aloe.judging.calibration`);
from the other probes, accuracy on the hard pair (the most similar persona's reply),
P(prefer longer) on length-only pairs (AlpacaEval's figure), the share of winners that
flip when the judge is told the contrast persona (persona sensitivity), the share of
verdicts that repeat on new seeds, and ``concerns``: those figures in words where they
cross a bar (:func:`pair_concerns`).

1-5 judge: the matched minus mismatched score gap, its AUROC (the score as a test of
"written for this persona": the chance that a matched reply outscores a mismatched
one, ties half; 0.5 = blind), the score distribution (share of the
most common score, rounded, and its entropy in bits), the Spearman correlation of
score with reply length in words, the share of scores read from log-probabilities, the
matched minus similar gap (the hard pair), the weighted kappa of scores asked again on
new seeds, P(higher score for the longer reply) on length-only pairs (the same reply with
a neutral sentence added), the persona-flip gap (the matched reply scored for its persona
minus scored for the contrast persona: 0 for a judge that rates general quality), its
Brier score and reliability table (:mod:`aloe.judging.calibration`), and ``concerns``.

Status, one word per judge:
- ``unreadable``: at least :data:`UNREADABLE_SHARE` of its answers on planted pairs gave no
  verdict or score where it was asked (``missing_reasons`` counts why, in
  :data:`aloe.roles.slots.REASONS`: a judge that opens numbered lists shows ``list``); no
  other figure of it means anything, position bias least of all;
- ``underpowered``: fewer than :data:`MIN_CLUSTERS` profiles (or no interval at all,
  ``judge_check.bootstrap: 0``), so no interval is tight enough to call the judge
  anything, unless a constant score makes power moot;
- ``blind`` (1-5 judge): one score (rounded) for at least :data:`CONSTANT_SHARE` of the
  replies with no gap between matched and mismatched, a gap interval that reaches 0, or
  no readable score at all; its numbers cannot tell models apart. (Scores read from
  log-probabilities are expected values: a judge at 3.4 against 2.6 rounds to one score
  but separates the pairs, so the share alone does not make it blind);
- ``weak`` (pairwise judge): accuracy interval reaching 0.5, or accuracy below
  ``judge.pairwise.min_accuracy``;
- ``sees``: none of the above.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import cohen_kappa_score, roc_auc_score

from aloe.judging.calibration import pair_reliability, score_brier, score_reliability
from aloe.judging.labels import decide, order_p_first
from aloe.stats import bootstrap, percentile_ci

MIN_CLUSTERS = 12  # below this many profiles, intervals are too wide to rate a judge
CONSTANT_SHARE = 0.9  # a 1-5 judge giving one score to this share of replies is blind
UNREADABLE_SHARE = 0.5  # a judge whose answers on planted pairs are this often unread is unreadable


def planted_labels(pairs: list, min_margin: float) -> dict[str, list]:
    """Every probe of every judged planted pair read by the label rule's evidence (policy
    ``average``, whatever the trees' disagreement policy, so the check measures the judge and
    not the policy): probe name -> one :class:`Label` per pair (subject won, tie, lost)."""
    return (
        {
            probe: [decide(*p.readings(probe), policy="average", min_margin=min_margin) for p in pairs]
            for probe in pairs[0].verdicts
        }
        if pairs
        else {}
    )


def pair_card(pairs: list, labels: dict[str, list], min_accuracy: float, n_boot: int, seed: int) -> dict:
    """The pairwise judge's figures from judged planted pairs (:class:`aloe.judge_check.planted.PlantedPair`)
    and their :func:`planted_labels`."""
    if not pairs:
        return {"n": 0, "clusters": 0, "status": "underpowered", "concerns": [], "missing_reasons": {}}
    clusters = [p.profile_id for p in pairs]
    orders = [p.readings("planted") for p in pairs]
    planted = labels["planted"]
    unreadable = np.array([[o.verdict is None for o in pair] for pair in orders])
    said_first = np.array([[o.verdict == "first" for o in pair] for pair in orders])
    p_first = np.array([[np.nan if (q := order_p_first(o)) is None else q for o in pair] for pair in orders])

    def rate(values) -> dict:
        return mean_with_ci(np.asarray(values, dtype=float), clusters, n_boot, seed)

    def first_rate(rows: np.ndarray) -> float | None:
        said = ~unreadable[rows]
        return float(said_first[rows][said].mean()) if said.any() else None

    card = {
        "n": len(pairs),
        "clusters": len(set(clusters)),
        "accuracy": rate(credit(planted)),
        "accuracy_similar": rate(credit(labels["similar"])),
        "consistency": rate([lab.source == "agree" for lab in planted]),
        "first_position_rate": {
            "value": _round(first_rate(np.arange(len(pairs)))),
            "ci95": percentile_ci(bootstrap(first_rate, clusters, n_boot, seed)),
            "n": int((~unreadable).sum()),
        },
        "position_shift": rate(p_first.mean(axis=1) - 0.5),
        "tie_rate": rate([lab.subject_won is None for lab in planted]),
        "unreadable_rate": rate(unreadable.mean(axis=1)),
        "brier": rate([np.nan if lab.p_subject is None else (1.0 - lab.p_subject) ** 2 for lab in planted]),
        "reliability": pair_reliability(p_first.ravel(), np.tile([1.0, 0.0], len(pairs))),
        "prefers_longer": rate([np.nan if lab.p_subject is None else lab.p_subject for lab in labels["length"]]),
        "persona_flip_rate": rate(flips(planted, labels["swapped"])),
        "retest_agreement": rate(same_verdicts(orders, [p.readings("retest") for p in pairs])),
        "verdict_methods": dict(Counter(o.method for pair in orders for o in pair)),
        "missing_reasons": reasons(o for pair in orders for o in pair),
    }
    acc = card["accuracy"]
    if unreadable.mean() >= UNREADABLE_SHARE:
        card["status"] = "unreadable"
    elif card["clusters"] < MIN_CLUSTERS or acc["ci95"] is None:
        card["status"] = "underpowered"
    elif acc["ci95"][0] <= 0.5 or acc["value"] < min_accuracy:
        card["status"] = "weak"
    else:
        card["status"] = "sees"
    card["concerns"] = pair_concerns(card)
    return card


def reasons(readings) -> dict[str, int]:
    """How often each reason left an answer unread (verdict or score readings)."""
    return dict(Counter(r.reason for r in readings if r.reason))


def credit(labels: list) -> list[float]:
    """Accuracy's credit per pair: 1 if the subject (the matched reply) won, 0 if it lost, half a tie."""
    return [0.5 if lab.subject_won is None else float(lab.subject_won) for lab in labels]


def flips(own: list, swapped: list) -> list[float]:
    """Per pair: 1 where the winner changes when the judge is told the contrast persona instead of
    the pair's own, 0 where it stays, NaN where either is a tie. A judge that personalises flips
    (the mismatched reply was written for the contrast); one that rates general quality does not."""
    return [
        np.nan if a.subject_won is None or b.subject_won is None else float(a.subject_won != b.subject_won)
        for a, b in zip(own, swapped, strict=True)
    ]


def same_verdicts(first: list, again: list) -> list[float]:
    """Per pair: the share of its two orders whose verdict is the same when asked again on new
    seeds (NaN where an order was unreadable either time)."""
    out = []
    for pair, repeat in zip(first, again, strict=True):
        both = [(a.verdict, b.verdict) for a, b in zip(pair, repeat, strict=True) if a.verdict and b.verdict]
        out.append(np.mean([a == b for a, b in both]) if both else np.nan)
    return out


LONGER_BAR = 0.7  # AlpacaEval's bar for an evaluator's P(prefer longer); humans: 0.64


def pair_concerns(card: dict) -> list[str]:
    """What the card's figures say beyond its status, in words a reader acts on."""
    out = []
    if (v := card["prefers_longer"]["value"]) is not None and v >= LONGER_BAR:
        out.append(f"prefers the longer of two otherwise identical replies ({v}; AlpacaEval's bar < {LONGER_BAR})")
    if (v := card["persona_flip_rate"]["value"]) is not None and v < 0.5:
        out.append(f"persona-insensitive: {v} of its winners flip when told another persona")
    if card["persona_flip_rate"]["n"] == 0:
        out.append("persona sensitivity unknown: no pair had a winner under both personas")
    if (v := card["retest_agreement"]["value"]) is not None and v < 0.9:
        out.append(f"unstable: {v} of its verdicts repeat on new seeds")
    return out


def score_card(pairs: list, n_boot: int, seed: int) -> dict:
    """The 1-5 judge's figures from planted pairs where both replies were scored."""
    scored = [p for p in pairs if p.scores["matched"].score is not None and p.scores["mismatched"].score is not None]
    every = [s for p in pairs for s in p.scores.values()]
    methods = Counter(s.method for s in every)
    unread = methods["missing"] / len(every) if every else 0.0
    if not scored:  # nothing asked: nothing known; never a readable pair: no number can come from it
        status = "unreadable" if every and unread >= UNREADABLE_SHARE else "underpowered"
        return {"n": 0, "clusters": 0, "status": status, "methods": dict(methods), "missing_reasons": reasons(every)}
    clusters = [p.profile_id for p in scored]

    def scores(key: str) -> np.ndarray:
        return np.array([np.nan if (s := p.scores[key].score) is None else s for p in scored])

    matched, mismatched = scores("matched"), scores("mismatched")
    padded, swapped = scores("padded"), scores("matched_swapped")

    def auroc(rows: np.ndarray) -> float:
        truth = [1] * len(rows) + [0] * len(rows)
        return float(roc_auc_score(truth, np.concatenate([matched[rows], mismatched[rows]])))

    values = np.concatenate([matched, mismatched])
    lengths = np.array([len(p.reply(tag).split()) for tag in ("matched", "mismatched") for p in scored])
    counts = Counter(int(round(v)) for v in values)
    shares = np.array(list(counts.values())) / len(values)
    first = np.concatenate([matched, mismatched])
    again = np.concatenate([scores("matched_retest"), scores("mismatched_retest")])
    card = {
        "n": len(scored),
        "clusters": len(set(clusters)),
        "gap": mean_with_ci(matched - mismatched, clusters, n_boot, seed),
        "gap_similar": mean_with_ci(matched - scores("similar"), clusters, n_boot, seed),
        "auroc": {
            "value": _round(auroc(np.arange(len(scored)))),
            "ci95": percentile_ci(bootstrap(auroc, clusters, n_boot, seed)),
            "n": len(scored),
        },
        "distribution": {str(k): counts[k] for k in sorted(counts)},
        "most_common_share": _round(float(shares.max())),
        "entropy_bits": _round(float(-(shares * np.log2(shares)).sum()) + 0.0),  # + 0.0: no "-0.0"
        "length_spearman": _round(spearman(values, lengths)),  # None where scores or lengths are constant
        "retest_kappa": retest_kappa(first, again),
        "prefers_longer": mean_with_ci(higher(padded, matched), clusters, n_boot, seed),
        "persona_flip_gap": mean_with_ci(matched - swapped, clusters, n_boot, seed),
        "brier": mean_with_ci(score_brier(matched, mismatched), clusters, n_boot, seed),
        "reliability": score_reliability(matched, mismatched),
        "logprobs_share": _round(methods["logprobs"] / len(every)),
        "methods": dict(methods),
        "missing_reasons": reasons(every),
    }
    gap_ci = card["gap"]["ci95"]
    no_gap = gap_ci is not None and gap_ci[0] <= 0
    if unread >= UNREADABLE_SHARE:
        card["status"] = "unreadable"
    elif card["most_common_share"] >= CONSTANT_SHARE and (no_gap or gap_ci is None):
        card["status"] = "blind"  # (nearly) one score and nothing between matched and mismatched
    elif card["clusters"] < MIN_CLUSTERS or gap_ci is None:
        card["status"] = "underpowered"
    elif no_gap:
        card["status"] = "blind"
    else:
        card["status"] = "sees"
    card["concerns"] = score_concerns(card)
    return card


def higher(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per pair: 1 where ``a`` scored higher than ``b``, 0 lower, 0.5 equal, NaN where either is missing."""
    return np.where(np.isnan(a) | np.isnan(b), np.nan, 0.5 + 0.5 * np.sign(a - b))


def score_concerns(card: dict) -> list[str]:
    """The 1-5 card's figures in words, where they cross a bar (as :func:`pair_concerns`)."""
    out = []
    if (v := card["prefers_longer"]["value"]) is not None and v >= LONGER_BAR:
        out.append(f"scores the longer of two otherwise identical replies higher ({v}; bar < {LONGER_BAR})")
    flip = card["persona_flip_gap"]
    if flip["ci95"] is not None and flip["ci95"][0] <= 0:
        out.append(f"persona-insensitive: told another persona, the same reply scores {flip['value']} lower")
    if flip["n"] == 0:
        out.append("persona sensitivity unknown: no reply was scored under both personas")
    return out


def retest_kappa(first: np.ndarray, again: np.ndarray) -> dict:
    """Quadratic-weighted kappa of the rounded scores against the same replies scored again on
    new seeds, with its count. None only where one score is given on both sides (kappa is 0/0
    there); a judge constant on one side only gets its kappa (0: the scores do not repeat).
    Scores off the 1-5 scale (``judge.scoring.read: int`` keeps them) count as their own values."""
    both = ~np.isnan(first) & ~np.isnan(again)
    a, b = np.rint(first[both]).astype(int), np.rint(again[both]).astype(int)
    if len(a) < 2 or len(set(a) | set(b)) < 2:
        return {"value": None, "n": int(both.sum())}
    scale = sorted(set(range(1, 6)) | set(a) | set(b))  # weights by value: 1 against 5 is the worst miss
    return {
        "value": _round(float(cohen_kappa_score(a, b, labels=scale, weights="quadratic")) + 0.0),
        "n": int(both.sum()),
    }


def blind_reason(card: dict) -> str:
    """Why a 1-5 judge's card says ``blind`` or ``unreadable``, in words."""
    if card["status"] == "unreadable":
        asked = sum(card["methods"].values())
        why = ", ".join(f"{k} {v}" for k, v in sorted(card["missing_reasons"].items(), key=lambda kv: -kv[1]))
        return f"{card['methods'].get('missing', 0)} of its {asked} answers on planted pairs gave no score ({why})"
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
