"""Models into training: the starting policy and the peft LoRA config (saving the trained
model is aloe.training.fit's)."""

from __future__ import annotations

import torch
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer

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
