"""Trainer arguments: the recipe's own (params ``sft.*`` / ``dpo.*`` under trl's names,
passed through) plus what depends on the machine (precision, checkpointing, threads)
and on the data (whether there is a validation split to evaluate)."""

from __future__ import annotations

import os

import torch

from aloe.params import TrainParams


def claim_cpu_threads() -> None:
    """Share the CPU cores among local processes. ``accelerate launch`` sets
    OMP_NUM_THREADS=1 unless the config says use_cpu, one thread for a process that has the
    cores to itself, so that variable cannot say what a process may use; ``ALOE_CPU_THREADS`` can (the test workers
    set it to their share of the cores)."""
    if torch.cuda.is_available():
        return
    share = (os.cpu_count() or 1) // int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    torch.set_num_threads(max(1, int(os.environ.get("ALOE_CPU_THREADS") or share)))


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def trainer_arguments(cfg: TrainParams, seed: int, output_dir: str, validation: bool = True) -> dict:
    """Keyword arguments for ``SFTConfig`` / ``DPOConfig``: bf16 and activation checkpointing
    on a capable GPU, fp32 on CPU; evaluation each epoch when there is a validation split;
    checkpoints every ``save_steps`` into ``output_dir`` (the last two kept) for resuming."""
    claim_cpu_threads()
    cuda = torch.cuda.is_available()
    recipe = cfg.trainer_args()
    return dict(
        output_dir=output_dir,
        seed=seed,
        data_seed=seed,
        bf16=cuda and torch.cuda.is_bf16_supported(),
        fp16=False,
        use_cpu=not cuda,
        activation_checkpointing={"on": True, "off": False, "auto": cuda}[cfg.recompute_activations],
        per_device_eval_batch_size=recipe["per_device_train_batch_size"],
        eval_strategy="epoch" if validation else "no",
        save_strategy="steps",
        save_total_limit=2,
        disable_tqdm=False,
        dataloader_num_workers=0,
        **recipe,
    )
