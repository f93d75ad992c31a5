"""A paired comparison of two benchmark runs (``aloe_compare``, ``aloe compare``): the raw
difference in AL_mean and IR (:func:`aloe.evaluation.metrics.compare`), the same AL_mean
difference with reply length and markdown held fixed (:mod:`aloe.evaluation.style`), and
whether there are enough profiles to read either: ``underpowered`` below
:data:`aloe.judging.card.MIN_CLUSTERS`, the count the judge's card asks for too."""

from __future__ import annotations

from aloe.evaluation.metrics import compare
from aloe.evaluation.records import DialogueRecord, aligned_runs, reply_table, score_table
from aloe.evaluation.style import style_controlled
from aloe.judging.card import MIN_CLUSTERS


def paired_comparison(
    a: list[DialogueRecord], b: list[DialogueRecord], names: tuple[str, str], n_boot: int, seed: int
) -> dict:
    a, b, turns = aligned_runs(a, b, names)
    scores_a, scores_b = score_table(a, turns)[0], score_table(b, turns)[0]
    clusters = [r.profile_id for r in a]
    out = compare(scores_a, scores_b, clusters, n_boot, seed)
    replies = reply_table(a, turns), reply_table(b, turns)
    return {
        **out,
        "underpowered": out["clusters"] < MIN_CLUSTERS,
        "style_controlled": style_controlled(scores_a, scores_b, *replies, clusters, n_boot, seed),
    }


def summary(name: str, r: dict) -> str:
    """One line a reader can quote, with what limits it in words."""
    sc = r["style_controlled"]
    held = (
        f"{sc['AL_mean']} {sc['AL_mean_ci95']} with length and markdown held fixed"
        if sc["AL_mean"] is not None
        else f"no style-controlled difference ({sc['reason']})"
    )
    power = f"; too few profiles to read (underpowered, < {MIN_CLUSTERS})" if r["underpowered"] else ""
    return (
        f"{name}: dAL_mean {r['AL_mean']} {r['AL_mean_ci95']} (p {r['AL_mean_p']}), {held}; "
        f"dIR {r['IR']} {r['IR_ci95']}; {r['n']} examples in {r['clusters']} profiles{power}"
    )
