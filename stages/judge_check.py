"""Stage judge_check: can the judge tell a reply written for the persona from one
written for a different persona? Planted pairs with a known answer, before any tree."""

import click

from aloe.files import write_json, write_jsonl
from aloe.judge_check.asking import planted_pairs
from aloe.judge_check.report import judge_metrics
from aloe.judge_check.selection import planted_personas
from aloe.judging.card_text import card_rows
from aloe.llm.client import LLM
from aloe.stage import setup, write_run_log


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--personas", required=True, help="training personas (parquet)")
@click.option("--out", required=True, help="planted pairs with every verdict and score (jsonl)")
@click.option("--metrics", required=True)
@click.option("--label-noise", required=True, help="the trees' label flip rate on planted pairs, for rDPO (json)")
@click.option("--run-log", required=True)
def main(params_path: str, personas: str, out: str, metrics: str, label_noise: str, run_log: str) -> None:
    params = setup(params_path)
    plan = planted_personas(personas, params)
    llm = LLM(params.llm, roles=("user", "responder", "judge"))
    records = planted_pairs(llm, *plan, params)
    report = {**judge_metrics(records, params, llm.model_id("judge")), "calls": llm.report()}
    write_jsonl(out, (r.to_json() for r in records))
    write_json(metrics, report)
    write_json(label_noise, report["label_noise"])
    write_run_log(run_log, llm)
    pairwise, scoring = report["pairwise"], report["scoring"]
    click.echo(
        f"judge check on {report['n']} planted pairs in {report['clusters']} profiles: pairwise judge "
        f"{pairwise['status']} (accuracy {report['accuracy']} {report['accuracy_ci95']}, 0.5 = chance; "
        f"first-position rate {report['position_bias']}); 1-5 judge {scoring['status']} (score gap "
        f"{report['score_gap']} {report['score_gap_ci95']}, most common score's share "
        f"{scoring.get('most_common_share')})"
    )
    for kind, card in (("pairwise judge", pairwise), ("1-5 judge", scoring)):
        for name, value in card_rows(card):
            click.echo(f"  {kind} {name}: {value}")
    llm.close()


if __name__ == "__main__":
    main()
