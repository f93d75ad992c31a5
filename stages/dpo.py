"""Stage dpo: direct preference optimisation on the judged pairs.

With LoRA the frozen reference is the adapter-disabled starting policy (no
second copy of the weights); with full fine-tuning trl copies the policy. With
``dpo.label_noise`` the loss is rDPO's (aloe.training.label_noise).
"""

import click
from trl import DPOConfig, DPOTrainer

from aloe.stage import setup
from aloe.training.fit import TrainingJob
from aloe.training.label_noise import robust_dpo
from aloe.training.metrics import preference_metrics


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--data", required=True)
@click.option("--model", "model_dir", required=True, help="the starting (and reference) policy")
@click.option("--out", required=True)
@click.option("--metrics", required=True)
@click.option("--curve", required=True)
@click.option("--run-log", required=True, help="speed and peak memory (not metrics)")
@click.option("--label-noise", "measured", required=True, help="the judge check's label flip rate (json)")
def main(params_path, data, model_dir, out, metrics, curve, run_log, measured) -> None:
    params = setup(params_path)
    cfg, noise = robust_dpo(params.dpo, measured)
    TrainingJob(
        stage="dpo",
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
        config_class=DPOConfig,
        trainer_class=DPOTrainer,
        extra_metrics=lambda t: {**preference_metrics(t), "init": cfg.init, "lora": cfg.lora.enabled, **noise},
    ).run()


if __name__ == "__main__":
    main()
