"""What each of the released code's judging choices costs, against a known answer (label level).

The known-answer rule judge (bench/rule_judge.py) prefers the reply that uses more of the
persona's own words; its faults are knobs (position bias b, verdict noise epsilon, answer
format). For every arm, one-turn trees are grown for the same training personas with the
embedded model as simulator, inducer and both responders (shared through the response cache,
so after the first arm only the judge is asked), and the rule judge bent by the arm's faults:

    artifact   corrected (both orders, our reader, label rule ``average``) | hinted_first (one
               order, the hinted reply always first) | exact_first (anything but exactly
               "first" is "second") | faithful (both artifacts, as the released code)
    b          position bias added to P(first): -0.3, 0, +0.3
    epsilon    share of verdicts flipped: 0, 0.2
    format     how the judge answers: word ("first") or sentence ("I prefer the first message.")

Each arm's labels are scored against the clean rule on the same two replies: ``kept`` turns
that became a pair, ``accuracy`` of kept turns where the rule prefers one reply (a profile-
clustered interval), ``flipped`` kept turns labelled against the rule. One JSON per arm in
``--out-dir``; an arm whose JSON exists is not run again (a cut-off run resumes).

    python bench/ablation.py --personas data/personas/train.parquet --trees 24
"""

from __future__ import annotations

import itertools
import json
import os
import time
from pathlib import Path

import click
import numpy as np

from aloe.conversations.builder import TreeBuilder
from aloe.judging.card import mean_with_ci
from aloe.llm.client import LLM, make_backend
from aloe.llm.server import BackgroundServer
from aloe.params import OpenAIBackendParams, load_params
from aloe.personas.rows import Persona, read_personas
from common import git_describe, write_result
from rule_judge import JudgeFaults, RuleJudge, persona_words, rule_judge_server

ARTIFACTS = {  # arm name -> judge.pairwise params it sets
    "corrected": {"orders": "both", "read": "parsed", "disagreement": "average"},
    "hinted_first": {"orders": "hinted_first", "read": "parsed"},
    "exact_first": {"orders": "both", "read": "exact_first", "disagreement": "average"},
    "faithful": {"orders": "hinted_first", "read": "exact_first"},
}
BIASES, NOISES, FORMATS = (-0.3, 0.0, 0.3), (0.0, 0.2), ("word", "sentence")


def arm_name(artifact: str, b: float, eps: float, form: str) -> str:
    return f"{artifact}_b{b:+.1f}_eps{eps:.1f}_{form}"


def grow(params, personas: list[Persona], pairwise: dict, faults: JudgeFaults) -> list:
    """One-turn trees under the arm's judge and its judge.pairwise settings."""
    server = rule_judge_server(RuleJudge(faults=faults))
    with BackgroundServer(server) as srv:
        llm = LLM(params.llm, roles=("user", "inducer", "responder"))
        cfg = OpenAIBackendParams(
            type="openai", model="rule-judge", base_url=srv.base_url, api_key_env="ALOE_RULE_JUDGE_KEY"
        )
        llm.add_role("judge", make_backend("rule", cfg))
        trees_params = params.trees.model_copy(update={"turns": 1, "min_turns": 1})
        judge = params.judge.model_copy(update={"pairwise": params.judge.pairwise.model_copy(update=pairwise)})
        trees = TreeBuilder(llm, trees_params, judge, seed=params.seed).build(personas)
        llm.close()
    return trees


def score_labels(trees: list, profile_of: dict[str, str], n_boot: int, seed: int) -> dict:
    """Kept turns, and their labels against the clean rule on the same two replies."""
    rows = []
    for t in trees:
        for turn in t.turns:
            hinted, plain = (
                (turn.assistant.preferred, turn.assistant.rejected)
                if turn.hinted == "preferred"
                else (turn.assistant.rejected, turn.assistant.preferred)
            )
            words = [persona_words(r, t.profile, t.personality) for r in (hinted, plain)]
            truth = int(np.sign(words[0] - words[1]))
            rows.append({"profile_id": profile_of[t.persona_id], "won": turn.judge.hinted_won, "truth": truth})
    kept = [r for r in rows if r["won"] is not None]
    decidable = [r for r in kept if r["truth"] != 0]
    right = np.array([float(r["won"] == (r["truth"] > 0)) for r in decidable])
    return {
        "turns": len(rows),
        "kept": len(kept),
        "rule_prefers_one": int(sum(r["truth"] != 0 for r in rows)),
        "kept_decidable": len(decidable),
        "accuracy": mean_with_ci(right, [r["profile_id"] for r in decidable], n_boot, seed)
        if decidable
        else {"value": None, "ci95": None, "n": 0},
        "flipped": int(len(decidable) - right.sum()),
        "hinted_won": sum(r["won"] is True for r in kept),
    }


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--personas", required=True, help="training personas (parquet), e.g. data/personas/train.parquet")
@click.option("--trees", default=24, show_default=True, help="personas that get a one-turn tree")
@click.option("--bootstrap", default=1000, show_default=True)
@click.option("--out-dir", default="bench/results/ablation_labels", show_default=True)
@click.option("--summary", default="bench/results/ablation_labels.json", show_default=True)
def main(params_path, personas, trees, bootstrap, out_dir, summary) -> None:
    os.environ.setdefault("ALOE_RULE_JUDGE_KEY", "rule")
    params = load_params(params_path)
    rows = read_personas(personas)[:trees]
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    arms = {}
    for artifact, b, eps, form in itertools.product(ARTIFACTS, BIASES, NOISES, FORMATS):
        name = arm_name(artifact, b, eps, form)
        path = Path(out_dir) / f"{name}.json"
        if not path.exists():
            t0 = time.perf_counter()
            faults = JudgeFaults(position_bias=b, noise=eps, answer_format=form)
            grown = grow(params, rows, ARTIFACTS[artifact], faults)
            result = {"arm": {"artifact": artifact, "b": b, "epsilon": eps, "format": form}}
            profiles = {r.persona_id: r.profile_id for r in rows}
            result |= score_labels(grown, profiles, bootstrap, params.seed) | {
                "wall_s": round(time.perf_counter() - t0, 1)
            }
            path.write_text(json.dumps(result, indent=2) + "\n")
            click.echo(f"{name}: {result['kept']} kept, accuracy {result['accuracy']}", err=True)
        arms[name] = json.loads(path.read_text())
    write_result(summary, {"commit": git_describe(), "trees": trees, "arms": arms})
    Path(summary).with_suffix(".md").write_text(markdown(arms, trees))


def markdown(arms: dict, trees: int) -> str:
    """One row per arm: what the labels keep, and how many of them the rule would sign."""
    lines = [
        f"| artifact | b | epsilon | format | kept (of {trees}) | kept, rule has no preference | "
        "accuracy on the rest [95% CI] | flipped | hinted reply won |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in arms.values():
        arm, acc = r["arm"], r["accuracy"]
        ci = f" [{acc['ci95'][0]:.2f}, {acc['ci95'][1]:.2f}]" if acc["ci95"] else ""
        value = "-" if acc["value"] is None else f"{acc['value']:.2f}{ci}"
        lines.append(
            f"| {arm['artifact']} | {arm['b']:+.1f} | {arm['epsilon']} | {arm['format']} | {r['kept']} | "
            f"{r['kept'] - r['kept_decidable']} | {value} | {r['flipped']} | {r['hinted_won']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
