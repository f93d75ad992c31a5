"""What a run found, in one screen: the benchmark of every variant (AL per turn, AL_mean and
IR with their intervals), each paired difference with what limits it in words, the judge
card's verdicts, and where the plots are. ``aloe_compare``, the last stage, prints it, so a
``dvc repro`` ends with it. The variant figures are recomputed from the same records and
seed as ``metrics/aloe/<variant>.json``, so they are those files' figures."""

from __future__ import annotations

from aloe.evaluation.metrics import aloe_metrics
from aloe.evaluation.records import DialogueRecord, score_table
from aloe.judging.card import MIN_CLUSTERS
from aloe.judging.judge_card import JudgeCard


def interval(value: float | None, ci: list[float] | None, fmt: str = ".2f") -> str:
    """A figure and its interval, "0.53 [0.44, 0.62]" (``fmt`` "+.2f" for a difference);
    "-" where there is no value."""
    if value is None:
        return "-"
    return f"{value:{fmt}}" + (f" [{ci[0]:{fmt}}, {ci[1]:{fmt}}]" if ci else "")


def variant_table(runs: dict[str, list[DialogueRecord]], turns: int, n_boot: int, seed: int) -> list[str]:
    lines = [f"  {'variant':<8} {'AL per turn':<{5 * turns}}  {'AL_mean [95% CI]':<20}  IR [95% CI]"]
    for name, records in runs.items():
        scores, asked = score_table(records, turns)
        m = aloe_metrics(scores, asked, [r.profile_id for r in records], n_boot, seed)
        per_turn = " ".join("  -  " if al is None else f"{al:.2f}" for al in m["AL"])
        lines.append(
            f"  {name:<8} {per_turn:<{5 * turns}}  {interval(m['AL_mean'], m['AL_mean_ci95']):<20}  "
            f"{interval(m['IR'], m['IR_ci95'], '+.3f')}"
        )
    return lines


def limits(r: dict, judge_blind: bool) -> str:
    """What stops a reader quoting a difference, in words."""
    said = ["the 1-5 judge is blind"] if judge_blind else []
    if r["underpowered"]:
        said.append(f"{r['clusters']} profiles, under {MIN_CLUSTERS}")
    return f"cannot be read: {'; '.join(said)}" if said else "nothing flagged"


def comparison_lines(report: dict[str, dict], judge_blind: bool) -> list[str]:
    lines = []
    for pair, r in report.items():
        held = r["style_controlled"]
        lines.append(
            f"  {pair:<10} {interval(r['AL_mean'], r['AL_mean_ci95'], '+.2f'):<22} "
            f"style held fixed {interval(held['AL_mean'], held['AL_mean_ci95'], '+.2f'):<22} {limits(r, judge_blind)}"
        )
    return lines


def judge_lines(card: JudgeCard | None, path: str) -> list[str]:
    if card is None:
        return [f"  {path} measured another judge, or none: nothing says whether this one can tell replies apart"]
    gap = card.scoring.get("gap") or {}
    return [
        f"  pairwise: {card.pairwise['status']} (accuracy on planted pairs "
        f"{interval(card.accuracy, card.accuracy_ci95)}; 0.50 is chance)",
        f"  1-5:      {card.scoring['status']} (score gap, planted reply minus the other "
        f"{interval(gap.get('value'), gap.get('ci95'), '+.2f')}; 0 is blind)",
    ]


def findings(
    runs: dict[str, list[DialogueRecord]],
    report: dict[str, dict],
    card: JudgeCard | None,
    judge_blind: bool,
    judge_path: str,
    turns: int,
    n_boot: int,
    seed: int,
) -> str:
    first = next(iter(runs.values()))
    n, profiles = len(first), len({r.profile_id for r in first})
    return "\n".join(
        [
            f"ALOE benchmark: {n} dialogues in {profiles} profiles, each reply scored 1-5 by the judge",
            *variant_table(runs, turns, n_boot, seed),
            "Paired differences A - B on the same dialogues, 95% intervals over profiles:",
            *comparison_lines(report, judge_blind),
            f"The judge check ({judge_path}):",
            *judge_lines(card, judge_path),
            "Plots: `dvc plots show`, then open dvc_plots/index.html; as PNGs: `python scripts/render_plots.py`.",
        ]
    )
