"""Stage dpo: direct preference optimisation on the judged pairs.

With LoRA the frozen reference is the adapter-disabled starting policy (no
second copy of the weights); with full fine-tuning trl copies the policy.
"""

import click
from trl import DPOConfig, DPOTrainer

from aloe.stage import setup
from aloe.training.fit import fit
from aloe.training.metrics import preference_metrics


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
    fit(
        "dpo",
        params,
        DPOConfig,
        DPOTrainer,
        data,
        model_dir,
        out,
        metrics,
        curve,
        extra_metrics=lambda t: {**preference_metrics(t), "init": cfg.init, "lora": cfg.lora.enabled},
    )


if __name__ == "__main__":
    main()
