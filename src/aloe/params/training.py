"""The training sections: trl's own config fields passed through, checked against the installed trl."""

from __future__ import annotations

import ast
from importlib.util import find_spec
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from aloe.params.base import PositiveInt, Strict, doc


class LoraParams(Strict):
    enabled: bool = doc(True, "false = full fine-tuning")
    r: PositiveInt = doc(16, "LoRA rank")
    alpha: PositiveInt = doc(32, "LoRA alpha")
    dropout: float = doc(0.05, "LoRA dropout", ge=0.0, lt=1.0)
    target_modules: list[str] | Literal["all-linear"] = doc("all-linear", "modules to adapt")


# our keys; every other training key is the trainer's
OURS = frozenset(
    {
        "lora",
        "recompute_activations",
        "init",
        "label_noise",
        "personas",
        "episodes",
        "turns",
        "rewards",
        "on_blind_judge",
    }
)
# Our training keys that once had another name. The old name of one that shared a trainer
# field's name would pass through to the trainer, so it is refused with its new name.
RENAMED = {"gradient_checkpointing": "recompute_activations"}


class TrainParams(BaseModel):
    """Trainer arguments under the trainer's own names, passed through as they are
    (``SFTConfig(**...)``, ``DPOConfig(**...)``, as the alignment-handbook recipes do):
    the common ones are declared here with our defaults, any other field of the trl config
    may be added and is checked against the installed trl. Our own keys: ``lora``,
    ``recompute_activations`` (and ``dpo.init``), named unlike any trainer field."""

    model_config = ConfigDict(extra="allow", frozen=True)
    trl_config: ClassVar[str] = ""

    num_train_epochs: float = doc(1.0, "epochs", gt=0)
    max_steps: int = doc(-1, "-1 = run the epochs", ge=-1)
    learning_rate: float = doc(2e-4, "peak learning rate", gt=0, lt=1)
    per_device_train_batch_size: PositiveInt = doc(4, "batch per process (also the eval batch)")
    gradient_accumulation_steps: PositiveInt = doc(1, "steps accumulated per update")
    warmup_steps: float = doc(0, "warm-up steps; below 1, a share of all steps", ge=0)
    logging_steps: PositiveInt = doc(1, "log every N steps")
    save_steps: PositiveInt = doc(50, "checkpoint every N steps (kept outside DVC's outputs; a rerun resumes)")
    recompute_activations: Literal["auto", "on", "off"] = doc(
        "auto", "activation checkpointing (less memory, more compute); `auto` = on with a GPU"
    )
    lora: LoraParams = LoraParams()

    @model_validator(mode="before")
    @classmethod
    def _no_renamed_keys(cls, data: Any) -> Any:
        for old, new in RENAMED.items():
            if isinstance(data, dict) and old in data:
                values = "|".join(get_args(cls.model_fields[new].annotation))
                raise PydanticCustomError(
                    "renamed_key", "{old}: renamed to {new}: {values}", {"old": old, "new": new, "values": values}
                )
        return data

    @model_validator(mode="after")
    def _extras_are_trainer_fields(self) -> TrainParams:
        extra = set(self.model_extra or {})
        if extra:
            import dataclasses

            import trl

            known = {f.name for f in dataclasses.fields(getattr(trl, self.trl_config))}
            unknown = sorted(extra - known)
            if unknown:
                raise ValueError(
                    f"{', '.join(unknown)}: not a field of trl.{self.trl_config} "
                    f"(trl {trl.__version__}); our own keys are {sorted(OURS)}"
                )
        return self

    def trainer_args(self) -> dict:
        """Everything the trainer takes, under its own names."""
        return {k: v for k, v in self.model_dump().items() if k not in OURS}


class SFTParams(TrainParams):
    trl_config: ClassVar[str] = "SFTConfig"

    max_length: PositiveInt = doc(1024, "tokens per example (longer is truncated)")


def dpo_losses() -> tuple[str, ...]:
    """The loss types the installed trl computes: the names ``DPOTrainer``'s loss loop compares
    ``loss_type`` with. trl checks a loss name nowhere else (``DPOConfig`` types the field
    ``list[str]``; an unknown name fails at the first loss), so its dispatch is the list. The
    trainer's source is read, not imported: importing trl's trainer stack costs seconds, and every
    stage validates the params."""
    tree = ast.parse(_dpo_trainer_source())
    names = {
        node.comparators[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Compare)
        and ast.unparse(node.left) == "loss_type"
        and isinstance(node.ops[0], ast.Eq)
        and isinstance(node.comparators[0], ast.Constant)
    }
    if not names:
        raise RuntimeError("no loss dispatch found in the installed trl's DPOTrainer: pin the trl the README names")
    return tuple(sorted(names))


def _dpo_trainer_source() -> str:
    """The installed trl's DPOTrainer module source, from its file when it is one (no import)."""
    path = Path(find_spec("trl").origin).parent / "trainer" / "dpo_trainer.py"
    if path.is_file():
        return path.read_text()
    import inspect

    from trl.trainer import dpo_trainer

    return inspect.getsource(dpo_trainer)


