"""The whole benchmark for one model, shared by the aloe_eval stage and `aloe eval`:
the sampled examples, the simulator and judge that params name, the dialogues,
the metrics, and the W&B run."""

from __future__ import annotations

from collections import Counter

from aloe.evaluation.benchmark import run_benchmark
from aloe.evaluation.examples import load_examples
from aloe.evaluation.metrics import aloe_metrics, turn_rows
from aloe.evaluation.records import DialogueRecord, dialogue_record, score_table
from aloe.evaluation.report import EvalReport
from aloe.judging.card import MIN_CLUSTERS
from aloe.judging.gate import enforce, judge_gate
from aloe.judging.judge_card import JudgeCard
from aloe.llm.base import Backend
from aloe.llm.client import LLM
from aloe.params import EvalParams, Params
from aloe.personas.reveal import mean_by_turn, reveal_curve
from aloe.tracking import configure_wandb


def evaluate(
    params: Params, cfg: EvalParams, subject: Backend, eval_split: str, judge_check: JudgeCard | None, where: str
) -> tuple[LLM, list[DialogueRecord], EvalReport]:
    """(llm, per-dialogue records, report). ``judge_check``: metrics/judge.json, whose card
    of the 1-5 judge gates the run (:mod:`aloe.judging.gate`) before any call is made."""
    examples = load_examples(cfg, eval_split, params.seed)
    llm = LLM(params.llm, roles=("user", "judge"))
    gate = judge_gate(judge_check, llm.model_id("judge"))
    enforce(gate, params.judge.scoring.on_blind, where)
    llm.add_role("model", subject)
    dialogues = run_benchmark(llm, examples, cfg, params.judge, params.seed)
    models = {role: llm.model_id(role) for role in ("model", "user", "judge")}
    records = [dialogue_record(d, models) for d in dialogues]
    scores, asked = score_table(records, cfg.turns)
    metrics = aloe_metrics(scores, asked, [d.profile_id for d in dialogues], cfg.bootstrap, params.seed)
    methods = Counter(t.score_method for d in dialogues for t in d.turns)
    report = EvalReport(
        **metrics,
        underpowered=metrics["clusters"] < MIN_CLUSTERS,
        reveal_by_turn=mean_by_turn([reveal_curve(d.profile, [t.user for t in d.turns]) for d in dialogues]),
        score_methods={
            m: methods[m] for m in ("logprobs", "text", "missing") + (("int",) * (params.judge.scoring.read == "int"))
        },
        score_missing_reasons=dict(Counter(t.score_reason for d in dialogues for t in d.turns if t.score_reason)),
        dialogues_stopped=sum(d.stopped is not None for d in dialogues),
        judge_logprobs=llm.backend("judge").name not in llm.without_logprobs,
        models=models,
        **gate,
        calls=llm.report(),
    )
    return llm, records, report


def log_to_wandb(cfg, variant: str, report: EvalReport) -> None:
    """Summary metrics and a per-turn table, in a run named after the variant and experiment."""
    report_to, run_name = configure_wandb(cfg, f"aloe_eval-{variant}")
    if not report_to:
        return
    import wandb

    scalars = {k: v for k, v in report.to_json().items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    run = wandb.init(
        name=run_name,
        job_type="eval",
        config={"variant": variant, "model": report.models["model"], "turns": report.turns},
    )
    rows = turn_rows(report.AL, report.AL_n, variant)
    run.log({"aloe/by_turn": wandb.Table(columns=list(rows[0]), data=[list(r.values()) for r in rows])})
    run.summary.update({f"aloe/{k}": v for k, v in scalars.items()})
    run.finish()
