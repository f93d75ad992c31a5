"""Stage dpo: direct preference optimisation on the judged pairs.

With LoRA the frozen reference is the adapter-disabled starting policy (no
second copy of the weights); with full fine-tuning trl copies the policy.
"""

import click
from trl import DPOConfig, DPOTrainer

from aloe.stage import setup
from aloe.tracking import configure_wandb
from aloe.training.arguments import trainer_arguments
from aloe.training.data import load_splits
from aloe.training.metrics import PeakMemory, write_training_metrics
from aloe.training.models import load_model, lora_config, save_merged


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
    model, tokenizer = load_model(model_dir)
    train, validation = load_splits(data)
    args = DPOConfig(
        **trainer_arguments(cfg, params.seed, f"{out}.trainer", validation is not None),
        report_to=report_to,
        run_name=run_name,
    )
    trainer = DPOTrainer(
        model=model,
        args=args,
        train_dataset=train,
        eval_dataset=validation,
        processing_class=tokenizer,
        peft_config=lora_config(cfg),
        callbacks=[PeakMemory()],
    )
    result = trainer.train()
    save_merged(trainer, tokenizer, out)
    logs = [e for e in trainer.state.log_history if "rewards/accuracies" in e or "eval_rewards/accuracies" in e]
    last = logs[-1] if logs else {}
    prefix = "eval_" if "eval_rewards/accuracies" in last else ""
    write_training_metrics(
        trainer,
        result,
        metrics,
        curve,
        {
            "rewards_accuracy": last.get(f"{prefix}rewards/accuracies"),
            "rewards_margin": last.get(f"{prefix}rewards/margins"),
            "rewards_measured_on": "validation" if prefix else "train",
            "init": cfg.init,
            "lora": cfg.lora.enabled,
        },
    )


if __name__ == "__main__":
    main()
