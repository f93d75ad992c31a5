"""Stage sft: supervised fine-tuning on the preferred replies (loss on completions only)."""

import click
from trl import SFTConfig, SFTTrainer

from aloe.stage import setup
from aloe.tracking import configure_wandb
from aloe.training.arguments import trainer_arguments
from aloe.training.data import load_splits
from aloe.training.metrics import PeakMemory, write_training_metrics
from aloe.training.models import load_model, lora_config, save_merged


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--data", required=True)
@click.option("--model", "model_dir", required=True)
@click.option("--out", required=True)
@click.option("--metrics", required=True)
@click.option("--curve", required=True)
def main(params_path, data, model_dir, out, metrics, curve) -> None:
    params = setup(params_path)
    cfg = params.sft
    report_to, run_name = configure_wandb(params.wandb, "sft")
    model, tokenizer = load_model(model_dir)
    train, validation = load_splits(data)
    args = SFTConfig(
        **trainer_arguments(cfg, params.seed, f"{out}.trainer", validation is not None),
        completion_only_loss=True,
        report_to=report_to,
        run_name=run_name,
    )
    trainer = SFTTrainer(
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
    write_training_metrics(trainer, result, metrics, curve, {"lora": cfg.lora.enabled})


if __name__ == "__main__":
    main()
