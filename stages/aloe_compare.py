"""Stage aloe_compare: paired differences between benchmark variants, the numbers a
paper reports ("DPO beats the base model by ... [interval]"). The last stage of a run, so it
ends the run with what it found, in one screen (:mod:`aloe.evaluation.findings`)."""

from pathlib import Path

import click

from aloe.evaluation.comparison import paired_comparison
from aloe.evaluation.findings import findings
from aloe.evaluation.records import load_records
from aloe.files import write_json
from aloe.judging.gate import enforce, judge_gate
from aloe.judging.judge_card import JudgeCard
from aloe.stage import setup


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--records-dir", required=True, help="the per-dialogue records of every variant")
@click.option("--judge-metrics", required=True, help="the judge check's report cards (gate)")
@click.option("--out", required=True)
def main(params_path: str, records_dir: str, judge_metrics: str, out: str) -> None:
    params = setup(params_path)
    names = list(params.eval.variants)
    runs = {v: load_records(Path(records_dir) / f"{v}.jsonl") for v in names}
    card = JudgeCard.read(judge_metrics)
    gate = judge_gate(card, runs[names[0]][0].models["judge"])
    enforce(gate, params.judge.scoring.on_blind, "aloe_compare")
    report = {}
    for i, b in enumerate(names):  # every later variant against every earlier one: sft-base, dpo-base, dpo-sft
        for a in names[i + 1 :]:
            report[f"{a}-{b}"] = paired_comparison(runs[a], runs[b], (a, b), params.eval.bootstrap, params.seed)
    write_json(out, {**report, **gate})
    measured = card if gate["judge_blind"] is not None else None  # the card of this run's judge
    blind = bool(gate["judge_blind"])
    turns, n_boot = params.eval.turns, params.eval.bootstrap
    click.echo(findings(runs, report, measured, blind, judge_metrics, turns, n_boot, params.seed))


if __name__ == "__main__":
    main()
