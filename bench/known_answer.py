"""Known-answer experiment: a planted preference travels from the judge through DPO to
the benchmark, and reverses when the labels are reversed.

The judge is a rule (bench/rule_judge.py, fixed before any result was seen), served
over the same OpenAI-compatible HTTP a real judge uses (the project's loopback server),
with log-probabilities like a real endpoint. Every other role stays the embedded model;
nothing in src/aloe knows the judge is a rule.

A persona prefers a reply that talks about its own life, as the paper's personas
do; a small model can learn it by picking up the user's own topics. Two runs in
throwaway copies of this checkout, sharing the response cache:

    planted   the pairwise rule as above;
    reversed  the pairwise rule prefers FEWER persona words (the benchmark's scoring
              rule is unchanged), so DPO is trained towards the opposite.
The first turn of every tree is identical in both (the same cached simulator, inducer
and responders) and only its labels flip; the branch a tree continues on is a seeded coin
over (preferred, rejected), so where the labels flip, later turns continue from the other
reply and differ (they cost new calls).

    python bench/known_answer.py --out bench/results/known_answer.json

The rule judge alone, with faults of known size for a judge report card to find:

    python bench/known_answer.py --serve-judge 8011 --position-bias 0.3
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import click
import yaml
from aiohttp import web

import rule_judge
from aloe.conversations.pairs import load_conversations
from aloe.conversations.rows import DpoRow
from aloe.evaluation.metrics import compare
from aloe.evaluation.records import load_records, paired_tables, score_table
from aloe.llm.server import BackgroundServer
from common import git_describe, merge, project_env, sh, throwaway_project, write_result
from rule_judge import FORMATS, JudgeFaults, RuleJudge, persona_words, rule_judge_server

STAGES = (
    "base_model",
    "personas_generate",
    "personas_filter",
    "judge_check",
    "trees",
    "pairs",
    "sft",
    "dpo",
    "aloe_eval@base",
    "aloe_eval@sft",
    "aloe_eval@dpo",
    "aloe_compare",
)


def overrides(url: str, args: dict) -> dict:
    """The params of a run: the judge at ``url``, everything else local, the sizes in ``args``
    (its optional ``params`` laid on top, for what the command line does not set)."""
    planned = {
        "llm": {
            "backends": {
                "local": {"type": "transformers", "model": "models/base", "batch_size": 32},
                "rule": {
                    "type": "openai",
                    "model": "rule-judge",
                    "base_url": url,
                    "api_key_env": "ALOE_RULE_JUDGE_KEY",
                    "concurrency": 64,
                },
            },
            "roles": {
                "persona_writer": "local",
                "user": "local",
                "inducer": "local",
                "responder": "local",
                "judge": "rule",
            },
        },
        # as many training personas as trees (the split's default of 64 capped --trees): the eval
        # split is drawn first and stays; above 64 a different training sample is drawn
        "personas": {"split": {"train_personas": max(args["trees"], 64)}},
        "judge_check": {"pairs": 8},
        "trees": {"personas": args["trees"], "turns": args["turns"]},
        "judge": {"pairwise": {"disagreement": "average"}},
        "sft": {"max_steps": args["sft_steps"], "per_device_train_batch_size": 4, "learning_rate": args["lr"]},
        "dpo": {
            "num_train_epochs": args["dpo_epochs"],
            "per_device_train_batch_size": 4,
            "learning_rate": args["lr"],
            "beta": args["beta"],
            # the frozen reference's log-probabilities once, not again every epoch: the same loss
            # (up to float noise), about 1/6 less compute at 3 epochs; single process only
            "precompute_ref_log_probs": args.get("precompute_ref", True),
            "lora": {"r": args["lora_r"], "alpha": 2 * args["lora_r"]},
        },
        "eval": {"examples": args["eval_examples"], "turns": args["turns"]},
        "wandb": {"mode": "disabled"},
    }
    return merge(planned, args.get("params", {}))


ARM_OUTPUTS = ("data/eval/base.jsonl", "data/eval/dpo.jsonl", "metrics/train_dpo.json", "metrics/aloe/compare.json")


def set_params(project: Path, update: dict) -> None:
    """``update`` laid onto a throwaway project's params.yaml (an arm's settings, a resumed
    run's new judge URL)."""
    params = merge(yaml.safe_load((project / "params.yaml").read_text()), update)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def arm_project(root: Path, env: dict, url: str, settings: dict, args: dict) -> Path:
    """The throwaway project the arms of one comparison share, made on the first run and
    reused when a cut-off run resumes. A resumed run must bring the settings the project was
    made with (an error says which differ), and its judge should listen on the same port: the
    judge's address is part of its model id, which the benchmark records carry and aloe's
    pairing compares (a new port pairs with nothing run before it, and reruns every stage
    that depends on ``llm``)."""
    project, recorded = root / "project", root / "settings.json"
    if (project / ".git").exists():
        made_with = json.loads(recorded.read_text())
        if made_with != settings:
            differ = sorted(k for k in made_with.keys() | settings.keys() if made_with.get(k) != settings.get(k))
            made = ", ".join(f"{k}={made_with.get(k)!r}" for k in differ)
            raise click.ClickException(f"{project} was made with {made}; rerun with those, or remove {root}")
        set_params(project, {"llm": {"backends": {"rule": {"base_url": url}}}})
    else:
        shutil.rmtree(root, ignore_errors=True)
        throwaway_project(project, env, overrides(url, args))
        recorded.write_text(json.dumps(settings, indent=2) + "\n")
    return project


