"""Known answer, online: GRPO against the simulated user learns the planted preference, and
the opposite one when the rule is reversed.

The setting is the DPO headline's (bench/known_answer.py, ``--dpo``): the same rule judge over
HTTP, the same personas, the same benchmark (``--eval-examples`` dialogues of ``--turns``
turns, each reply scored by the rule's 1-5 score), every other role the embedded model. Stage
``grpo`` starts from the base model and is rewarded by ``judge_pairwise`` alone: the rule's
verdict, both orders, on the policy's reply against the start policy's reply to the same
conversation, as DPO's labels were the same rule's verdicts on two responders' replies.

    planted   the rule prefers the reply with more of the persona's own words;
    reversed  the rule prefers fewer (the 1-5 score the benchmark reads is unchanged).

Judge calls are matched to DPO's by default: the headline's trees asked the judge about 400
turns in both orders (800 calls); GRPO asks both orders for each of ``num_generations``
replies per trained turn, so 50 personas x 2 turns x 4 replies x 2 orders = 800.

Each arm runs in its own throwaway project (``--workdir``/ARM) with its rule judge on a fixed
port (``--port``, +1 for reversed): the judge's address is part of its model id, which keys
the response cache and grpo's checkpoints, so rerunning this script resumes a cut-off arm
where it stopped. An arm whose JSON is in ``--out-dir`` is not run again.

    python bench/known_answer_grpo.py
"""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import click
import yaml

from aloe.evaluation.comparison import paired_comparison
from aloe.evaluation.findings import interval
from aloe.evaluation.records import load_records
from aloe.llm.server import BackgroundServer
from aloe.personas.rows import read_personas
from common import git_describe, merge, p_text, project_env, sh, throwaway_project, write_result
from known_answer import label_direction_effect, overrides, reply_feature
from rule_judge import RuleJudge, rule_judge_server, words

STAGES = ("judge_check", "grpo", "aloe_eval@base", "aloe_eval@grpo")
KEPT = (
    "data/eval/base.jsonl",
    "data/eval/grpo.jsonl",
    "data/grpo/episodes.jsonl",
    "data/personas/train.parquet",
    "metrics/train_grpo_curve.json",
)


def grpo_params(args: dict) -> dict:
    return {
        "init": "base",
        "personas": args["personas"],
        "turns": args["turns"],
        "rewards": {"judge_pairwise": 1.0, "persona_copy": 0.0},
        # the rule judges its own rule without fault; the card's planted pairs test the responders
        # as much as the judge (8 pairs: too few to call it able), so its verdict is recorded, not enforced
        "on_blind_judge": "warn",
        "num_generations": args["num_generations"],
        "per_device_train_batch_size": args["num_generations"],
        "max_completion_length": args["max_completion_length"],
        "temperature": 0.7,  # the benchmark samples the model at eval.temperature.model 0.7, not trl's 1.0
        "learning_rate": args["lr"],
        "beta": args["beta"],
        "save_steps": 10,
        "lora": {"r": args["lora_r"], "alpha": 2 * args["lora_r"]},
    }


def project_for(root: Path, env: dict, url: str, made_with: dict) -> Path:
    """The arm's throwaway project: made once (``settings.json``, written last, marks it made),
    reused by a rerun made with the same settings."""
    project, recorded = root / "project", root / "settings.json"
    if recorded.exists():
        if json.loads(recorded.read_text()) != made_with:
            raise click.ClickException(f"{project} was made with other settings ({recorded}); remove {root}")
        return project
    shutil.rmtree(root, ignore_errors=True)
    args, headline = made_with["args"], made_with["headline"]
    throwaway_project(project, env, merge(overrides(url, headline), {"grpo": grpo_params(args)}))
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["grpo"]["rewards"] = grpo_params(args)["rewards"]  # these rewards only, not merged into the default's
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    recorded.write_text(json.dumps(made_with, indent=2) + "\n")
    return project


class StageClock:
    """Seconds per stage over every run of an arm, a cut-off run included (saved every 30 s),
    so a resumed arm reports what it cost in all."""

    def __init__(self, path: Path):
        self.path = path
        self.spent = json.loads(path.read_text()) if path.exists() else {}

    @contextmanager
    def timing(self, stage: str):
        before, t0, done = self.spent.get(stage, 0.0), time.perf_counter(), threading.Event()

        def save() -> None:
            self.spent[stage] = round(before + time.perf_counter() - t0, 1)
            self.path.write_text(json.dumps(self.spent, indent=2) + "\n")

        beat = threading.Thread(target=lambda: [save() for _ in iter(lambda: done.wait(30), True)], daemon=True)
        beat.start()
        try:
            yield
        finally:
            done.set()
            beat.join()
            save()


