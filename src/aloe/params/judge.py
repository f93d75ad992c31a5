"""The ``judge`` section: both judges, their decoding, their readers, the label rule and the gates.

One section, read by the judge check, the trees and the benchmark, so the report
card measures each judge exactly as the labels and the benchmark read it. Which
backend plays the judge stays in ``llm.roles.judge``, with every other role.
"""

from __future__ import annotations

from typing import Literal

from aloe.params.base import Decoding, PositiveInt, Probability, Strict, Temperature, doc


class PairwiseJudgeParams(Strict):
    """Which of two replies the persona prefers (the trees' labels, the judge check)."""

    temperature: Temperature = doc(0.0, "sampling temperature")
    max_tokens: PositiveInt = doc(8, "tokens per answer")
    logprobs: bool = doc(True, "ask for the verdict token's log-probabilities (used where the backend returns them)")
    read: Literal["parsed", "exact_first"] = doc(
        "parsed", "`parsed` (our reader), or `exact_first` (the released code: any answer but exactly `first` = second)"
    )
    min_mass: Probability = doc(0.5, "verdict-token probabilities count only if the verdicts hold this much")
    orders: Literal["both", "hinted_first"] = doc(
        "both", "`both` orders, or `hinted_first` only (the released code: position bias stays in the labels)"
    )
    disagreement: Literal["average", "tie", "hinted"] = doc(
        "average",
        "when the two orders disagree: `average` (label by P(hinted preferred) beyond `margin`), `tie`, "
        "or `hinted` (the hinted reply wins)",
    )
    margin: float = doc(0.1, "minimum abs(P(hinted preferred) - 0.5) for `average` to label", ge=0.0, le=0.5)
    min_accuracy: Probability = doc(0.6, "weak: planted-pair accuracy below this, or its interval reaching 0.5")
    on_weak: Literal["warn", "fail"] = doc("warn", "what a weak pairwise judge does to `trees`")


class ScoreJudgeParams(Strict):
    """How well one reply suits the persona, 1-5 (the benchmark, the judge check)."""

    temperature: Temperature = doc(0.0, "sampling temperature")
    max_tokens: PositiveInt = doc(8, "tokens per answer")
    logprobs: bool = doc(True, "ask for the digit token's log-probabilities (used where the backend returns them)")
    read: Literal["parsed", "int"] = doc(
        "parsed",
        "`parsed` (our reader, log-probabilities, the 'Score:' prefill), or `int` (the released code's `int()`)",
    )
    min_mass: Probability = doc(0.5, "the digit token's probabilities count only if digits hold this much")
    on_blind: Literal["warn", "fail"] = doc(
        "warn", "what a 1-5 judge that metrics/judge.json calls blind does to `aloe_eval`, `aloe_compare`, `aloe eval`"
    )


class JudgeParams(Strict):
    max_attempts: PositiveInt = doc(3, "asks for an unreadable verdict or score (re-asks: new seed)")
    retry_temperature: float = doc(0.7, "a re-ask of a greedy judge samples at this temperature", gt=0.0, le=2.0)
    pairwise: PairwiseJudgeParams = PairwiseJudgeParams()
    scoring: ScoreJudgeParams = ScoreJudgeParams()

    def decoding(self, judge: Literal["pairwise", "scoring"]) -> Decoding:
        """How that judge is asked (every ask and re-ask of it)."""
        cfg = getattr(self, judge)
        return Decoding(
            temperature=cfg.temperature,
            max_tokens=cfg.max_tokens,
            max_attempts=self.max_attempts,
            retry_temperature=self.retry_temperature,
            top_logprobs=20 if cfg.logprobs else 0,
        )
