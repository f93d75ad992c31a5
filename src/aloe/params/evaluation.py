"""The benchmark's section: examples, turns, the simulator's and the model's decoding, variants
(the 1-5 judge: :mod:`aloe.params.judge`)."""

from __future__ import annotations

from pydantic import model_validator

from aloe.params.base import PositiveInt, RoleSection, Strict, Temperature, doc
from aloe.params.personas import PersonaFiles


class EvalVariant(Strict):
    """One evaluated model: a local model dir, or a backend from llm.backends."""

    model: str | None = doc(None, "a model dir (models/sft) served by the transformers backend")
    backend: str | None = doc(None, "a name in llm.backends (an API or vLLM model)")
    track: str = doc(..., "what DVC tracks for this variant: the model dir, or params.yaml")

    @model_validator(mode="after")
    def _one_source(self) -> EvalVariant:
        if (self.model is None) == (self.backend is None):
            raise ValueError("give exactly one of model (a dir) or backend (a name in llm.backends)")
        return self


class EvalRoleFloats(Strict):
    user: Temperature = doc(0.8, "the simulator")
    model: Temperature = doc(0.7, "the evaluated model")


class EvalRoleTokens(Strict):
    user: PositiveInt = doc(48, "the simulator")
    model: PositiveInt = doc(64, "the evaluated model")


class EvalParams(RoleSection):
    paper_files: PersonaFiles = doc(
        PersonaFiles(), "the paper's eval files (all profiles x first 5 personalities) instead of our split"
    )
    examples: PositiveInt | None = doc(
        6, "a seeded sample spread over profiles, the same for every variant; null = all"
    )
    turns: int = doc(3, "turns per dialogue (paper: 10)", ge=1, le=50)
    max_attempts: PositiveInt = doc(3, "asks for unusable output (re-asks: new seed)")
    retry_temperature: float = doc(0.7, "a re-ask of a greedy role samples at this temperature", gt=0.0, le=2.0)
    bootstrap: int = doc(1000, "cluster-bootstrap resamples for intervals and paired comparisons", ge=0)
    batch_size: PositiveInt = doc(32, "batch of a local evaluated model")
    temperature: EvalRoleFloats = EvalRoleFloats()
    max_tokens: EvalRoleTokens = EvalRoleTokens()
    variants: dict[str, EvalVariant] = doc(
        {v: EvalVariant(model=f"models/{v}", track=f"models/{v}") for v in ("base", "sft", "dpo", "grpo")},
        "one `aloe_eval` stage each: `{model: DIR, track: DIR}` or `{backend: NAME, track: params.yaml}`",
    )
