"""Stage sft: supervised fine-tuning on the preferred replies (loss on completions only)."""

import click
from trl import SFTConfig, SFTTrainer

from aloe.stage import setup
from aloe.training.fit import fit


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
    fit(
        "sft",
        params,
        SFTConfig,
        SFTTrainer,
        data,
        model_dir,
        out,
        metrics,
        curve,
        config_extra={"completion_only_loss": True},
        extra_metrics=lambda _: {"lora": cfg.lora.enabled},
    )


if __name__ == "__main__":
    main()
