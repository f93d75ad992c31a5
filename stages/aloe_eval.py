"""Stage aloe_eval: run the ALOE benchmark on one model variant."""

import click

from aloe.errors import AloeError
from aloe.evaluation.benchmark import evaluate
from aloe.evaluation.metrics import turn_rows
from aloe.evaluation.reporting import dialogue_record, log_to_wandb
from aloe.evaluation.subject import variant_backend
from aloe.files import write_json, write_jsonl
from aloe.stage import setup


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--variant", required=True, help="a key of eval.variants")
@click.option("--eval-split", default="data/personas/eval.parquet", show_default=True)
def main(params_path: str, variant: str, eval_split: str) -> None:
    params = setup(params_path)
    cfg = params.eval
    if variant not in cfg.variants:
        raise AloeError(f"--variant {variant!r} is not in eval.variants ({', '.join(cfg.variants)})")
    llm, dialogues, metrics = evaluate(params, cfg, variant_backend(params, variant), eval_split)
    metrics.update(variant=variant, dialogues_stopped=sum(d.stopped is not None for d in dialogues),
                   calls=llm.report())
    write_jsonl(f"data/eval/{variant}.jsonl", (dialogue_record(d) for d in dialogues))
    write_json(f"metrics/aloe/{variant}.json", metrics)
    write_json(f"metrics/aloe/{variant}_turns.json", turn_rows(metrics, variant))
    log_to_wandb(params.wandb, variant, metrics)
    click.echo(f"{variant}: AL_mean {metrics['AL_mean']} IR {metrics['IR']} AL {metrics['AL']}")
    llm.close()


if __name__ == "__main__":
    main()
