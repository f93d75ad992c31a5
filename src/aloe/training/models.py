"""Models in and out of training: the starting policy, the peft LoRA config, and the
trained model saved as a plain merged Hugging Face dir that every later consumer (the
ALOE eval, vLLM, ``aloe chat``) loads without peft."""

from __future__ import annotations

import torch
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer

from aloe.files import atomic_path
from aloe.model_refs import resolve
from aloe.params import TrainParams
from aloe.tokenizers import prepare_tokenizer


def load_model(path: str, key: str = "--model"):
    ref = resolve(path, key)
    tokenizer = prepare_tokenizer(AutoTokenizer.from_pretrained(ref.ref), ref.ref)
    model = AutoModelForCausalLM.from_pretrained(ref.ref, dtype=torch.float32)
    return model, tokenizer


def lora_config(cfg: TrainParams) -> LoraConfig | None:
    if not cfg.lora.enabled:
        return None
    return LoraConfig(
        r=cfg.lora.r,
        lora_alpha=cfg.lora.alpha,
        lora_dropout=cfg.lora.dropout,
        target_modules=cfg.lora.target_modules,
        task_type="CAUSAL_LM",
    )


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
