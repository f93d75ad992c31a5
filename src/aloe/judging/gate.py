"""No number from a blind judge: the gates in front of the trees and of every ALOE figure.

Trees: a pairwise judge that cannot tell planted pairs apart makes labels that mean
nothing; ``judge.pairwise.on_weak`` says whether ``trees`` warns or stops.

Benchmark: its numbers are means of the 1-5 judge's scores. If that judge cannot
tell a reply written for the persona from one written for somebody else (its report
card in metrics/judge.json says ``blind``, :mod:`aloe.judging.card`), "no difference,
p = 1.0" is the judge's blindness, not a result. So every benchmark JSON (the
``aloe_eval`` and ``aloe_compare`` stages, ``aloe eval --out``, ``aloe compare --out``)
carries ``judge_blind`` and the card it rests on, a blind judge prints one line that
says so, and ``judge.scoring.on_blind: fail`` stops before any call is paid for.

A card describes one judge: it applies only where the benchmark's judge has the
identity (backend, weights, library versions) the judge check measured. Anywhere
else both keys are null: nothing is known about that judge.
"""

from __future__ import annotations

import logging

from aloe.errors import AloeError
from aloe.judging.card import blind_reason
from aloe.judging.judge_card import JudgeCard
from aloe.params import PairwiseJudgeParams

log = logging.getLogger(__name__)


def judge_gate(card: JudgeCard | None, judge: str) -> dict:
    """``judge_blind`` (True, False, or None where unknown) and ``judge_card`` (the 1-5
    judge's card from the check, or None where the check measured another judge or none)."""
    if card is None or card.judge != judge:
        return {"judge_blind": None, "judge_card": None}
    return {"judge_blind": card.blind, "judge_card": card.scoring}


def enforce(gate: dict, on_blind: str, where: str) -> None:
    """One line where the judge is blind; an error instead under ``on_blind == 'fail'``."""
    if not gate["judge_blind"]:
        return
    message = (
        f"{where}: the 1-5 judge is blind ({blind_reason(gate['judge_card'])}, metrics/judge.json): "
        "these numbers cannot tell models apart. Point llm.roles.judge at a stronger model"
    )
    if on_blind == "fail":
        raise AloeError(message + " (or set judge.scoring.on_blind: warn to write them anyway, marked judge_blind)")
    log.warning(message)


def enforce_pairwise(card: JudgeCard | None, cfg: PairwiseJudgeParams, path: str) -> None:
    """The trees gate: a warning, or an error under ``judge.pairwise.on_weak: fail``, where the
    pairwise judge is not above chance or below ``judge.pairwise.min_accuracy`` on the planted pairs."""
    if card is None:
        raise AloeError(f"{path}: no judge check found (run the judge_check stage first)")
    if not card.weak(cfg.min_accuracy):
        return
    message = (
        f"the judge is weak: accuracy {card.accuracy} {card.accuracy_ci95} on {card.n} planted "
        f"pairs ({path}; 0.5 = chance, judge.pairwise.min_accuracy = {cfg.min_accuracy}); "
        "its labels are not evidence of a preference. Point llm.roles.judge at a stronger model"
    )
    if card.pairwise["status"] == "unreadable":
        message += f" (most of its answers gave no verdict where asked: {card.pairwise['missing_reasons']})"
    elif card.underpowered:
        message += " (the check had too few profiles to rate it: raise judge_check.pairs)"
    if cfg.on_weak == "fail":
        raise AloeError(message + " (or set judge.pairwise.on_weak: warn to build trees anyway)")
    log.warning("trees: %s", message)


def enforce_reward_judges(
    card: JudgeCard | None, judge_id: str, judged: list[str], on_blind: str, pairwise: PairwiseJudgeParams, path: str
) -> None:
    """The grpo gate: a judge reward (``judge_score``, ``judge_pairwise``) from a judge the check
    calls blind (1-5) or weak (pairwise) is noise the optimiser will still climb. An error, or a
    warning under ``grpo.on_blind_judge: warn``; nothing where no judge reward is asked for, and
    only for the judge the card measured (any other is unknown: said in one line)."""
    if not judged:
        return
    if card is None or card.judge != judge_id:
        log.warning("grpo: no judge check of %s (%s): its rewards are not known to see anything", judge_id, path)
        return
    faults = []
    if "judge_score" in judged and card.blind:
        faults.append(f"the 1-5 judge is {card.scoring['status']} ({blind_reason(card.scoring)})")
    if "judge_pairwise" in judged and card.weak(pairwise.min_accuracy):
        faults.append(f"the pairwise judge is weak (accuracy {card.accuracy} {card.accuracy_ci95}, 0.5 = chance)")
    if not faults:
        return
    message = (
        f"grpo: {'; '.join(faults)} ({path}): a reward from it is noise the policy would learn to climb. "
        "Point llm.roles.judge at a stronger model"
    )
    if on_blind == "fail":
        raise AloeError(message + " (or set grpo.on_blind_judge: warn to train on it anyway)")
    log.warning(message)
