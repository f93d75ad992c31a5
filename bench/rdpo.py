"""rDPO against plain DPO on the same noisy labels, against a known answer.

The known-answer setup (bench/known_answer.py): the rule judge prefers the reply that uses
more of the persona's own words, and here flips a share epsilon of its verdicts (default
0.2). One throwaway project grows the trees, pairs and SFT policy once; DPO then trains twice
on the same pairs from the same SFT policy:

    sigmoid   dpo.label_noise: 0 (plain DPO)
    robust    dpo.label_noise: --robust (trl's robust loss): ``measured``, the flip rate the judge
              check measured under the trees' label rule, or a number such as the injected epsilon

Both policies are benchmarked on the same examples, seeds and simulator, and scored by the
rule, so ΔAL_mean(robust) − ΔAL_mean(sigmoid) is the paired difference AL(robust) − AL(sigmoid)
(the base run cancels), with a profile-clustered interval.

One JSON per arm in ``--out-dir`` (rdpo_sigmoid.json, rdpo_robust.json) and the comparison
(rdpo.json). An arm whose JSON exists is not trained again; a run cut off part-way resumes
from its finished DVC stages and cached calls in ``--workdir``.

    python bench/rdpo.py --trees 40 --eval-examples 20 --robust 0.2
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from aloe.llm.server import BackgroundServer
from common import git_describe, project_env, write_result
from known_answer import arm_project, paired_arms, run_arm, same_settings
from rule_judge import JudgeFaults, RuleJudge, rule_judge_server

ARMS = ("sigmoid", "robust")


def train_arm(project: Path, env: dict, label_noise, arm_dir: Path) -> dict:
    """DPO and the benchmark under ``dpo.label_noise``; the outputs kept in ``arm_dir``."""
    summary = run_arm(project, env, {"dpo": {"label_noise": label_noise}}, arm_dir)
    return {
        "label_noise": label_noise,
        "wall_s": summary["wall_s"],
        "measured_label_noise": json.loads((project / "data/judge/label_noise.json").read_text()),
        **{k: summary[k] for k in ("labels", "pairs", "compare", "AL_mean", "train_dpo", "reply_feature")},
    }


@click.command()
@click.option("--out-dir", type=click.Path(file_okay=False), default="bench/results", show_default=True)
@click.option("--workdir", type=click.Path(file_okay=False), default="/tmp/aloe-rdpo", show_default=True)
@click.option("--judge-port", default=8731, show_default=True, help="the rule judge's port: keep it to resume or pair")
@click.option("--noise", default=0.2, show_default=True, help="share of the rule judge's verdicts flipped")
@click.option("--robust", default="measured", show_default=True, help="the robust arm's dpo.label_noise")
@click.option("--trees", default=48, show_default=True, help="training personas that get a tree")
@click.option("--turns", default=2, show_default=True, help="turns per tree and per benchmark dialogue")
@click.option("--eval-examples", default=24, show_default=True)
@click.option("--sft-steps", default=8, show_default=True)
@click.option("--dpo-epochs", default=3, show_default=True)
@click.option("--lr", default=1e-4, show_default=True, help="SFT and DPO learning rate (LoRA)")
@click.option("--beta", default=0.1, show_default=True)
@click.option("--lora-r", default=16, show_default=True)
def main(out_dir, workdir, judge_port, noise, robust, **args) -> None:
    out, root = Path(out_dir), Path(workdir)
    judge = rule_judge_server(RuleJudge(faults=JudgeFaults(noise=noise)))
    env = {**project_env(), "ALOE_RULE_JUDGE_KEY": "rule"}
    robust = robust if robust == "measured" else float(robust)
    settings = {"noise": noise, "robust": robust, **args}
    with BackgroundServer(judge, port=judge_port) as srv:
        project = arm_project(root, env, srv.base_url, settings, args)
        for arm, label_noise in zip(ARMS, (0.0, robust), strict=True):
            result = out / f"rdpo_{arm}.json"
            if not result.exists():
                arm_result = train_arm(project, env, label_noise, root / arm)
                write_result(str(result), {"commit": git_describe(), "settings": settings, "arm": arm, **arm_result})
    arms = {arm: json.loads((out / f"rdpo_{arm}.json").read_text()) for arm in ARMS}
    write_result(
        str(out / "rdpo.json"),
        {
            "commit": git_describe(),
            "settings": same_settings(arms),
            "dpo-base": {arm: arms[arm]["compare"]["dpo-base"] for arm in ARMS},
            "label_noise_used": arms["robust"]["train_dpo"].get("label_noise"),
            "robust-sigmoid": paired_arms(root / "robust", root / "sigmoid", ("robust", "sigmoid")),
        },
    )


if __name__ == "__main__":
    main()
