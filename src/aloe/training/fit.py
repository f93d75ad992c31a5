"""Run a trl trainer the way every training stage does (sft, dpo, grpo).

- Checkpoints live in ``$ALOE_CACHE_DIR/checkpoints/<stage>-<key>``, outside DVC's outputs
  (which DVC deletes before a rerun); the key hashes the stage's inputs (its params, the
  starting model and the data, by file names, sizes and times), so a changed experiment
  never resumes another run's checkpoint. A rerun after a kill resumes from the last one
  (and W&B resumes the same run); a finished stage removes them.
- Saving is done the way the libraries intend for sharded training (DeepSpeed ZeRO-3,
  FSDP): every rank calls ``trainer.save_model``, which gathers the weights (or, with LoRA,
  the adapter). The main process then merges the adapter into a fresh copy of the
  starting weights, so no shard is ever mistaken for the model.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transformers.trainer_utils import get_last_checkpoint

from aloe.cards import model_card
from aloe.files import atomic_path
from aloe.params import TrainParams, WandbParams
from aloe.store import cache_dir
from aloe.tracking import configure_wandb
from aloe.training.arguments import trainer_arguments, world_size
from aloe.training.data import load_splits
from aloe.training.metrics import PeakMemory, StepRange, write_training_metrics
from aloe.training.models import load_model, lora_config

log = logging.getLogger(__name__)

# Trainer arguments that name this machine or process, not the training: the checkpoint path in
# the local cache, the W&B run, where logs go, the process rank. Kept out of the model card.
MACHINE_ONLY = frozenset({"output_dir", "run_name", "report_to", "local_rank"})


def files_signature(path: str) -> list:
    """Names, sizes and modification times of every file under ``path``: cheap even for an
    8B checkpoint, and changed whenever DVC writes the output anew."""
    root = Path(path)
    return sorted(
        (str(f.relative_to(root)), f.stat().st_size, f.stat().st_mtime_ns) for f in root.rglob("*") if f.is_file()
    )


def checkpoint_dir(stage: str, recipe: dict, model_dir: str, data: str, world_size: int) -> Path:
    inputs = {
        "stage": stage,
        "recipe": recipe,
        "world_size": world_size,
        "model": files_signature(model_dir),
        "data": files_signature(data),
    }
    key = hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return cache_dir() / "checkpoints" / f"{stage}-{key}"


def resume_point(output_dir: str) -> str | None:
    last = get_last_checkpoint(output_dir) if Path(output_dir).is_dir() else None
    if last:
        log.info("resuming from %s (a previous run of this stage with the same inputs was interrupted)", last)
    return last


@dataclass(frozen=True)
class TrainingJob:
    """One training stage, as its script's options and the params describe it. The two stage
    scripts each build one and call :meth:`run`, so how a trl trainer is wired, resumed and
    saved is written once, and the job says in plain fields what training depends on."""

    stage: str  # "sft", "dpo" or "grpo": names the checkpoints, the W&B run and the model card
    cfg: TrainParams  # the stage's params section (params.sft, params.dpo or params.grpo)
    seed: int
    wandb: WandbParams
    base_source: str  # params.base_model.source, named in the model card
    data: str  # the training data (for grpo the personas the episodes are played with)
    model_dir: str  # the starting policy (for DPO and GRPO also the reference)
    out: str
    metrics: str
    curve: str
    run_log: str  # speed and peak memory (logs/<stage>.json), apart from the metrics
    config_class: type  # trl's SFTConfig, DPOConfig or GRPOConfig
    trainer_class: type  # trl's SFTTrainer, DPOTrainer or GRPOTrainer
    config_extra: dict = field(default_factory=dict)  # arguments of this stage's config only
    extra_metrics: Callable[[Any], dict] = lambda trainer: {}  # added to the metrics file
    datasets: tuple | None = None  # (train, validation or None) made by the stage; else read from ``data``
    trainer_extra: dict = field(default_factory=dict)  # arguments of this stage's trainer only (GRPO's rewards)
    callbacks: list = field(default_factory=list)  # this stage's own trainer callbacks
    curve_keys: tuple[str, ...] = ("loss",)  # what the curve file holds per logged step
    llm: Any = None  # the LLM layer the stage asks (GRPO's simulator and judges): its calls go to the run log
    key_extra: dict = field(default_factory=dict)  # more inputs that name the checkpoints (GRPO's simulator, judge)

    def run(self) -> None:
        """``cfg`` into a trl config, the trainer on the data's splits with LoRA and our
        callbacks, then :meth:`train_and_save`."""
        report_to, run_name = configure_wandb(self.wandb, self.stage)
        train, validation = self.datasets or load_splits(self.data)
        recipe = {**self.cfg.model_dump(), **self.key_extra}
        checkpoints = checkpoint_dir(self.stage, recipe, self.model_dir, self.data, world_size())
        wandb_run_id(checkpoints)
        args = self.config_class(
            **trainer_arguments(self.cfg, self.seed, str(checkpoints), validation is not None),
            **self.config_extra,
            report_to=report_to,
            run_name=run_name,
        )
        model, tokenizer = load_model(self.model_dir)  # after the arguments, so ZeRO-3 partitioned init applies
        trainer = self.trainer_class(
            model=model,
            args=args,
            train_dataset=train,
            eval_dataset=validation,
            processing_class=tokenizer,
            peft_config=lora_config(self.cfg),
            callbacks=[PeakMemory(), StepRange(), *self.callbacks],
            **self.trainer_extra,
        )
        sizes = {"train": len(train), "validation": len(validation) if validation is not None else 0}
        self.train_and_save(trainer, tokenizer, sizes)

    def train_and_save(self, trainer, tokenizer, sizes: dict) -> None:
        """Train (resuming if a checkpoint exists), then write the metrics, the merged model and its card."""
        result = trainer.train(resume_from_checkpoint=resume_point(trainer.args.output_dir))
        report = write_training_metrics(
            trainer,
            result,
            self.metrics,
            self.curve,
            self.run_log,
            self.extra_metrics(trainer),
            self.curve_keys,
            self.llm,
        )
        staging = f"{self.out}.staging"
        trainer.save_model(staging)  # every rank: gathers sharded weights (or the LoRA adapter)
        trainer.accelerator.wait_for_everyone()
        if trainer.accelerator.is_main_process:
            args = trainer.args
            card = model_card(
                self.stage,
                self.base_source,
                self.model_dir,
                self.data,
                sizes,
                arguments_of(args),
                lora_of(trainer),
                report,
            )
            with atomic_path(self.out) as tmp:
                export(staging, self.model_dir, tmp)
                tokenizer.save_pretrained(tmp)
                card.save(tmp / "README.md")
            shutil.rmtree(staging, ignore_errors=True)
            shutil.rmtree(args.output_dir, ignore_errors=True)  # finished: the checkpoints are not needed
        trainer.accelerator.wait_for_everyone()


def export(saved: str, start_dir: str, tmp: Path) -> None:
    """A plain Hugging Face model in ``tmp``: the saved weights, or the starting weights with the
    saved LoRA adapter merged in (the adapter kept in ``tmp/adapter``)."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM
    from transformers.integrations.deepspeed import unset_hf_deepspeed_config

    saved = Path(saved)
    if (saved / "adapter_config.json").exists():
        # Training is over. Left set, ZeRO-3's config makes from_pretrained partition the fresh
        # copy (empty tensors on this rank) and the merge fails.
        unset_hf_deepspeed_config()
        base = AutoModelForCausalLM.from_pretrained(start_dir, dtype=torch.float32)
        merged = PeftModel.from_pretrained(base, saved).merge_and_unload()
        merged.save_pretrained(tmp, safe_serialization=True)
        shutil.copytree(  # not training_args.bin: a pickle naming this machine's checkpoint dir
            saved,
            tmp / "adapter",
            ignore=shutil.ignore_patterns(
                "tokenizer*", "special_tokens*", "chat_template*", "vocab*", "merges*", "training_args.bin"
            ),
        )
        sort_target_modules(tmp / "adapter" / "adapter_config.json")
    else:
        shutil.copytree(saved, tmp, dirs_exist_ok=True, ignore=shutil.ignore_patterns("training_args.bin"))


