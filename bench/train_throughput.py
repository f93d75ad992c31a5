"""Training throughput on the embedded model: SFT and DPO, LoRA vs full fine-tuning.

Each configuration runs in its own process (so peak RSS is its own) on the same
synthetic conversational data, for the same number of optimizer steps.

    python bench/train_throughput.py --quick --out bench/results/train.json
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import tempfile

import click

from common import write_result


def dataset(n: int):
    from datasets import Dataset

    rows = []
    for i in range(n):
        prompt = [{"role": "user", "content": f"I just got back from my shift at the hospital, day {i}. So tired!"}]
        rows.append(
            {
                "prompt": prompt,
                "chosen": [{"role": "assistant", "content": "Oof, long one? Put your feet up, you earned it."}],
                "rejected": [{"role": "assistant", "content": "Rest is important. Consider sleeping early."}],
                "completion": [{"role": "assistant", "content": "Oof, long one? Put your feet up!"}],
            }
        )
    return Dataset.from_list(rows)


def run_one(kind: str, lora: bool, model_dir: str, steps: int, batch: int, queue) -> None:
    os.environ["WANDB_MODE"] = "disabled"
    from trl import DPOConfig, DPOTrainer, SFTConfig, SFTTrainer

    from aloe.params import DPOParams, LoraParams, SFTParams
    from aloe.training.arguments import trainer_arguments
    from aloe.training.models import load_model, lora_config

    cls = SFTParams if kind == "sft" else DPOParams
    cfg = cls(max_steps=steps, per_device_train_batch_size=batch, logging_steps=steps, lora=LoraParams(enabled=lora))
    model, tokenizer = load_model(model_dir)
    data = dataset(steps * batch)
    out = tempfile.mkdtemp()
    common = dict(**trainer_arguments(cfg, 0, out, validation=False), report_to=[])
    if kind == "sft":
        trainer = SFTTrainer(
            model=model,
            args=SFTConfig(**common),
            processing_class=tokenizer,
            train_dataset=data.select_columns(["prompt", "completion"]),
            peft_config=lora_config(cfg),
        )
    else:
        trainer = DPOTrainer(
            model=model,
            args=DPOConfig(**common),
            processing_class=tokenizer,
            train_dataset=data.select_columns(["prompt", "chosen", "rejected"]),
            peft_config=lora_config(cfg),
        )
    metrics = trainer.train().metrics
    queue.put(
        {
            "samples_per_s": round(metrics["train_samples_per_second"], 3),
            "runtime_s": round(metrics["train_runtime"], 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "steps": steps,
            "batch_size": batch,
        }
    )


@click.command()
@click.option("--quick", is_flag=True, help="4 steps per configuration instead of 12")
@click.option("--model", default="models/base", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), required=True)
def main(quick: bool, model: str, out: str) -> None:
    steps, batch = (4, 4) if quick else (12, 4)
    ctx = mp.get_context("spawn")
    results = {}
    for kind in ("sft", "dpo"):
        for lora in (True, False):
            queue = ctx.Queue()
            proc = ctx.Process(target=run_one, args=(kind, lora, model, steps, batch, queue))
            proc.start()
            results[f"{kind}_{'lora' if lora else 'full'}"] = queue.get()
            proc.join()
    for kind in ("sft", "dpo"):
        results[f"{kind}_lora_over_full_speed"] = round(
            results[f"{kind}_lora"]["samples_per_s"] / results[f"{kind}_full"]["samples_per_s"], 2
        )
        results[f"{kind}_lora_over_full_peak_rss"] = round(
            results[f"{kind}_lora"]["peak_rss_mb"] / results[f"{kind}_full"]["peak_rss_mb"], 2
        )
    results["machine"] = {
        "cpus": os.cpu_count(),
        "device": "cuda" if __import__("torch").cuda.is_available() else "cpu",
    }
    write_result(out, results)


if __name__ == "__main__":
    main()
