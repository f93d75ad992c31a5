"""What a params file will cost before it runs: LLM calls, tokens, time and money per stage and role.

Calls follow the stages' loops exactly (re-asks of unusable outputs not counted), so
on the defaults they match the ``calls`` that ``dvc repro`` reports in ``metrics/``
within a few per cent for every role but the judge, whose answers not given where they
were asked are asked again (a weak judge's re-asks add up to about a tenth). Persona
generation stops when its pool reaches the target; the estimate assumes ``acceptance``
of the asked-for candidates join the pool.

Tokens are estimated from the prompt templates (4 characters a token): every reply as
long as its ``max_tokens`` (an upper bound for completions), every persona text in the
middle of its allowed word range, each turn's prompt carrying the whole conversation
so far. On the defaults the prompt tokens come within about 25% of what a run reports.
Time is ideal: calls x latency / concurrency for an endpoint (the pipeline keeps it
busy only if nothing waits on a slow call), and a measured seconds-per-call from
``logs/<stage>.json`` for the in-process model when a previous run left one.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from aloe.params import OpenAIBackendParams, Params

CHARS_PER_TOKEN = 4


@dataclass
class Row:
    stage: str
    role: str
    backend: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    seconds: float | None = None
    cost: float | None = None


def template_tokens(name: str) -> int:
    return len(resources.files("aloe.prompts").joinpath(f"{name}.txt").read_text()) // CHARS_PER_TOKEN


def persona_tokens(params: Params) -> int:
    """A profile plus a personality in the middle of their allowed word ranges (1.3 tokens a word)."""
    f = params.personas.filter
    return round(1.3 * (sum(f.profile_words) + sum(f.personality_words)) / 2)


def mean_history(turns: int, exchange: int) -> float:
    """Tokens of conversation a turn's prompt carries, averaged over turns 1..T."""
    return (turns - 1) / 2 * exchange


def seed_count(path: str) -> int:
    p = Path(path)
    return sum(1 for line in p.read_text().splitlines() if line.strip()) if p.is_file() else 0


def persona_rows(params: Params, acceptance: float) -> list[Row]:
    g = params.personas.generate
    per_round = g.calls_per_round * g.candidates_per_call * acceptance
    seeds = params.personas.seeds
    rounds = sum(
        min(g.max_rounds, max(1, math.ceil((g.target_size - seed_count(path)) / per_round)))
        for path in (seeds.profile, seeds.personality)
    )
    calls = rounds * g.calls_per_round
    prompt = template_tokens("persona_profile") + g.examples_per_prompt * persona_tokens(params) // 2
    rows = [Row("personas_generate", "persona_writer", "", calls, calls * prompt, calls * g.max_tokens)]
    if params.personas.filter.llm_check:
        checked = calls * g.candidates_per_call
        rows.append(
            Row(
                "personas_filter",
                "persona_checker",
                "",
                checked,
                checked * (template_tokens("persona_check") + persona_tokens(params) // 2),
                checked * 8,
            )
        )
    return rows


def judge_check_rows(params: Params) -> list[Row]:
    """Per planted pair (:mod:`aloe.judge_check`): one opening message, a reply for each of
    ``REPLIES``, every probe in both orders and every ``SCORED`` reply scored once."""
    from aloe.judge_check.planted import PROBES, REPLIES, SCORED  # the check's own lists, so the two never drift

    n = min(params.judge_check.pairs, params.personas.split.train_personas)
    t = params.trees.max_tokens
    persona = persona_tokens(params)
    pairwise, scores = 2 * len(PROBES) * n, len(SCORED) * n
    return [
        Row("judge_check", "user", "", n, n * (template_tokens("user_simulator") + persona), n * t.user),
        Row(
            "judge_check",
            "responder",
            "",
            len(REPLIES) * n,
            len(REPLIES) * n * (template_tokens("responder_hint") + persona + t.user),
            len(REPLIES) * n * t.responder,
        ),
        Row(
            "judge_check",
            "judge",
            "",
            pairwise + scores,
            pairwise * (template_tokens("judge_pair") + persona + 2 * t.responder)
            + scores * (template_tokens("judge_score") + persona + t.user + t.responder),
            pairwise * params.judge.pairwise.max_tokens + scores * params.judge.scoring.max_tokens,
        ),
    ]


def tree_rows(params: Params) -> list[Row]:
    cfg = params.trees
    trees = min(cfg.personas or params.personas.split.train_personas, params.personas.split.train_personas)
    n = trees * cfg.turns  # one call per role-step per turn
    t = cfg.max_tokens
    history = mean_history(cfg.turns, t.user + t.responder)
    persona = persona_tokens(params)
    # the inducer's prompt carries one worked example (a filled-in prompt and its answer) before the real one
    inducer = 2 * template_tokens("inducer") + sum(map(template_tokens, ("inducer_example", "inducer_example_answer")))
    inducer += 2 * persona
    orders = 2 if params.judge.pairwise.orders == "both" else 1  # the released code asks the hinted-first order only
    return [
        Row("trees", "user", "", n, round(n * (template_tokens("user_simulator") + persona + history)), n * t.user),
        Row("trees", "inducer", "", n, round(n * (inducer + history + t.user)), n * t.inducer),
        Row(
            "trees",
            "responder",
            "",
            2 * n,
            round(2 * n * (history + t.user) + n * (template_tokens("responder_hint") + t.inducer)),
            2 * n * t.responder,
        ),
        Row(
            "trees",
            "judge",
            "",
            orders * n,
            orders * n * (template_tokens("judge_pair") + persona + 2 * t.responder),
            orders * n * params.judge.pairwise.max_tokens,
        ),
    ]


def eval_examples(params: Params) -> int:
    cfg = params.eval
    if cfg.paper_files.profile and cfg.paper_files.personality:
        available = seed_count(cfg.paper_files.profile) * min(5, seed_count(cfg.paper_files.personality))
    else:
        available = params.personas.split.eval_profiles * params.personas.split.eval_personalities
    return min(cfg.examples or available, available)


def eval_rows(params: Params) -> list[Row]:
    cfg = params.eval
    n = eval_examples(params) * cfg.turns
    t = cfg.max_tokens
    history = mean_history(cfg.turns, t.user + t.model)
    persona = persona_tokens(params)
    rows = []
    for name, variant in cfg.variants.items():
        stage = f"aloe_eval@{name}"
        user_prompt = template_tokens("user_simulator") + persona + history
        judge_prompt = template_tokens("judge_score") + persona + t.user + t.model
        rows += [
            Row(stage, "user", "", n, round(n * user_prompt), n * t.user),
            Row(
                stage,
                "model",
                variant.backend or f"local:{variant.model}",
                n,
                round(n * (history + t.user)),
                n * t.model,
            ),
            Row(stage, "judge", "", n, round(n * judge_prompt), n * params.judge.scoring.max_tokens),
        ]
    return rows


def grpo_rows(params: Params) -> list[Row]:
    """Per episode (:mod:`aloe.training.episodes`): one simulator message per turn; per trained
    reply turn, ``num_generations`` replies each scored by the 1-5 judge (``judge_score``) and
    judged against the start policy's reply in both orders (``judge_pairwise``). The policy's
    own generation is local training work, not an LLM call."""
    cfg = params.grpo
    episodes = min(cfg.personas or params.personas.split.train_personas, params.personas.split.train_personas)
    episodes *= cfg.episodes
    user, reply = params.trees.max_tokens.user, cfg.max_completion_length
    history = mean_history(cfg.turns, user + reply)
    persona = persona_tokens(params)
    n = episodes * cfg.turns
    rows = [Row("grpo", "user", "", n, round(n * (template_tokens("user_simulator") + persona + history)), n * user)]
    scores = n * cfg.num_generations if cfg.rewards.get("judge_score") else 0
    pairs = 2 * n * cfg.num_generations if cfg.rewards.get("judge_pairwise") else 0
    if scores or pairs:
        prompt = scores * (template_tokens("judge_score") + persona + user + reply)
        prompt += pairs * (template_tokens("judge_pair") + persona + 2 * reply)
        completion = scores * params.judge.scoring.max_tokens + pairs * params.judge.pairwise.max_tokens
        rows.append(Row("grpo", "judge", "", scores + pairs, prompt, completion))
    return rows


def measured_seconds_per_call(logs: Path) -> dict[tuple[str, str], float]:
    """Seconds per call by (stage, role) from the run logs a previous ``dvc repro`` left."""
    out = {}
    for path in logs.glob("*.json"):
        stage = path.stem.replace("aloe_eval_", "aloe_eval@")
        log = json.loads(path.read_text())
        for role, c in log.get("calls", {}).items():
            done = log.get("workload", {}).get(role, {}).get("calls")
            if done and c.get("seconds") is not None and not c.get("cache_hits"):  # cache hits take no time
                out[stage, role] = c["seconds"] / done
    return out


def estimate(
    params: Params,
    latency_s: float = 1.0,
    prices: dict[str, tuple[float, float]] | None = None,
    acceptance: float = 0.5,
    logs: str = "logs",
) -> list[Row]:
    """One row per stage and role; ``prices`` maps a backend name to $ per 1M (input, output) tokens."""
    rows = persona_rows(params, acceptance) + judge_check_rows(params) + tree_rows(params)
    rows += grpo_rows(params) + eval_rows(params)
    measured = measured_seconds_per_call(Path(logs))
    for row in rows:
        row.backend = row.backend or params.llm.backend_of(row.role)
        backend = params.llm.backends.get(row.backend)
        if isinstance(backend, OpenAIBackendParams):
            row.seconds = row.calls * latency_s / backend.concurrency
        elif (row.stage, row.role) in measured:
            row.seconds = row.calls * measured[row.stage, row.role]
        price = (prices or {}).get(row.backend)
        if price:
            row.cost = (row.prompt_tokens * price[0] + row.completion_tokens * price[1]) / 1e6
    return rows
