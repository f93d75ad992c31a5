"""Stage dpo: direct preference optimisation on the judged pairs.

With LoRA the frozen reference is the adapter-disabled starting policy (no
second copy of the weights); with full fine-tuning trl copies the policy.
"""

import click
from trl import DPOConfig, DPOTrainer

from aloe.stage import setup
from aloe.tracking import configure_wandb
from aloe.training.arguments import trainer_arguments, world_size
from aloe.training.data import load_splits
from aloe.training.fit import checkpoint_dir, train_and_save, wandb_run_id
from aloe.training.metrics import PeakMemory, StepRange, preference_metrics
from aloe.training.models import load_model, lora_config


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--data", required=True)
@click.option("--model", "model_dir", required=True, help="the starting (and reference) policy")
@click.option("--out", required=True)
@click.option("--metrics", required=True)
@click.option("--curve", required=True)
def main(params_path, data, model_dir, out, metrics, curve) -> None:
    params = setup(params_path)
    cfg = params.dpo
    report_to, run_name = configure_wandb(params.wandb, "dpo")
    train, validation = load_splits(data)
    checkpoints = checkpoint_dir("dpo", cfg.model_dump(), model_dir, data, world_size())
    wandb_run_id(checkpoints)
    args = DPOConfig(
        **trainer_arguments(cfg, params.seed, str(checkpoints), validation is not None),
        report_to=report_to,
        run_name=run_name,
    )
    model, tokenizer = load_model(model_dir)  # after the arguments, so ZeRO-3 partitioned init applies
    trainer = DPOTrainer(
        model=model,
        args=args,
        train_dataset=train,
        eval_dataset=validation,
        processing_class=tokenizer,
        peft_config=lora_config(cfg),
        callbacks=[PeakMemory(), StepRange()],
    )
    sizes = {"train": len(train), "validation": len(validation) if validation is not None else 0}
    train_and_save(
        trainer,
        tokenizer,
        "dpo",
        params.base_model.source,
        model_dir,
        data,
        sizes,
        out,
        metrics,
        curve,
        lambda t: {**preference_metrics(t), "init": cfg.init, "lora": cfg.lora.enabled},
    )


if __name__ == "__main__":
    main()
