"""Stage trees: grow one conversation tree per training persona."""

import click

from aloe.conversations.builder import TreeBuilder
from aloe.conversations.stats import tree_metrics
from aloe.errors import AloeError
from aloe.files import write_json, write_jsonl
from aloe.judging.gate import enforce_pairwise
from aloe.judging.judge_card import JudgeCard
from aloe.llm.client import LLM
from aloe.personas.rows import read_personas
from aloe.stage import setup, write_run_log


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--personas", required=True, help="training personas (parquet)")
@click.option("--judge-metrics", required=True, help="metrics of the judge check (gate)")
@click.option("--out", required=True)
@click.option("--metrics", required=True)
@click.option("--run-log", required=True)
def main(params_path: str, personas: str, judge_metrics: str, out: str, metrics: str, run_log: str) -> None:
    params = setup(params_path)
    cfg = params.trees
    enforce_pairwise(JudgeCard.read(judge_metrics), params.judge.pairwise, judge_metrics)
    rows = read_personas(personas)[: cfg.personas]
    llm = LLM(params.llm, roles=("user", "inducer", "responder", "judge"))
    builder = TreeBuilder(llm, cfg, params.judge, params.seed)
    trees = builder.build(rows)
    kept = [t for t in trees if len(t.turns) >= cfg.min_turns]
    report = tree_metrics(trees, kept, llm.report())
    if not report.label_rate:
        raise AloeError(
            f"no turn of {report.turns} was labelled (ties: {report.tie_reasons}; verdicts read "
            f"by {report.verdict_methods}): the judge never preferred one reply with "
            "judge.pairwise.margin to spare. Point llm.roles.judge at a stronger model"
        )
    write_jsonl(out, (builder.record(t).to_json() for t in kept))
    write_json(metrics, report.to_json())
    write_run_log(run_log, llm)
    click.echo(
        f"wrote {len(kept)} trees to {out}; {report.failed} dropped; label rate {report.label_rate} "
        f"({report.label_sources}), ties {report.tie_reasons}, position bias {report.position_bias}"
    )
    llm.close()


if __name__ == "__main__":
    main()