def run_arm(name: str, port: int, root: Path, made_with: dict, arm_dir: Path) -> dict:
    judge = rule_judge_server(RuleJudge(reverse_pairs=name == "reversed"))
    env = {**project_env(), "ALOE_RULE_JUDGE_KEY": "rule"}
    clock = StageClock(root / name / "stage_seconds.json")
    with BackgroundServer(judge, port=port) as srv:
        project = project_for(root / name, env, srv.base_url, made_with)
        for stage in STAGES:
            with clock.timing(stage):
                sh(f"dvc repro {stage}", project, env)
            click.echo(f"{name}: {stage} {clock.spent[stage]} s in all", err=True)
    for rel in KEPT:
        (arm_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(project / rel, arm_dir / rel)
    return {"judge": judge.root, "stage_wall_s": clock.spent, **summarise(project, made_with["args"]["bootstrap"])}


def judge_calls(episodes: Path) -> int:
    """The pairwise judge's calls the rewards made: both orders for every rewarded reply (from
    the episode records, so a resumed run's calls before its checkpoint count too; re-asks of
    an unread verdict aside, which the rule judge never needs)."""
    rewarded = 0
    for line in episodes.read_text().splitlines():
        for turn in json.loads(line)["turns"]:
            rewarded += sum(s["rewards"].get("judge_pairwise") is not None for s in turn["samples"] or [])
    return 2 * rewarded


def summarise(project: Path, n_boot: int) -> dict:
    """GRPO against base on the benchmark (paired, by profile), the rule's feature in the
    replies, what training logged, and the judge card the gate read."""
    base, grpo = (load_records(project / f"data/eval/{v}.jsonl") for v in ("base", "grpo"))
    card = json.loads((project / "metrics/judge.json").read_text())
    return {
        "grpo-base": paired_comparison(grpo, base, ("grpo", "base"), n_boot, 0),
        "AL_mean": {
            v: json.loads((project / f"metrics/aloe/{v}.json").read_text())["AL_mean"] for v in ("base", "grpo")
        },
        "reply_feature": reply_feature(project, ("base", "grpo")),
        "train_grpo": json.loads((project / "metrics/train_grpo.json").read_text()),
        "judge_calls": judge_calls(project / "data/grpo/episodes.jsonl"),
        "run": json.loads((project / "logs/grpo.json").read_text()),
        "judge_card": {k: card[k] for k in ("accuracy", "accuracy_ci95", "above_chance", "n", "clusters")},
    }


def persona_words_in_training(arm_dir: Path) -> dict:
    """What the sampled replies did for the rule, by halves of the episodes: persona words per
    sample, persona words in the simulated user's turn it answered, and the sample's persona
    words that the user's turn had just said (echoed rather than drawn from the persona)."""
    personas = {
        p.persona_id: words(p.profile) | words(p.personality)
        for p in read_personas(arm_dir / "data/personas/train.parquet")
    }
    episodes = [json.loads(line) for line in (arm_dir / "data/grpo/episodes.jsonl").read_text().splitlines()]
    half = len(episodes) // 2
    out = {}
    for name, group in (("first_half", episodes[:half]), ("second_half", episodes[half:])):
        sample, user, echoed = [], [], []
        for e in group:
            persona = personas[e["persona_id"]]
            for turn in e["turns"]:
                said = words(turn["user"]) & persona
                for s in turn["samples"] or []:
                    found = words(s["text"]) & persona
                    sample.append(len(found))
                    user.append(len(said))
                    echoed.append(len(found & said))
        mean = lambda xs: round(sum(xs) / len(xs), 2)  # noqa: E731
        out[name] = {
            "samples": len(sample),
            "persona_words": mean(sample),
            "in_user_turn": mean(user),
            "echoed": mean(echoed),
        }
    return out


def five_word_runs(text: str) -> set[tuple[str, ...]]:
    """Every run of five words in a row (lower-cased), to tell a reply that echoes its user."""
    w = re.findall(r"\w+", text.lower())
    return {tuple(w[i : i + 5]) for i in range(len(w) - 4)}


def what_changed(arm_dir: Path) -> dict:
    """What training did besides the benchmark score, from an arm's kept files: its curve (steps
    whose group had no advantage, KL to the start policy, the share of reply trigrams copied from
    the persona over the first and last 20 steps) and, for base and grpo's benchmark replies,
    how many are mostly symbols (under 30% letters) and how many repeat five words in a row of
    the user's turn they answer (an echo)."""
    curve = json.loads((arm_dir / "metrics/train_grpo_curve.json").read_text())
    mean = lambda rows, key: round(sum(r[key] for r in rows) / len(rows), 3)  # noqa: E731
    replies = {}
    for variant in ("base", "grpo"):
        turns = [t for r in load_records(arm_dir / f"data/eval/{variant}.jsonl") for t in r.turns]
        replies[variant] = {
            "replies": len(turns),
            "mostly_symbols": sum(len(re.findall(r"[^\W\d_]", t.reply)) < 0.3 * max(1, len(t.reply)) for t in turns),
            "echo_user": sum(bool(five_word_runs(t.reply) & five_word_runs(t.user)) for t in turns),
        }
    return {
        "steps": len(curve),
        "no_advantage_steps": sum(r["reward_std"] == 0 for r in curve),
        "kl_mean": mean(curve, "kl"),
        "kl_max": round(max(r["kl"] for r in curve), 3),
        "persona_copy": [mean(curve[:20], "monitor/persona_copy"), mean(curve[-20:], "monitor/persona_copy")],
        "benchmark_replies": replies,
    }


def dpo_beside(headline: dict) -> dict:
    """The DPO headline's result and wall time as bench/known_answer.py measured them; its judge
    calls counted from its tree turns (both orders of each)."""
    out = {"commit": headline["commit"]}
    for arm in ("planted", "reversed"):
        r = headline[arm]
        walls = r["stage_wall_s"]
        out[arm] = {
            "dpo-base": r["compare"]["dpo-base"],
            "judge_calls": 2 * r["labels"]["turns"],  # both orders of every tree turn
            "wall_s": round(sum(walls[s] for s in ("trees", "pairs", "sft", "dpo")), 1),
            "train_steps": r["train_dpo"]["steps"],
        }
    out["planted-reversed"] = headline["planted-reversed"]["dpo"]
    return out


@click.command()
@click.option("--dpo", "dpo_path", default="bench/results/known_answer.json", show_default=True)
@click.option("--workdir", type=click.Path(file_okay=False), default="/tmp/aloe-known-answer-grpo", show_default=True)
@click.option("--out-dir", default="bench/results/known_answer_grpo", show_default=True)
@click.option("--out", default="bench/results/known_answer_grpo.json", show_default=True)
@click.option("--port", default=8031, show_default=True, help="the planted arm's rule judge; reversed: +1")
@click.option("--personas", default=50, show_default=True, help="training personas that play an episode")
@click.option("--turns", default=2, show_default=True, help="turns per episode (and per benchmark dialogue)")
@click.option("--eval-examples", default=60, show_default=True)
@click.option("--num-generations", default=4, show_default=True)
@click.option("--max-completion-length", default=64, show_default=True)
@click.option(
    "--lr",
    default=2e-4,
    show_default=True,
    help="GRPO learning rate (LoRA): twice DPO's 1e-4, which saw each pair in 3 epochs where GRPO sees a turn once",
)
@click.option("--beta", default=0.04, show_default=True)
@click.option("--lora-r", default=16, show_default=True)
@click.option("--bootstrap", default=1000, show_default=True)
@click.option("--arms", default="planted,reversed", show_default=True)
def main(dpo_path, workdir, out_dir, out, port, arms, **args) -> None:
    dpo = json.loads(Path(dpo_path).read_text())
    headline = {**dpo["settings"], "eval_examples": args["eval_examples"], "turns": args["turns"]}
    result = {"commit": git_describe(), "settings": args, "arms": {}}
    for name in arms.split(","):
        arm_dir, path = Path(out_dir) / name, Path(out_dir) / f"{name}.json"
        if not path.exists():
            made_with = {"args": args, "headline": headline}
            arm = run_arm(name, port + (name == "reversed"), Path(workdir), made_with, arm_dir)
            write_result(str(path), {"commit": git_describe(), "settings": args, **arm})
        result["arms"][name] = json.loads(path.read_text())
    if {"planted", "reversed"} <= set(result["arms"]):
        dirs = [Path(out_dir) / n for n in ("planted", "reversed")]
        result["planted-reversed"] = label_direction_effect(*dirs, "grpo", args["bootstrap"])
    result["training_samples"] = {n: persona_words_in_training(Path(out_dir) / n) for n in result["arms"]}
    result["dpo"] = dpo_beside(dpo)
    write_result(out, result)
    Path(out).with_suffix(".md").write_text(markdown(result))


def markdown(result: dict) -> str:
    """One row per method and direction: the benchmark difference from base (profile-clustered
    95% interval), the judge calls and wall time training cost, and the steps taken."""
    lines = [
        "| method | rule | AL_mean − base [95% CI] | judge calls | wall s (data + training) | steps |",
        "|---|---|---|---|---|---|",
    ]
    for name, arm in result["arms"].items():
        d = arm["grpo-base"]
        lines.append(
            f"| GRPO | {name} | {interval(d['AL_mean'], d['AL_mean_ci95'], '+.2f')} | {arm['judge_calls']} | "
            f"{arm['stage_wall_s']['grpo']} | "
            f"{arm['train_grpo']['steps']} |"
        )
    for name in ("planted", "reversed"):
        d = result["dpo"][name]
        lines.append(
            f"| DPO | {name} | {interval(d['dpo-base']['AL_mean'], d['dpo-base']['AL_mean_ci95'], '+.2f')} | "
            f"{d['judge_calls']} | {d['wall_s']} | {d['train_steps']} |"
        )
    lines.append("")
    both = [("GRPO", result.get("planted-reversed")), ("DPO", result["dpo"]["planted-reversed"])]
    lines += [
        f"{method} planted − reversed, on the same dialogues: "
        f"{interval(d['AL_mean'], d['AL_mean_ci95'], '+.2f')} ({p_text(d)})"
        for method, d in both
        if d
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
