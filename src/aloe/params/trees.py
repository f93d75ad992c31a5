"""The sections of the judge check, the trees and the pairs."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from aloe.params.base import Decoding, PositiveInt, Probability, Strict, Temperature, doc


class RoleSettings(Strict):
    user: Temperature = doc(0.8, "the simulator")
    inducer: Temperature = doc(0.2, "the persona inducer")
    responder: Temperature = doc(0.7, "both responders")
    judge: Temperature = doc(0.0, "the pairwise judge")


class RoleTokens(Strict):
    user: PositiveInt = doc(48, "the simulator")
    inducer: PositiveInt = doc(64, "the persona inducer")
    responder: PositiveInt = doc(64, "both responders")
    judge: PositiveInt = doc(8, "the pairwise judge")


class TreesParams(Strict):
    personas: PositiveInt | None = doc(10, "the first N training personas get a tree; null = all")
    turns: int = doc(3, "turns per tree (paper: 10)", ge=1, le=50)
    min_turns: PositiveInt = doc(1, "a tree cut short is kept if it has this many turns")
    max_attempts: PositiveInt = doc(3, "asks for an unusable output (re-asks: new seed)")
    retry_temperature: float = doc(0.7, "a re-ask of a greedy role samples at this temperature", gt=0.0, le=2.0)
    judge_disagreement: Literal["average", "tie", "hinted"] = doc(
        "average",
        "when the two orders disagree: `average` (label by P(hinted preferred) beyond "
        "`judge_margin`), `tie`, or `hinted` (the hinted reply wins)",
    )
    judge_margin: float = doc(0.1, "minimum abs(P(hinted preferred) - 0.5) for `average` to label", ge=0.0, le=0.5)
    judge_orders: Literal["both", "hinted_first"] = doc(
        "both", "`both` orders, or `hinted_first` only (the released code: position bias stays in the labels)"
    )
    verdict_read: Literal["parsed", "exact_first"] = doc(
        "parsed", "`parsed` (our reader), or `exact_first` (the released code: any answer but exactly `first` = second)"
    )
    judge_min_mass: Probability = doc(0.5, "verdict-token probabilities count only if the verdicts hold this much")
    judge_logprobs: bool = doc(True, "ask for log-probabilities (used where the backend returns them)")
    on_weak_judge: Literal["warn", "fail"] = doc("warn", "what a weak judge check does to `trees`")
    min_judge_accuracy: Probability = doc(0.6, "weak: planted-pair accuracy below this, or its interval reaching 0.5")
    temperature: RoleSettings = RoleSettings()
    max_tokens: RoleTokens = RoleTokens()

    def decoding(self, kind: str) -> Decoding:
        """How the tree role ``kind`` (user, inducer, responder, judge) is asked."""
        return Decoding(
            temperature=getattr(self.temperature, kind),
            max_tokens=getattr(self.max_tokens, kind),
            max_attempts=self.max_attempts,
            retry_temperature=self.retry_temperature,
            top_logprobs=20 if kind == "judge" and self.judge_logprobs else 0,
        )

    @model_validator(mode="after")
    def _min_le_turns(self) -> TreesParams:
        if self.min_turns > self.turns:
            raise ValueError(f"min_turns ({self.min_turns}) must be <= turns ({self.turns})")
        return self


class JudgeCheckParams(Strict):
    pairs: int = doc(
        16, "planted pairs: N training personas, one profile at a time (>= 12 profiles to rate a judge)", ge=2
    )
    bootstrap: int = doc(1000, "cluster-bootstrap resamples for the intervals", ge=0)


class PairsParams(Strict):
    conversations: str | None = doc(None, "a paper-format `conversations.jsonl` instead of our trees")
    min_margin: float = doc(0.0, "drop labels with a smaller margin (paper data is never dropped)", ge=0.0, le=0.5)
    repeat_first_user: bool = doc(
        False, "the released SFT text's bug: every user turn of an SFT prompt is the conversation's first message"
    )
    rejected_one_character: bool = doc(
        False, "the released DPO code's bug: `random.choice` on the rejected string keeps one (seeded) character"
    )
    validation_fraction: float = doc(0.15, "share of conversations held out for validation loss", ge=0.0, lt=1.0)
