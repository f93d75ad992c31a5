"""What the released code's judging costs downstream, against a known answer.

The label-level ablation (bench/ablation.py) shows what each judging writes on one turn. Here
two judgings each train a policy, and the benchmark says what the policy learned:

    corrected   both orders, our verdict reader, label rule ``average``
    faithful    the released code: one order with the hinted reply always first, and anything
                but exactly "first" read as "second"

Both arms ask the known-answer rule judge (bench/known_answer.py: it prefers the reply that
uses more of the persona's own words) bent by a position bias b (default +0.3: the judge leans
to whichever reply it reads first). Every other role is the embedded model, at the known-answer
experiment's headline sizes (200 trees of 2 turns, 60 benchmark dialogues).

One throwaway project in ``--workdir``: an arm sets the trees' judging and reproduces the
pipeline through the benchmark comparison, so trees, pairs, SFT, DPO and the SFT and DPO
benchmarks run per arm; the second arm's first turns and its base benchmark (rerun because
the judge check's metrics record the trees' judging) come from the response cache. Each arm
writes ``<out-dir>/ablation_downstream/<arm>.json`` and keeps its benchmark records beside it,
so an arm run in another session pairs with this one. An arm whose JSON exists is not run
again, and a run cut off part-way resumes from its finished DVC stages and cached calls (given
the same options and ``--judge-port``: the judge's address is part of the model id the records
carry). Once both arms exist, ``<out-dir>/ablation_downstream.json`` holds each arm's DPO − base
and AL(faithful) − AL(corrected) of the DPO policies on the same dialogues, with
profile-clustered intervals.

    python bench/ablation_downstream.py                    # both arms, then the comparison
    python bench/ablation_downstream.py --arm corrected    # one arm now, the other later
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from ablation import ARTIFACTS
from aloe.llm.server import BackgroundServer
from common import git_describe, project_env, write_result
from known_answer import arm_project, paired_arms, run_arm, same_settings
from rule_judge import JudgeFaults, RuleJudge, rule_judge_server

ARMS = ("corrected", "faithful")


@click.command()
@click.option("--out-dir", type=click.Path(file_okay=False), default="bench/results", show_default=True)
@click.option("--workdir", type=click.Path(file_okay=False), default="/tmp/aloe-ablation", show_default=True)
@click.option("--judge-port", default=8732, show_default=True, help="the rule judge's port: keep it to resume or pair")
@click.option("--position-bias", default=0.3, show_default=True, help="b: added to the judge's P(first)")
@click.option("--trees", default=200, show_default=True, help="training personas that get a tree")
@click.option("--turns", default=2, show_default=True, help="turns per tree and per benchmark dialogue")
@click.option("--eval-examples", default=60, show_default=True)
@click.option("--sft-steps", default=8, show_default=True)
@click.option("--dpo-epochs", default=3, show_default=True)
@click.option("--lr", default=1e-4, show_default=True, help="SFT and DPO learning rate (LoRA)")
@click.option("--beta", default=0.1, show_default=True)
@click.option("--lora-r", default=16, show_default=True)
@click.option("--arm", "run_arms", multiple=True, type=click.Choice(ARMS), help="run only these arms now [all]")
def main(out_dir, workdir, judge_port, position_bias, run_arms, **args) -> None:
    out = Path(out_dir) / "ablation_downstream"
    judge = rule_judge_server(RuleJudge(faults=JudgeFaults(position_bias=position_bias)))
    env = {**project_env(), "ALOE_RULE_JUDGE_KEY": "rule"}
    settings = {"position_bias": position_bias, **args}
    with BackgroundServer(judge, port=judge_port) as srv:
        project = arm_project(Path(workdir), env, srv.base_url, settings, args)
        for arm in run_arms or ARMS:
            result = out / f"{arm}.json"
            if not result.exists():
                summary = run_arm(project, env, {"judge": {"pairwise": ARTIFACTS[arm]}}, out / arm)
                write_result(str(result), {"commit": git_describe(), "settings": settings, "arm": arm, **summary})
    if missing := [arm for arm in ARMS if not (out / f"{arm}.json").exists()]:
        click.echo(f"no comparison yet: {', '.join(missing)} still to run (--arm)", err=True)
        return
    arms = {arm: json.loads((out / f"{arm}.json").read_text()) for arm in ARMS}
    write_result(
        str(Path(out_dir) / "ablation_downstream.json"),
        {
            "commits": {arm: arms[arm]["commit"] for arm in ARMS},
            "settings": same_settings(arms),
            "judge.pairwise": {arm: ARTIFACTS[arm] for arm in ARMS},
            "labels": {arm: arms[arm]["labels"] for arm in ARMS},
            "dpo-base": {arm: arms[arm]["compare"]["dpo-base"] for arm in ARMS},
            "faithful-corrected": paired_arms(out / "faithful", out / "corrected", ("faithful", "corrected")),
        },
    )


if __name__ == "__main__":
    main()
