"""The judge check's report: both judges' cards (:mod:`aloe.judging.card`), the headline
keys the gates read, and the label-noise estimate rDPO trains with."""

from __future__ import annotations

import numpy as np

from aloe.judge_check.planted import PlantedPair
from aloe.judging.card import mean_with_ci, pair_card, planted_labels, score_card
from aloe.judging.judge_card import LabelNoise
from aloe.judging.labels import decide
from aloe.params import PairwiseJudgeParams, Params
from aloe.roles.verdicts import OrderReading


def judge_metrics(records: list[PlantedPair], params: Params, judge: str) -> dict:
    """metrics/judge.json: a report card per judge (:mod:`aloe.judging.card`) under ``pairwise``
    and ``scoring``, the identity of the judge measured (``judge``: a card applies only to that
    backend), and the headline keys the trees gate and older readers use."""
    asked = [r for r in records if r.judged]
    n_boot, seed, rule = params.judge_check.bootstrap, params.seed, params.judge.pairwise
    labels = planted_labels(asked, rule.margin)
    pairwise = pair_card(asked, labels, rule.min_accuracy, n_boot, seed)
    scoring = score_card(asked, n_boot, seed)
    labelled = [lab for lab in labels.get("planted", []) if lab.subject_won is not None]
    accuracy = pairwise.get("accuracy", {})
    return {
        "judge": judge,
        "n": len(asked),
        "dropped": len(records) - len(asked),
        "clusters": pairwise["clusters"],
        "accuracy": accuracy.get("value"),
        "accuracy_ci95": accuracy.get("ci95"),
        "above_chance": bool(accuracy.get("ci95") and accuracy["ci95"][0] > 0.5),
        "label_rate": round(len(labelled) / len(asked), 4) if asked else None,
        "accuracy_labelled": round(float(np.mean([lab.subject_won for lab in labelled])), 4) if labelled else None,
        "position_bias": pairwise.get("first_position_rate", {}).get("value"),
        "consistency": pairwise.get("consistency", {}).get("value"),
        "score_gap": scoring.get("gap", {}).get("value"),
        "score_gap_ci95": scoring.get("gap", {}).get("ci95"),
        "score_n": scoring["n"],
        "pairwise": pairwise,
        "scoring": scoring,
        "label_noise": label_noise(asked, rule, n_boot, seed),
    }


def label_noise(pairs: list[PlantedPair], rule: PairwiseJudgeParams, n_boot: int, seed: int) -> dict:
    """How often a label made by the trees' own rule picks the mismatched reply of a planted pair:
    the flip rate ``dpo.label_noise: measured`` trains with (rDPO). Ties are no labels and are left
    out. A planted pair is easier than a tree's hinted and plain replies, which differ less, so on
    trees the rate is likely higher: read it as a lower bound."""
    flipped = [np.mean(f) if (f := label_flips(*p.readings("planted"), rule)) else np.nan for p in pairs]
    rate = mean_with_ci(np.array(flipped), [p.profile_id for p in pairs], n_boot, seed) if pairs else {"n": 0}
    rule_keys = {k: getattr(rule, k) for k in ("orders", "disagreement", "margin")}
    return LabelNoise(rate.get("value"), rate.get("ci95"), rate["n"], len(pairs), rule_keys).to_json()


def label_flips(subject_first: OrderReading, subject_second: OrderReading, rule: PairwiseJudgeParams) -> list[float]:
    """One planted pair's flips under the trees' rule (none: no label). On a tree nobody knows
    whether the hinted reply is the better one, so what the rule settles by position rather than
    by the judge is scored as the tree would get it, not as the planted pair's order would:
    under ``hinted_first`` the one order's verdict in either position (a judge always saying
    "first" is right in one, wrong in the other); under ``disagreement: hinted`` a
    disagreement settled for the hinted reply counts half a flip."""
    if rule.orders == "hinted_first":
        orders = ((subject_first, "second"), (subject_second, "first"))  # (reading, the mismatched reply's verdict)
        return [float(r.verdict == wrong) for r, wrong in orders if r.verdict]
    label = decide(subject_first, subject_second, rule.disagreement, rule.margin)
    if label.subject_won is None:
        return []
    return [0.5 if label.source == "hinted" else float(not label.subject_won)]