class DPOParams(TrainParams):
    trl_config: ClassVar[str] = "DPOConfig"

    max_length: PositiveInt = doc(1024, "tokens per example (longer is truncated)")

    init: Literal["sft", "base"] = doc("sft", "the starting (and reference) policy")
    beta: float = doc(0.1, "DPO beta (the paper's code: 0.9)", gt=0)
    loss_type: list[str] = doc(["sigmoid"], "trl DPO losses (several are combined by `loss_weights`)", min_length=1)
    learning_rate: float = doc(5e-5, "peak learning rate", gt=0, lt=1)
    label_noise: Literal["measured"] | Annotated[float, Field(ge=0.0, lt=0.5)] = doc(
        0.0,
        "rDPO: the share of flipped labels DPO should expect; `measured` = the judge check's flip rate "
        "under the trees' label rule (`data/judge/label_noise.json`), or a number in [0, 0.5); above 0 "
        "it trains with trl's `robust` loss, `label_smoothing` = that share (capped at 0.45); 0 = off",
    )

    @field_validator("loss_type")
    @classmethod
    def _known_losses(cls, v: list[str]) -> list[str]:
        allowed = dpo_losses()
        unknown = [loss for loss in v if loss not in allowed]
        if unknown:
            raise ValueError(f"{unknown} not accepted by the installed trl; one of {', '.join(allowed)}")
        return v

    @model_validator(mode="after")
    def _label_noise_sets_the_loss(self) -> DPOParams:
        """``label_noise`` chooses the loss and its smoothing itself; set by hand beside it, they would
        silently disagree with what the key says."""
        if self.label_noise != 0.0 and (self.loss_type != ["sigmoid"] or "label_smoothing" in (self.model_extra or {})):
            raise ValueError(
                "label_noise sets loss_type [robust] and label_smoothing itself: leave loss_type at [sigmoid] "
                "and label_smoothing unset, or set label_noise: 0 and both by hand"
            )
        return self


class WandbParams(Strict):
    project: str = doc("aloe", "W&B project")
    entity: str | None = doc(None, "W&B entity")
    mode: Literal["auto", "online", "offline", "disabled"] = doc(
        "auto", "`auto` = online iff `WANDB_API_KEY` is set, else offline (never a login prompt)"
    )


class TrainingParams(Strict):
    accelerate: Literal["single", "cpu_ddp", "ddp", "deepspeed_zero3", "fsdp"] = doc(
        "single", "launcher config in `src/aloe/configs/accelerate/`"
    )


REWARDS = ("judge_score", "judge_pairwise", "persona_recovery", "persona_copy")


class GRPOParams(TrainParams):
    """Online training against the simulated user (stage ``grpo``, :mod:`aloe.training.episodes`):
    trl's GRPOConfig fields under their own names, plus the episodes and the rewards."""

    trl_config: ClassVar[str] = "GRPOConfig"

    init: Literal["sft", "base"] = doc("sft", "start (and reference) policy: models/sft or models/base")
    personas: PositiveInt | None = doc(6, "the first N training personas play episodes; null = all")
    episodes: PositiveInt = doc(1, "episodes per persona")
    turns: int = doc(2, "turns per episode before the recovery question", ge=1, le=50)
    rewards: dict[str, float] = doc(
        {"persona_recovery": 1.0, "persona_copy": 0.0},
        "reward name: weight; judge_score | judge_pairwise | persona_recovery | persona_copy "
        "(weight 0: a monitor, logged only)",
    )
    on_blind_judge: Literal["fail", "warn"] = doc(
        "fail", "a judge reward whose judge the card calls blind (1-5) or weak (pairwise): stop, or train anyway"
    )
    num_generations: int = doc(4, "completions per prompt (the GRPO group)", ge=2)
    max_completion_length: PositiveInt = doc(48, "tokens per completion")
    beta: float = doc(0.04, "KL coefficient to the start policy (0: no reference, no KL logged)", ge=0)
    learning_rate: float = doc(5e-5, "peak learning rate", gt=0, lt=1)

    @field_validator("rewards")
    @classmethod
    def _known_rewards(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(v) - set(REWARDS))
        if unknown:
            raise ValueError(f"unknown reward {', '.join(unknown)}; known: {', '.join(REWARDS)}")
        if not any(w for w in v.values()):
            raise ValueError("no reward with a weight: give one of them a weight other than 0")
        return v

    @model_validator(mode="after")
    def _pairwise_needs_a_start_policy(self) -> GRPOParams:
        if self.rewards.get("judge_pairwise") and not self.lora.enabled:
            raise ValueError("rewards.judge_pairwise compares with the start policy, which needs lora.enabled: true")
        if self.per_device_train_batch_size % self.num_generations:
            raise ValueError(
                f"per_device_train_batch_size ({self.per_device_train_batch_size}) must be a multiple of "
                f"num_generations ({self.num_generations}): each batch holds whole groups"
            )
        return self

    def trainer_args(self) -> dict:
        """Everything the trainer takes, under its own names; reward weights in ``rewards``' order
        and the rows in episode order (a turn's conversation is played before it is trained)."""
        weights = [w for w in self.rewards.values() if w]  # weight 0: a monitor, not a reward function
        return {**super().trainer_args(), "reward_weights": weights, "shuffle_dataset": False}
