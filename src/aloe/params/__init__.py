"""Typed, validated ``params.yaml``.

Every stage loads the *whole* file through :func:`load_params` before doing any
work, so a typo anywhere (an unknown key, a wrong type, a value out of range)
stops the pipeline at once with a message that names the key path and what is
allowed. Models are strict (``extra="forbid"``): silence about an unknown key
is how a sweep quietly runs the wrong experiment.

The sections live in one module each; this module holds the whole file's model,
its loading and its error messages, and names every section's class.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ValidationError, model_validator

from aloe.errors import AloeError
from aloe.params.base import Decoding, PositiveInt, Probability, Strict, Temperature, doc
from aloe.params.evaluation import EvalParams, EvalRoleFloats, EvalRoleTokens, EvalVariant
from aloe.params.judge import JudgeParams, PairwiseJudgeParams, ScoreJudgeParams
from aloe.params.models import (
    OPTIONAL_ROLES,
    ROLES,
    BackendParams,
    BaseModelParams,
    LLMParams,
    OpenAIBackendParams,
    TransformersBackendParams,
)
from aloe.params.personas import (
    IMPORT_DIR,
    ImportFile,
    PersonaFiles,
    PersonaFilterParams,
    PersonaGenerateParams,
    PersonaImports,
    PersonasParams,
    PersonaSplitParams,
)
from aloe.params.training import (
    OURS,
    DPOParams,
    GRPOParams,
    LoraParams,
    SFTParams,
    TrainingParams,
    TrainParams,
    WandbParams,
    dpo_losses,
)
from aloe.params.trees import JudgeCheckParams, PairsParams, RoleSettings, RoleTokens, TreesParams

__all__ = [
    "BackendParams",
    "BaseModelParams",
    "DPOParams",
    "GRPOParams",
    "Decoding",
    "EvalParams",
    "EvalRoleFloats",
    "EvalRoleTokens",
    "EvalVariant",
    "IMPORT_DIR",
    "ImportFile",
    "JudgeCheckParams",
    "JudgeParams",
    "LLMParams",
    "LoraParams",
    "OPTIONAL_ROLES",
    "OURS",
    "OpenAIBackendParams",
    "PairsParams",
    "PairwiseJudgeParams",
    "Params",
    "PersonaFiles",
    "PersonaFilterParams",
    "PersonaGenerateParams",
    "PersonaImports",
    "PersonaSplitParams",
    "PersonasParams",
    "PositiveInt",
    "Probability",
    "ROLES",
    "RoleSettings",
    "RoleTokens",
    "SFTParams",
    "ScoreJudgeParams",
    "Strict",
    "Temperature",
    "TrainParams",
    "TrainingParams",
    "TransformersBackendParams",
    "TreesParams",
    "WandbParams",
    "doc",
    "dpo_losses",
    "format_errors",
    "load_params",
]


class Params(Strict):
    seed: int = doc(0, "seeds every sampler, split and request")
    base_model: BaseModelParams = BaseModelParams()
    llm: LLMParams = LLMParams()
    personas: PersonasParams = PersonasParams()
    judge_check: JudgeCheckParams = JudgeCheckParams()
    judge: JudgeParams = JudgeParams()
    trees: TreesParams = TreesParams()
    pairs: PairsParams = PairsParams()
    train: TrainingParams = TrainingParams()
    wandb: WandbParams = WandbParams()
    sft: SFTParams = SFTParams()
    dpo: DPOParams = DPOParams()
    grpo: GRPOParams = GRPOParams()
    eval: EvalParams = EvalParams()

    @model_validator(mode="after")
    def _eval_backends_exist(self) -> Params:
        for name, v in self.eval.variants.items():
            if v.backend is not None and v.backend not in self.llm.backends:
                raise ValueError(
                    f"eval.variants.{name}.backend: {v.backend!r} is not in llm.backends "
                    f"(defined: {sorted(self.llm.backends)})"
                )
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
        elif err["type"] == "renamed_key":
            ctx = err["ctx"]
            lines.append(f"  {loc}.{ctx['old']}: renamed to {loc}.{ctx['new']}: {ctx['values']}")
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