def sort_target_modules(config: Path) -> None:
    """peft writes ``target_modules`` from a set, in an order that changes from process to
    process: sorted, the same training writes the same bytes, and DVC reruns nothing after it."""
    adapter = json.loads(config.read_text())
    if isinstance(adapter.get("target_modules"), list):
        adapter["target_modules"] = sorted(adapter["target_modules"])
        config.write_text(json.dumps(adapter, indent=2, sort_keys=True) + "\n")


def arguments_of(args) -> dict:
    """Every argument the trainer ran with, so the model card says how to train the model again:
    transformers' own serialisation (enums as values, every ``*_token`` field masked), less
    :data:`MACHINE_ONLY`."""
    return {k: v for k, v in args.to_dict().items() if k not in MACHINE_ONLY}


def lora_of(trainer) -> dict:
    peft_config = getattr(trainer.model, "peft_config", None)
    if not peft_config:
        return {"enabled": False}
    cfg = next(iter(peft_config.values()))
    return {"enabled": True, "r": cfg.r, "alpha": cfg.lora_alpha}


def wandb_run_id(checkpoints: Path) -> None:
    """The same W&B run for a resumed training: the checkpoint key is the run id."""
    os.environ.setdefault("WANDB_RUN_ID", checkpoints.name)
    os.environ.setdefault("WANDB_RESUME", "allow")
