"""Stage aloe_eval: run the ALOE benchmark on one model variant."""

from dataclasses import replace

import click

from aloe.errors import AloeError
from aloe.evaluation.metrics import turn_rows
from aloe.evaluation.runner import evaluate, log_to_wandb
from aloe.evaluation.subject import variant_backend
from aloe.files import write_json, write_jsonl
from aloe.judging.judge_card import JudgeCard
from aloe.stage import setup, write_run_log


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--variant", required=True, help="a key of eval.variants")
@click.option("--eval-split", required=True, help="our eval personas (used unless eval.paper_files is set)")
@click.option("--judge-metrics", required=True, help="the judge check's report cards (gate)")
@click.option("--records", required=True, help="per-dialogue records (jsonl), read by aloe_compare")
@click.option("--metrics", required=True)
@click.option("--plot", required=True, help="per-turn plot data")
@click.option("--run-log", required=True)
def main(params_path, variant, eval_split, judge_metrics, records, metrics, plot, run_log) -> None:
    params = setup(params_path)
    if variant not in params.eval.variants:
        raise AloeError(f"--variant {variant!r} is not in eval.variants ({', '.join(params.eval.variants)})")
    subject = variant_backend(params, variant)
    check = JudgeCard.read(judge_metrics)
    llm, dialogues, report = evaluate(params, params.eval, subject, eval_split, check, f"aloe_eval@{variant}")
    report = replace(report, variant=variant)
    write_jsonl(records, (d.to_json() for d in dialogues))
    write_json(metrics, report.to_json())
    write_json(plot, turn_rows(report.AL, report.AL_n, variant))
    write_run_log(run_log, llm)
    log_to_wandb(params.wandb, variant, report)
    click.echo(
        f"{variant}: AL_mean {report.AL_mean} {report.AL_mean_ci95} IR {report.IR} ({report.clusters} profiles"
        f"{', underpowered' * report.underpowered}) "
        f"AL {report.AL} (n per turn {report.AL_n}); scores read by {report.score_methods}; "
        f"judge_blind {report.judge_blind}"
    )
    llm.close()


if __name__ == "__main__":
    main()
