"""Run the ALOE benchmark: a user simulator role-plays each held-out persona and
chats with the evaluated model for T turns; after every reply a judge that sees
the true persona scores it 1-5. The evaluated model sees only the conversation.

Examples advance together one role-step at a time, so each step is one batched
call per role; seeds derive from (seed, example, turn, role, attempt), so the
response cache makes a killed run resume without repeating calls. A dialogue
stops early when the simulator or the evaluated model gives no usable output
after ``eval.max_attempts`` asks; its later turns are *stopped*, not missing.
A judge that gives no usable score leaves that turn *missing* (never imputed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aloe.conversations import simulator
from aloe.conversations.simulator import clean_message
from aloe.evaluation.records import BenchmarkTurn
from aloe.judging.questions import score_question
from aloe.judging.scores import answer_text, score_reading
from aloe.llm.client import LLM
from aloe.llm.reask import ask_until_usable
from aloe.params import EvalParams
from aloe.seeds import derive_seed


@dataclass
class Dialogue:
    example_id: str
    profile_id: str
    profile: str
    personality: str
    seed: int
    simulator: list[dict] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)  # what the evaluated model sees
    turns: list[BenchmarkTurn] = field(default_factory=list)
    stopped: str | None = None


def run_benchmark(llm: LLM, examples: list[dict], cfg: EvalParams, seed: int) -> list[Dialogue]:
    dialogues = [
        Dialogue(e["persona_id"], e["profile_id"], e["profile"], e["personality"], derive_seed(seed, e["persona_id"]))
        for e in examples
    ]
    for d in dialogues:
        d.simulator = simulator.opening(d.profile, d.personality)
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
            d.turns.append(
                BenchmarkTurn(
                    turn=turn + 1,
                    user=users[id(d)],
                    reply=replies[id(d)],
                    score=score,
                    score_method=method,
                    judge_raw=raw,
                )
            )
            d.messages.append({"role": "assistant", "content": replies[id(d)]})
            d.simulator = simulator.follow_up(d.simulator, users[id(d)], replies[id(d)])
    return dialogues


def _ask(llm: LLM, cfg: EvalParams, dialogues: list[Dialogue], turn: int, role: str, messages, parse) -> dict:
    """Text per dialogue for ``role``, re-asking with a new seed while unusable."""
    answers = ask_until_usable(
        llm,
        role,
        dialogues,
        messages,
        lambda d: (d.seed, turn, role),
        lambda r: parse(r.text),
        cfg.decoding(role),
    )
    return {id(d): a.value for d, a in zip(dialogues, answers, strict=True) if a.value is not None}


def _stop_missing(dialogues: list[Dialogue], got: dict, turn: int, who: str) -> list[Dialogue]:
    for d in dialogues:
        if id(d) not in got:
            d.stopped = f"turn {turn + 1}: {who} gave no usable output"
    return [d for d in dialogues if d.stopped is None]


def _judge(llm: LLM, cfg: EvalParams, dialogues: list[Dialogue], turn: int, users: dict, replies: dict) -> dict:
    """(score, method, raw) per dialogue; unusable output is re-asked, then left missing.
    Where the judge's backend continues a prefill, the judge completes "Score:" (not under
    ``eval.score_read: int``, which reads the answer as the released code did)."""
    prefill, read = score_reading(cfg.score_read, cfg.judge_min_mass, llm.continues_prefill("judge"))

    def parse(r) -> tuple[float, str] | None:
        score, method = read(r)
        return None if score is None else (score, method)

    out = {}
    answers = ask_until_usable(
        llm,
        "judge",
        dialogues,
        lambda d: score_question(d.profile, d.personality, users[id(d)], replies[id(d)]),
        lambda d: (d.seed, turn, "judge"),
        parse,
        cfg.decoding("judge"),
        prefill,
    )
    for d, a in zip(dialogues, answers, strict=True):
        score, method = a.value or (None, "missing")
        out[id(d)] = (score, method, answer_text(a.result, prefill))
    return out
