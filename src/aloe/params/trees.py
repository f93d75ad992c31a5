"""The sections of the judge check, the trees and the pairs (both judges: :mod:`aloe.params.judge`)."""

from __future__ import annotations

from pydantic import model_validator

from aloe.params.base import PositiveInt, RoleSection, Strict, Temperature, doc


class RoleSettings(Strict):
    user: Temperature = doc(0.8, "the simulator")
    inducer: Temperature = doc(0.2, "the persona inducer")
    responder: Temperature = doc(0.7, "both responders")


class RoleTokens(Strict):
    user: PositiveInt = doc(48, "the simulator")
    inducer: PositiveInt = doc(64, "the persona inducer")
    responder: PositiveInt = doc(64, "both responders")


class TreesParams(RoleSection):
    personas: PositiveInt | None = doc(10, "the first N training personas get a tree; null = all")
    turns: int = doc(3, "turns per tree (paper: 10)", ge=1, le=50)
    min_turns: PositiveInt = doc(1, "a tree cut short is kept if it has this many turns")
    max_attempts: PositiveInt = doc(3, "asks for an unusable output (re-asks: new seed)")
    retry_temperature: float = doc(0.7, "a re-ask of a greedy role samples at this temperature", gt=0.0, le=2.0)
    temperature: RoleSettings = RoleSettings()
    max_tokens: RoleTokens = RoleTokens()

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
