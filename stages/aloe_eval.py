"""Stage aloe_eval: run the ALOE benchmark on one model variant."""

import click

from aloe.errors import AloeError
from aloe.evaluation.benchmark import BenchConfig, run_benchmark
from aloe.evaluation.examples import load_examples
from aloe.evaluation.metrics import aloe_metrics, turn_rows
from aloe.evaluation.reporting import dialogue_record, log_to_wandb
from aloe.files import write_json, write_jsonl
from aloe.evaluation.subject import variant_backend
from aloe.llm.client import LLM
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
    examples = load_examples(cfg, eval_split)
    llm = LLM(params.llm, roles=("user", "judge"))
    llm.add_role("model", variant_backend(params, variant))
    dialogues, table = run_benchmark(llm, examples, BenchConfig.from_params(cfg, params.seed))
    metrics = {**aloe_metrics(table, cfg.bootstrap, params.seed), "variant": variant,
               "model": llm.model_id("model"), "dialogues_stopped": sum(d.stopped is not None for d in dialogues),
               "calls": llm.report()}
    write_jsonl(f"data/eval/{variant}.jsonl", (dialogue_record(d) for d in dialogues))
    write_json(f"metrics/aloe/{variant}.json", metrics)
    write_json(f"metrics/aloe/{variant}_turns.json", turn_rows(metrics, variant))
    log_to_wandb(params.wandb, variant, metrics)
    click.echo(f"{variant}: AL_mean {metrics['AL_mean']} IR {metrics['IR']} AL {metrics['AL']}")
    llm.close()


if __name__ == "__main__":
    main()
