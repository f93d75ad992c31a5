"""Shared wiring for the SFT and DPO stages.

The trl trainer runs the loop; this module only decides what differs between a
laptop and a GPU node (precision, gradient checkpointing), builds the peft
config, and turns the trained model into a plain merged Hugging Face dir that
every later consumer (the ALOE eval, vLLM, ``aloe chat``) loads without peft.
"""

from __future__ import annotations

import os
import resource
import sys
from pathlib import Path

import torch
from datasets import load_from_disk
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback

from aloe.errors import AloeError
from aloe.files import atomic_path, write_json


def claim_cpu_threads() -> None:
    """Share the CPU cores among local processes. ``accelerate launch`` sets
    OMP_NUM_THREADS=1 unless the config says use_cpu, which halved CPU speed here."""
    if not torch.cuda.is_available():
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(os.environ.get("LOCAL_WORLD_SIZE", "1"))))


def hardware_args(cfg, seed: int, output_dir: str, validation: bool = True) -> dict:
    """TrainingArguments that depend on the machine (bf16 + checkpointing on a capable
    GPU, fp32 on CPU) and on whether there is a validation split to evaluate."""
    claim_cpu_threads()
    cuda = torch.cuda.is_available()
    bf16 = cuda and torch.cuda.is_bf16_supported()
    checkpointing = {"on": True, "off": False, "auto": cuda}[cfg.gradient_checkpointing]
    return dict(
        output_dir=output_dir, seed=seed, data_seed=seed, bf16=bf16, fp16=False, use_cpu=not cuda,
        activation_checkpointing=checkpointing, num_train_epochs=cfg.epochs, max_steps=cfg.max_steps,
        learning_rate=cfg.learning_rate, per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size, gradient_accumulation_steps=cfg.grad_accum,
        warmup_steps=cfg.warmup_ratio, logging_steps=cfg.logging_steps, max_length=cfg.max_length,
        eval_strategy="epoch" if validation else "no", save_strategy="no", disable_tqdm=False, dataloader_num_workers=0,
    )


def lora_config(cfg) -> LoraConfig | None:
    if not cfg.lora.enabled:
        return None
    return LoraConfig(r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
                      target_modules=cfg.lora.target_modules, task_type="CAUSAL_LM")


def load_model(path: str):
    if not Path(path).is_dir():
        raise AloeError(f"{path}: model dir not found (run the upstream stage first)")
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not tokenizer.chat_template:
        raise AloeError(f"{path}: tokenizer has no chat template; training data is chat-formatted")
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    return model, tokenizer


def load_splits(path: str):
    """In memory on purpose: trainers ``map`` the data, and on-disk datasets get
    cache files written into their directory, which is another stage's DVC output."""
    data = load_from_disk(path, keep_in_memory=True)
    if len(data["train"]) == 0:
        raise AloeError(f"{path}: the train split is empty")
    return data["train"], data.get("validation")


class PeakMemory(TrainerCallback):
    """Peak memory during training: CUDA allocator peak on GPU, max RSS otherwise."""

    def on_train_begin(self, args, state, control, **kw):
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()

    @staticmethod
    def peak_mb() -> float:
        if torch.cuda.is_available():
            return torch.cuda.max_memory_allocated() / 2**20
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return rss / 2**20 if sys.platform == "darwin" else rss / 1024


def save_merged(trainer, tokenizer, out_dir: str) -> None:
    """Write ``out_dir`` as a plain model; with LoRA, keep the adapter in ``out_dir/adapter``."""
    if not trainer.accelerator.is_main_process:
        return
    model = trainer.accelerator.unwrap_model(trainer.model)
    with atomic_path(out_dir) as tmp:
        if hasattr(model, "merge_and_unload"):
            model.save_pretrained(tmp / "adapter")
            model = model.merge_and_unload()
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)


def write_training_metrics(trainer, result, path: str, curve_path: str, extra: dict | None = None) -> dict:
    if not trainer.accelerator.is_main_process:
        return {}
    logs = trainer.state.log_history
    evals = [e for e in logs if "eval_loss" in e]
    metrics = {
        "train_loss": round(float(result.training_loss), 5),
        "eval_loss": round(evals[-1]["eval_loss"], 5) if evals else None,
        "runtime_s": round(result.metrics["train_runtime"], 2),
        "samples_per_s": round(result.metrics["train_samples_per_second"], 3),
        "steps": trainer.state.global_step,
        "peak_memory_mb": round(PeakMemory.peak_mb(), 1),
        "world_size": trainer.args.world_size,
        **(extra or {}),
    }
    write_json(path, metrics)
    curve = [{"step": e["step"], "loss": e["loss"]} for e in logs if "loss" in e]
    curve += [{"step": e["step"], "eval_loss": e["eval_loss"]} for e in evals]
    write_json(curve_path, sorted(curve, key=lambda r: r["step"]))
    return metrics

