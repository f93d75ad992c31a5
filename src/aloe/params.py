"""Typed, validated ``params.yaml``.

Every stage loads the *whole* file through :func:`load_params` before doing any
work, so a typo anywhere (an unknown key, a wrong type, a value out of range)
stops the pipeline at once with a message that names the key path and what is
allowed. Models are strict (``extra="forbid"``): silence about an unknown key
is how a sweep quietly runs the wrong experiment.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from aloe.errors import AloeError

ROLES = ("persona_writer", "user", "inducer", "responder", "judge")
Role = Literal["persona_writer", "user", "inducer", "responder", "judge"]
PositiveInt = Annotated[int, Field(gt=0)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BaseModelParams(Strict):
    """Where ``models/base`` comes from."""

    source: str = Field(
        "embedded",
        description="'embedded' (SmolLM2-135M-Instruct from a pinned PyPI wheel), a hub id, or a local dir",
    )
    revision: str | None = Field(None, description="hub revision when source is a hub id")


class TransformersBackendParams(Strict):
    type: Literal["transformers"]
    model: str = Field("models/base", description="local model dir (or hub id when online)")
    revision: str | None = Field(None, description="hub revision when model is a hub id")
    batch_size: PositiveInt = 16
    device: Literal["auto", "cpu", "cuda"] = "auto"
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    repetition_penalty: Annotated[float, Field(ge=1.0, le=2.0)] = 1.0


class OpenAIBackendParams(Strict):
    type: Literal["openai"]
    model: str
    base_url: str | None = Field(None, description="None means api.openai.com")
    api_key_env: str = Field("OPENAI_API_KEY", description="NAME of the env var holding the key")
    concurrency: Annotated[int, Field(gt=0, le=1024)] = 16
    timeout_s: Annotated[float, Field(gt=0)] = 60.0
    max_retries: Annotated[int, Field(ge=0, le=20)] = 5

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", v):
            raise ValueError("must be the NAME of an environment variable, never the key itself")
        return v


BackendParams = Annotated[
    Union[TransformersBackendParams, OpenAIBackendParams], Field(discriminator="type")
]


class LLMParams(Strict):
    backends: dict[str, BackendParams] = Field(
        default_factory=lambda: {"local": TransformersBackendParams(type="transformers")}
    )
    roles: dict[Role, str] = Field(default_factory=lambda: {r: "local" for r in ROLES})

    @model_validator(mode="after")
    def _roles_resolve(self) -> "LLMParams":
        for role in ROLES:
            if role not in self.roles:
                raise ValueError(f"roles.{role} is missing (one of: {sorted(self.backends)})")
        for role, backend in self.roles.items():
            if backend not in self.backends:
                raise ValueError(
                    f"roles.{role}: backend {backend!r} is not defined in llm.backends "
                    f"(defined: {sorted(self.backends)})"
                )
        return self


WordRange = Annotated[tuple[PositiveInt, PositiveInt], Field(description="[min, max] words")]


class PersonaFiles(Strict):
    profile: str | None = None
    personality: str | None = None


class PersonaGenerateParams(Strict):
    examples_per_prompt: Annotated[int, Field(ge=1, le=20)] = 3
    candidates_per_call: Annotated[int, Field(ge=1, le=50)] = 5
    calls_per_round: PositiveInt = 8
    target_size: PositiveInt = 80
    patience: PositiveInt = 2
    min_new_per_round: Annotated[int, Field(ge=0)] = 2
    max_rounds: Annotated[int, Field(ge=0)] = 2
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] = 1.0
    max_tokens: PositiveInt = 256
    novelty_threshold: Annotated[float, Field(gt=0.0, le=1.0)] = 0.6


class PersonaFilterParams(Strict):
    embedding_model: str = "all-MiniLM-L6-v2"
    threshold: Annotated[float, Field(gt=0.0, le=1.0)] = 0.6
    profile_words: WordRange = (12, 120)
    personality_words: WordRange = (5, 60)
    max_sentences: PositiveInt = 6


class PersonaSplitParams(Strict):
    eval_profiles: PositiveInt = 20
    eval_personalities: PositiveInt = 5
    train_personas: PositiveInt = 64


class PersonasParams(Strict):
    seeds: PersonaFiles = PersonaFiles(profile="data/seeds/profiles.jsonl",
                                       personality="data/seeds/personalities.jsonl")
    import_files: PersonaFiles = Field(PersonaFiles(), description="existing pools (paper format) added to the seeds")
    generate: PersonaGenerateParams = PersonaGenerateParams()
    filter: PersonaFilterParams = PersonaFilterParams()
    split: PersonaSplitParams = PersonaSplitParams()


class RoleSettings(Strict):
    user: float = 0.8
    inducer: float = 0.2
    responder: float = 0.7
    judge: float = 0.0


class RoleTokens(Strict):
    user: PositiveInt = 64
    inducer: PositiveInt = 96
    responder: PositiveInt = 80
    judge: PositiveInt = 8


class TreesParams(Strict):
    personas: PositiveInt | None = Field(16, description="first N training personas; null = all")
    turns: Annotated[int, Field(ge=1, le=50)] = 3
    min_turns: PositiveInt = 1
    max_attempts: PositiveInt = 3
    retry_temperature: Annotated[float, Field(gt=0.0, le=2.0)] = 0.7
    judge_disagreement: Literal["average", "tie", "hinted"] = "average"
    judge_margin: Annotated[float, Field(ge=0.0, le=0.5)] = 0.1
    judge_min_mass: Probability = 0.5
    judge_logprobs: bool = True
    on_weak_judge: Literal["warn", "fail"] = "warn"
    min_judge_accuracy: Probability = 0.6
    temperature: RoleSettings = RoleSettings()
    max_tokens: RoleTokens = RoleTokens()

    @model_validator(mode="after")
    def _min_le_turns(self) -> "TreesParams":
        if self.min_turns > self.turns:
            raise ValueError(f"min_turns ({self.min_turns}) must be <= turns ({self.turns})")
        return self


class PairsParams(Strict):
    conversations: str | None = Field(None, description="paper-format conversations.jsonl; null = our trees")
    min_margin: Annotated[float, Field(ge=0.0, le=0.5)] = 0.0
    validation_fraction: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.15


class LoraParams(Strict):
    enabled: bool = True  # false = full fine-tuning
    r: PositiveInt = 16
    alpha: PositiveInt = 32
    dropout: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.05
    target_modules: list[str] | Literal["all-linear"] = "all-linear"


class TrainParams(Strict):
    epochs: Annotated[float, Field(gt=0)] = 1.0
    max_steps: int = Field(-1, ge=-1, description="-1 = run the epochs")
    learning_rate: Annotated[float, Field(gt=0, lt=1)] = 2e-4
    batch_size: PositiveInt = 4
    grad_accum: PositiveInt = 1
    max_length: PositiveInt = 1024
    warmup_ratio: Annotated[float, Field(ge=0, lt=1)] = 0.0  # share of steps (transformers 5: warmup_steps < 1)
    logging_steps: PositiveInt = 1
    gradient_checkpointing: Literal["auto", "on", "off"] = "auto"  # auto = on with a GPU
    lora: LoraParams = LoraParams()


class SFTParams(TrainParams):
    pass


class DPOParams(TrainParams):
    init: Literal["sft", "base"] = "sft"
    beta: Annotated[float, Field(gt=0)] = 0.1
    loss_type: str = "sigmoid"
    learning_rate: Annotated[float, Field(gt=0, lt=1)] = 5e-5


class WandbParams(Strict):
    project: str = "aloe"
    entity: str | None = None
    mode: Literal["auto", "online", "offline", "disabled"] = "auto"  # auto = online iff WANDB_API_KEY is set


class TrainingParams(Strict):
    accelerate: Literal["single", "cpu_ddp", "ddp", "deepspeed_zero3", "fsdp"] = "single"


class EvalVariant(Strict):
    """One evaluated model: a local model dir, or a backend from llm.backends."""

    model: str | None = Field(None, description="a model dir (models/sft) served by the transformers backend")
    backend: str | None = Field(None, description="a name in llm.backends (an API or vLLM model)")
    track: str = Field(description="what DVC tracks for this variant: the model dir, or params.yaml")

    @model_validator(mode="after")
    def _one_source(self) -> "EvalVariant":
        if (self.model is None) == (self.backend is None):
            raise ValueError("give exactly one of model (a dir) or backend (a name in llm.backends)")
        return self


class EvalRoleFloats(Strict):
    user: float = 0.8
    model: float = 0.7
    judge: float = 0.0


class EvalRoleTokens(Strict):
    user: PositiveInt = 48
    model: PositiveInt = 64
    judge: PositiveInt = 8


class JudgeCheckParams(Strict):
    pairs: Annotated[int, Field(ge=2)] = 16
    bootstrap: Annotated[int, Field(ge=0)] = 1000


class EvalParams(Strict):
    paper_files: PersonaFiles = Field(PersonaFiles(), description="paper-format eval profiles/personalities")
    examples: PositiveInt | None = Field(6, description="a seeded sample stratified over profiles; null = all")
    turns: Annotated[int, Field(ge=1, le=50)] = 3
    max_attempts: PositiveInt = 3
    retry_temperature: Annotated[float, Field(gt=0.0, le=2.0)] = 0.7
    judge_min_mass: Probability = 0.5
    bootstrap: Annotated[int, Field(ge=0)] = 1000
    batch_size: PositiveInt = 32
    temperature: EvalRoleFloats = EvalRoleFloats()
    max_tokens: EvalRoleTokens = EvalRoleTokens()
    variants: dict[str, EvalVariant] = Field(default_factory=lambda: {
        v: EvalVariant(model=f"models/{v}", track=f"models/{v}") for v in ("base", "sft", "dpo")})


class Params(Strict):
    seed: int = 0
    base_model: BaseModelParams = BaseModelParams()
    llm: LLMParams = LLMParams()
    personas: PersonasParams = PersonasParams()
    trees: TreesParams = TreesParams()
    judge_check: JudgeCheckParams = JudgeCheckParams()
    pairs: PairsParams = PairsParams()
    train: TrainingParams = TrainingParams()
    wandb: WandbParams = WandbParams()
    sft: SFTParams = SFTParams()
    dpo: DPOParams = DPOParams()
    eval: EvalParams = EvalParams()

    @model_validator(mode="after")
    def _eval_backends_exist(self) -> "Params":
        for name, v in self.eval.variants.items():
            if v.backend is not None and v.backend not in self.llm.backends:
                raise ValueError(f"eval.variants.{name}.backend: {v.backend!r} is not in llm.backends "
                                 f"(defined: {sorted(self.llm.backends)})")
        return self


def load_params(path: str | os.PathLike = "params.yaml") -> Params:
    """Parse and validate the params file; raise :class:`AloeError` naming the bad key."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise AloeError(f"{path}: file not found") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise AloeError(f"{where}: not valid YAML ({getattr(e, 'problem', e)})") from None
    if not isinstance(raw, dict):
        raise AloeError(f"{path}: top level must be a mapping of sections")
    try:
        return Params.model_validate(raw)
    except ValidationError as e:
        raise AloeError(f"{path}: invalid params\n" + format_errors(e)) from None