def run_arm(project: Path, env: dict, update: dict, arm_dir: Path) -> dict:
    """One arm of a comparison run inside one project: ``update`` laid onto its params, the
    pipeline reproduced through the benchmark comparison (DVC reruns only the stages the
    update reaches, the response cache replays calls an earlier arm made), the arm's benchmark
    records and metrics copied to ``arm_dir`` (so another arm can be paired with it later)."""
    set_params(project, update)
    t0 = time.perf_counter()
    sh("dvc repro aloe_compare", project, env)
    for rel in ARM_OUTPUTS:
        (arm_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(project / rel, arm_dir / rel)
    summary = summarise(project, reverse=False)
    return {"wall_s": round(time.perf_counter() - t0, 1), **summary}


def same_settings(arms: dict) -> dict:
    """The settings every arm ran with, or an error: arms run apart (another session, other
    options) pair only if they ran alike."""
    settings = {name: arm["settings"] for name, arm in arms.items()}
    first = next(iter(settings.values()))
    if any(s != first for s in settings.values()):
        raise click.ClickException(f"the arms ran with different settings: {json.dumps(settings)}")
    return first


def paired_arms(a: Path, b: Path, names: tuple[str, str], bootstrap: int = 1000) -> dict:
    """AL(a) − AL(b) of two arms' DPO policies on the same benchmark examples, clustered by
    profile (aloe's own pairing: the same examples, seeds, simulator and judge, or an error
    saying which differ). Where both arms share the base run, this is ΔAL(a) − ΔAL(b)."""
    records = (load_records(str(arm / "data/eval/dpo.jsonl")) for arm in (a, b))
    return compare(*paired_tables(*records, names), bootstrap, 0)


def label_accuracy(project: Path, sign: int) -> dict:
    """Labelled turns whose label is the rule's preference; every DPO chosen reply checked too."""
    trees = load_conversations(project / "data/trees/trees.jsonl")
    turns = [(rec, t) for rec in trees for t in rec.conversations]
    labelled = [(rec, t) for rec, t in turns if not t.tie]
    right = 0
    for rec, t in labelled:
        pref = persona_words(t.assistant.preferred, rec.profile, rec.personality)
        rej = persona_words(t.assistant.rejected, rec.profile, rec.personality)
        right += sign * (pref - rej) > 0
    return {
        "trees": len(trees),
        "turns": len(turns),
        "labelled": len(labelled),
        "label_accuracy": round(right / len(labelled), 4) if labelled else None,
    }


def chosen_feature(project: Path, sign: int) -> dict:
    from datasets import load_from_disk

    personas = {r.id: r for r in load_conversations(project / "data/trees/trees.jsonl")}
    rows = [DpoRow.from_json(r) for split in load_from_disk(str(project / "data/pairs/dpo")).values() for r in split]
    ok = 0
    for r in rows:
        p = personas[r.conversation_id]
        chosen = persona_words(r.chosen[0]["content"], p.profile, p.personality)
        rejected = persona_words(r.rejected[0]["content"], p.profile, p.personality)
        ok += sign * (chosen - rejected) > 0
    return {"dpo_pairs": len(rows), "chosen_carries_the_preferred_feature": ok}


def reply_feature(project: Path, variants: tuple[str, ...] = ("base", "sft", "dpo")) -> dict:
    """Mean persona words per benchmark reply, per variant: the rule's feature before and after training."""
    out = {}
    for variant in variants:
        path = project / f"data/eval/{variant}.jsonl"
        if path.exists():
            records = load_records(path)
            counts = [persona_words(t.reply, r.profile, r.personality) for r in records for t in r.turns]
            lengths = [len(t.reply.split()) for r in records for t in r.turns]
            out[variant] = {
                "persona_words": round(sum(counts) / len(counts), 3),
                "reply_words": round(sum(lengths) / len(lengths), 1),
                "replies": len(counts),
            }
    return out


def run(name: str, reverse: bool, root: Path, args: dict, stop_after: str | None) -> dict:
    # The served identity names the direction and the rule's code, so the response cache never
    # replays verdicts of another rule or of an earlier implementation of this one.
    judge = rule_judge_server(RuleJudge(reverse_pairs=reverse))
    env = {**project_env(), "ALOE_RULE_JUDGE_KEY": "rule"}
    times = {}
    shutil.rmtree(root / name, ignore_errors=True)
    with BackgroundServer(judge) as srv:
        project = throwaway_project(root / name, env, overrides(srv.base_url, args))
        for stage in STAGES:
            t0 = time.perf_counter()
            sh(f"dvc repro {stage}", project, env)
            times[stage] = round(time.perf_counter() - t0, 1)
            click.echo(f"{name}: {stage} {times[stage]} s", err=True)
            if stage == stop_after:
                break
    return {**summarise(project, reverse), "stage_wall_s": times}


def summarise(project: Path, reverse: bool) -> dict:
    """What a run's outputs say: labels and pairs against the rule, the judge check, and
    (once the benchmark ran) the paired comparisons, reply features and training metrics."""
    sign = -1 if reverse else 1
    result = {
        "labels": label_accuracy(project, sign),
        "pairs": chosen_feature(project, sign),
        "judge_check": json.loads((project / "metrics/judge.json").read_text()),
    }
    if (project / "metrics/aloe/compare.json").exists():
        compare = json.loads((project / "metrics/aloe/compare.json").read_text())
        result["compare"] = {k: compare[k] for k in ("dpo-base", "dpo-sft", "sft-base")}
        result["reply_feature"] = reply_feature(project)
        result["AL_mean"] = {
            v: json.loads((project / f"metrics/aloe/{v}.json").read_text())["AL_mean"] for v in ("base", "sft", "dpo")
        }
        result["train_dpo"] = json.loads((project / "metrics/train_dpo.json").read_text())
    return result


def label_direction_effect(planted: Path, reversed_: Path, variant: str, bootstrap: int = 1000) -> dict:
    """ΔAL of the planted run's policy minus the reversed run's, paired on the same benchmark
    dialogues (same personas, seeds and simulator): the effect of the label direction alone.
    aloe's paired_tables refuses runs scored by different judge models; the two rule servers
    differ only in their pairwise rule and score replies by the same rule, so the rows are
    aligned here directly."""
    a = load_records(planted / f"data/eval/{variant}.jsonl")
    b = {r.id: r for r in load_records(reversed_ / f"data/eval/{variant}.jsonl")}
    if sorted((r.id, r.seed) for r in a) != sorted((r.id, r.seed) for r in b.values()):
        raise click.ClickException("the planted and reversed benchmarks ran on different examples or seeds")
    b = [b[r.id] for r in a]
    turns = max(t.turn for r in a + b for t in r.turns)
    return compare(score_table(a, turns)[0], score_table(b, turns)[0], [r.profile_id for r in a], bootstrap, 0)


@click.command()
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="the result JSON")
@click.option("--serve-judge", type=int, default=None, metavar="PORT", help="only serve the rule judge on PORT")
@click.option("--position-bias", default=0.0, show_default=True, help="--serve-judge: added to P(first)")
@click.option("--length-bias", default=0.0, show_default=True, help="--serve-judge: P(first) towards the longer reply")
@click.option("--noise", default=0.0, show_default=True, help="--serve-judge: share of verdicts flipped")
@click.option("--constant-score", type=int, default=None, help="--serve-judge: every 1-5 score is this")
@click.option("--answer-format", type=click.Choice(FORMATS), default="word", show_default=True)
@click.option("--workdir", type=click.Path(file_okay=False), default="/tmp/aloe-known-answer", show_default=True)
@click.option("--trees", default=24, show_default=True, help="training personas that get a tree")
@click.option("--turns", default=3, show_default=True, help="turns per tree and per benchmark dialogue")
@click.option("--eval-examples", default=12, show_default=True)
@click.option("--sft-steps", default=8, show_default=True)
@click.option("--dpo-epochs", default=3, show_default=True)
@click.option("--lr", default=5e-4, show_default=True, help="SFT and DPO learning rate (LoRA)")
@click.option("--beta", default=0.1, show_default=True)
@click.option("--lora-r", default=16, show_default=True)
@click.option(
    "--precompute-ref/--no-precompute-ref",
    default=True,
    show_default=True,
    help="DPO computes the reference log-probabilities once up front (trl's precompute_ref_log_probs)",
)
@click.option("--no-control", is_flag=True, help="skip the reversed-label run")
@click.option("--stop-after", type=click.Choice(STAGES), default=None, help="stop each run after this stage")
@click.option(
    "--summarise-only",
    is_flag=True,
    help="run no stage: recompute the summaries of the runs in --workdir into --out, keeping the commit, "
    "settings and stage times --out already holds (after this script's analysis changed)",
)
def main(out, workdir, no_control, stop_after, summarise_only, serve_judge, **args) -> None:
    faults = {k: args.pop(k) for k in ("position_bias", "length_bias", "noise", "constant_score", "answer_format")}
    if serve_judge:
        server = rule_judge_server(RuleJudge(faults=JudgeFaults(**faults)))
        click.echo(f"rule judge ({server.root}) at http://127.0.0.1:{serve_judge}/v1, model rule-judge", err=True)
        web.run_app(server.app(), host="127.0.0.1", port=serve_judge, print=None, handler_cancellation=True)
        return
    if out is None:
        raise click.UsageError("--out is required (unless --serve-judge)")
    root = Path(workdir)
    root.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    names = ["planted"] if no_control else ["planted", "reversed"]
    if summarise_only:
        result = json.loads(Path(out).read_text())
        result["summarised_at"] = git_describe()
        for name in names:
            result[name] = {**summarise(root / name, name == "reversed"), "stage_wall_s": result[name]["stage_wall_s"]}
    else:
        result = {
            "commit": git_describe(),
            "rule": rule_judge.__doc__.split("fixed before any result was seen:")[1].split(":class:")[0].strip(),
            "settings": args,
        }
        for name in names:
            result[name] = run(name, name == "reversed", root, args, stop_after)
        result["wall_s"] = round(time.perf_counter() - t0, 1)
    if len(names) == 2 and all("compare" in result[n] for n in names):
        result["planted-reversed"] = {
            v: label_direction_effect(root / "planted", root / "reversed", v) for v in ("sft", "dpo")
        }
    write_result(out, result)


if __name__ == "__main__":
    main()
