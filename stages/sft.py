"""Stage sft: supervised fine-tuning on the preferred replies (loss on completions only)."""

import click
from trl import SFTConfig, SFTTrainer

from aloe.stage import setup
from aloe.training.fit import TrainingJob


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--data", required=True)
@click.option("--model", "model_dir", required=True)
@click.option("--out", required=True)
@click.option("--metrics", required=True)
@click.option("--curve", required=True)
@click.option("--run-log", required=True, help="speed and peak memory (not metrics)")
def main(params_path, data, model_dir, out, metrics, curve, run_log) -> None:
    params = setup(params_path)
    cfg = params.sft
    TrainingJob(
        stage="sft",
        cfg=cfg,
        seed=params.seed,
        wandb=params.wandb,
        base_source=params.base_model.source,
        data=data,
        model_dir=model_dir,
        out=out,
        metrics=metrics,
        curve=curve,
        run_log=run_log,
        config_class=SFTConfig,
        trainer_class=SFTTrainer,
        config_extra={"completion_only_loss": True},
        extra_metrics=lambda _: {"lora": cfg.lora.enabled},
    ).run()


if __name__ == "__main__":
    main()