def format_errors(error: ValidationError) -> str:
    lines = []
    for err in error.errors():
        loc = ".".join(str(p) for p in err["loc"] if not _is_union_tag(p))
        if err["type"] == "extra_forbidden":
            allowed = _allowed_keys(err["loc"][:-1])
            hint = f"; allowed here: {', '.join(allowed)}" if allowed else ""
            lines.append(f"  {loc}: unknown key{hint}")
        else:
            got = err.get("input")
            secret = "key" in loc.lower()  # never echo what may be a pasted API key
            plain = not (secret or got is None or isinstance(got, (dict, list)))
            shown = f" (got {got!r})" if plain else ""
            lines.append(f"  {loc or '<top>'}: {err['msg']}{shown}")
    return "\n".join(lines)


def _is_union_tag(part: Any) -> bool:
    """Pydantic puts the discriminator value in the error path; users never wrote it."""
    return part in ("transformers", "openai")


def _allowed_keys(parent_loc: tuple) -> list[str]:
    """Walk the schema along ``parent_loc`` to list the keys a strict model accepts."""
    model: Any = Params
    for part in parent_loc:
        if isinstance(model, type) and issubclass(model, BaseModel) and part in model.model_fields:
            model = model.model_fields[part].annotation
        elif part == "transformers":
            model = TransformersBackendParams
        elif part == "openai":
            model = OpenAIBackendParams
        elif getattr(model, "__origin__", None) is dict:
            model = model.__args__[1]
        else:
            return []
        if getattr(model, "__origin__", None) is Annotated:
            model = model.__args__[0]
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []
