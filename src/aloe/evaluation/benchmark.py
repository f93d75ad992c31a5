"""Run the ALOE benchmark: a user simulator role-plays each held-out persona and
chats with the evaluated model for T turns; after every reply a judge that sees
the true persona scores it 1-5. The evaluated model sees only the conversation.

Examples advance together one role-step at a time, so each step is one batched
call per role; seeds derive from (seed, example, turn, role, attempt), so the
response cache makes a killed run resume without repeating calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from aloe.conversations.builder import derive_seed
from aloe.conversations.parsing import clean_message
from aloe.evaluation.examples import load_examples
from aloe.evaluation.metrics import aloe_metrics
from aloe.evaluation.scoring import read_score
from aloe.llm.base import ChatRequest
from aloe.llm.client import LLM
from aloe.llm.reask import ask_until_usable
from aloe.prompts import render


@dataclass
class Dialogue:
    example_id: str
    profile: str
    personality: str
    seed: int
    simulator: list[dict] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)  # what the evaluated model sees
    turns: list[dict] = field(default_factory=list)
    stopped: str | None = None


@dataclass(frozen=True)
class BenchConfig:
    turns: int
    max_attempts: int
    temperature: dict
    max_tokens: dict
    seed: int

    @classmethod
    def from_params(cls, cfg, seed: int) -> "BenchConfig":
        return cls(turns=cfg.turns, max_attempts=cfg.max_attempts, temperature=cfg.temperature.model_dump(),
                   max_tokens=cfg.max_tokens.model_dump(), seed=seed)


def run_benchmark(llm: LLM, examples: list[dict], cfg: BenchConfig) -> tuple[list[Dialogue], np.ndarray]:
    """Return the dialogues and the (examples x turns) score table (NaN = no score)."""
    dialogues = [Dialogue(e["persona_id"], e["profile"], e["personality"], derive_seed(cfg.seed, e["persona_id"]))
                 for e in examples]
    for d in dialogues:
        d.simulator = [{"role": "user", "content": render("user_simulator", profile=d.profile,
                                                           personality=d.personality)}]
    for turn in range(cfg.turns):
        active = [d for d in dialogues if d.stopped is None]
        users = _ask(llm, cfg, active, turn, "user", lambda d: d.simulator, clean_message)
        active = _stop_missing(active, users, turn, "user simulator")
        for d in active:
            d.messages.append({"role": "user", "content": users[id(d)]})
        replies = _ask(llm, cfg, active, turn, "model", lambda d: d.messages, lambda t: t.strip() or None)
        active = _stop_missing(active, replies, turn, "evaluated model")
        judged = _judge(llm, cfg, active, turn, users, replies)
        for d in active:
            score, method, raw = judged[id(d)]
            d.turns.append({"turn": turn + 1, "user": users[id(d)], "reply": replies[id(d)], "score": score,
                            "score_method": method, "judge_raw": raw})
            d.messages.append({"role": "assistant", "content": replies[id(d)]})
            d.simulator += [{"role": "assistant", "content": users[id(d)]},
                            {"role": "user", "content": render("user_followup", message=replies[id(d)])}]
    table = np.full((len(dialogues), cfg.turns), np.nan)
    for i, d in enumerate(dialogues):
        for t in d.turns:
            table[i, t["turn"] - 1] = np.nan if t["score"] is None else t["score"]
    return dialogues, table


def evaluate(params, cfg, subject, eval_split: str) -> tuple[LLM, list[Dialogue], dict]:
    """The whole benchmark for one model: personas, the simulator and judge that params
    name, the dialogues, and the metrics. Shared by the aloe_eval stage and `aloe eval`."""
    examples = load_examples(cfg, eval_split)
    llm = LLM(params.llm, roles=("user", "judge"))
    llm.add_role("model", subject)
    dialogues, table = run_benchmark(llm, examples, BenchConfig.from_params(cfg, params.seed))
    metrics = {**aloe_metrics(table, cfg.bootstrap, params.seed), "model": llm.model_id("model")}
    return llm, dialogues, metrics


def _request(cfg: BenchConfig, d: Dialogue, turn: int, role: str, attempt: int, messages: list[dict],
             top_logprobs: int = 0) -> ChatRequest:
    t = cfg.temperature[role]
    return ChatRequest.from_messages(messages, max_tokens=cfg.max_tokens[role], temperature=t,
                                     top_p=0.95 if t > 0 else 1.0, top_logprobs=top_logprobs,
                                     seed=derive_seed(d.seed, turn, role, attempt))


def _ask(llm: LLM, cfg: BenchConfig, dialogues: list[Dialogue], turn: int, role: str, messages, parse) -> dict:
    """Text per dialogue for ``role``, re-asking with a new seed while unusable."""
    answers = ask_until_usable(llm, role, dialogues,
                               lambda d, attempt: _request(cfg, d, turn, role, attempt, messages(d)),
                               lambda r: parse(r.text), cfg.max_attempts)
    return {id(d): a.value for d, a in zip(dialogues, answers) if a.value is not None}


def _stop_missing(dialogues: list[Dialogue], got: dict, turn: int, who: str) -> list[Dialogue]:
    for d in dialogues:
        if id(d) not in got:
            d.stopped = f"turn {turn + 1}: {who} gave no usable output"
    return [d for d in dialogues if d.stopped is None]


def _judge(llm: LLM, cfg: BenchConfig, dialogues: list[Dialogue], turn: int, users: dict, replies: dict) -> dict:
    """(score, method, raw) per dialogue; unusable output is retried, then left missing."""
    def request(d: Dialogue, attempt: int) -> ChatRequest:
        prompt = render("judge_score", profile=d.profile, personality=d.personality, message=users[id(d)],
                        reply=replies[id(d)])
        return _request(cfg, d, turn, "judge", attempt, [{"role": "user", "content": prompt}], top_logprobs=20)

    def parse(r) -> tuple[float, str] | None:
        score, method = read_score(r.text, r.first_token_logprobs)
        return None if score is None else (score, method)

    out = {}
    for d, a in zip(dialogues, ask_until_usable(llm, "judge", dialogues, request, parse, cfg.max_attempts)):
        score, method = a.value or (None, "missing")
        out[id(d)] = (score, method, a.result.text if a.result.ok else a.result.error)
    return out
