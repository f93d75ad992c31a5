"""Known-answer experiment: a planted preference travels from the judge through DPO to
the benchmark, and reverses when the labels are reversed.

The judge is a rule, served over the same OpenAI-compatible HTTP a real judge uses
(the project's loopback server), with log-probabilities like a real endpoint.
Every other role stays the embedded model; nothing in src/aloe knows the judge is
a rule. The rule, fixed before any result was seen:

    persona words of a reply = distinct content words (4+ letters, not a stopword,
    a plural "s" dropped) of the persona's profile and personality that the reply uses.
    Pairwise: P(first) = sigmoid(3 * (words(first) - words(second))); an equal count
    gives 0.5, which the label rule makes a tie.
    Scoring (the benchmark): score = min(5, 1 + 2 * words), with 0.8 of the
    probability on that digit and the rest on its neighbours.

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
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import re
import shutil
import time
from importlib import resources
from pathlib import Path

import click

from aloe.conversations.pairs import load_conversations
from aloe.conversations.rows import DpoRow
from aloe.evaluation.metrics import compare
from aloe.evaluation.records import load_records, score_table
from aloe.llm.base import ChatRequest, ChatResult
from aloe.llm.server import BackgroundServer, ChatServer
from common import git_describe, project_env, sh, throwaway_project, write_result

STOPWORDS = set(
    """about above after again against also because been before being below between both could
does doing down during each even every from further have having here hers herself himself into itself just
like love loves make more most much myself never only other ours ourselves over really same should some such
than that their theirs them themselves then there these they this those through under until very what when
where which while will with would your yours yourself yourselves always often usually sometimes enjoy enjoys
things thing people person years year old life time work works working""".split()
)
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


def words(text: str) -> set[str]:
    return {w.removesuffix("s") for w in re.findall(r"[a-z]{4,}", text.lower()) if w not in STOPWORDS}


def persona_words(reply: str, profile: str, personality: str) -> int:
    return len(words(reply) & (words(profile) | words(personality)))


def template(name: str) -> re.Pattern:
    """The inverse of ``aloe.prompts.render(name, ...)``: a regex that gives back every field."""
    text = resources.files("aloe.prompts").joinpath(f"{name}.txt").read_text()
    parts = re.split(r"\{(\w+)\}", text)
    return re.compile(
        "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.*?)" for i, p in enumerate(parts)) + r"\Z", re.S
    )


PAIR, SCORE = template("judge_pair"), template("judge_score")


class RuleJudge:
    """Answers our two judge prompts (src/aloe/prompts/judge_pair.txt, judge_score.txt) by the rule."""

    def __init__(self, reverse_pairs: bool = False):
        self.sign = -1 if reverse_pairs else 1

    def generate(self, requests: list[ChatRequest]) -> list[ChatResult]:
        return [self.answer(r.messages[-1][1]) for r in requests]

    def answer(self, prompt: str) -> ChatResult:
        if m := PAIR.match(prompt):
            profile, personality = m["profile"], m["personality"]
            delta = persona_words(m["first"], profile, personality) - persona_words(m["second"], profile, personality)
            p_first = 1 / (1 + math.exp(-3 * self.sign * delta))
            word = "first" if p_first >= 0.5 else "second"
            return answer(word, {"first": p_first, "second": 1 - p_first})
        if m := SCORE.match(prompt):
            score = min(5, 1 + 2 * persona_words(m["reply"], m["profile"], m["personality"]))
            near = [d for d in (score - 1, score + 1) if 1 <= d <= 5]
            return answer(str(score), {str(score): 0.8, **{str(d): 0.2 / len(near) for d in near}})
        return ChatResult(text="", finish_reason="error", error="the rule judge answers only judge prompts")


def answer(token: str, probabilities: dict[str, float]) -> ChatResult:
    top = [[t, math.log(max(p, 1e-9))] for t, p in sorted(probabilities.items(), key=lambda kv: -kv[1])]
    return ChatResult(text=token, prompt_tokens=100, completion_tokens=1, logprobs=[{"token": token, "top": top}])


def overrides(url: str, args: dict) -> dict:
    return {
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
        "trees": {"personas": args["trees"], "turns": args["turns"], "judge_disagreement": "average"},
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


def reply_feature(project: Path) -> dict:
    """Mean persona words per benchmark reply, per variant: the rule's feature before and after training."""
    out = {}
    for variant in ("base", "sft", "dpo"):
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
    rule = [inspect.getsource(f) for f in (RuleJudge, answer, persona_words, words)] + sorted(STOPWORDS)
    code = hashlib.sha256("\n".join(rule).encode()).hexdigest()[:12]
    judge = ChatServer(
        RuleJudge(reverse_pairs=reverse).generate,
        model_name="rule-judge",
        batch_window_s=0.0,
        root=f"rule:{'fewer' if reverse else 'more'}-persona-words:{code}",
    )
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
@click.option("--out", type=click.Path(dir_okay=False), required=True)
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
def main(out, workdir, no_control, stop_after, summarise_only, **args) -> None:
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
            "rule": __doc__.split("fixed before any result was seen:")[1].split("A persona prefers")[0].strip(),
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
