"""Run the ALOE benchmark: a user simulator role-plays each held-out persona and
chats with the evaluated model for T turns; after every reply a judge that sees
the true persona scores it 1-5. The evaluated model sees only the conversation.

Examples advance together one role-step at a time, so each step is one batched
call per role; seeds derive from (seed, example, turn, role, attempt), so the
response cache makes a killed run resume without repeating calls. A dialogue
stops early when the simulator or the evaluated model gives no usable output
after ``eval.max_attempts`` asks; its later turns are *stopped*, not missing.
A judge that gives no usable score leaves that turn *missing* (never imputed).
Where the judge's backend continues a prefill, the judge completes "Score:" (not under
``judge.scoring.read: int``, which reads the answer as the released code did).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aloe.evaluation.records import BenchmarkTurn
from aloe.llm.client import LLM
from aloe.params import EvalParams, JudgeParams
from aloe.personas.rows import Persona
from aloe.roles.chat import Chat, ChatAsk
from aloe.roles.score_judge import ScoreAsk, ScoreJudge
from aloe.roles.simulator import SimulatorAsk, UserSimulator
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


def run_benchmark(
    llm: LLM, examples: list[Persona], cfg: EvalParams, judge_cfg: JudgeParams, seed: int
) -> list[Dialogue]:
    dialogues = [
        Dialogue(e.persona_id, e.profile_id, e.profile, e.personality, derive_seed(seed, e.persona_id))
        for e in examples
    ]
    user, model = UserSimulator(cfg.decoding("user")), Chat(cfg.decoding("model"))
    judge = ScoreJudge(judge_cfg, llm.continues_prefill("judge"))
    for d in dialogues:
        d.simulator = UserSimulator.opening(d.profile, d.personality)
    for turn in range(cfg.turns):
        active = [d for d in dialogues if d.stopped is None]
        users = _ask(llm, user, [SimulatorAsk(tuple(d.simulator), (d.seed, turn, "user")) for d in active], active)
        active = _stop_missing(active, users, turn, "user simulator")
        for d in active:
            d.messages.append({"role": "user", "content": users[id(d)]})
        replies = _ask(llm, model, [ChatAsk(tuple(d.messages), (d.seed, turn, "model")) for d in active], active)
        active = _stop_missing(active, replies, turn, "evaluated model")
        items = [
            ScoreAsk(d.profile, d.personality, users[id(d)], replies[id(d)], (d.seed, turn, "judge")) for d in active
        ]
        for d, judged in zip(active, judge.scores(llm, items), strict=True):
            d.turns.append(
                BenchmarkTurn(
                    turn=turn + 1,
                    user=users[id(d)],
                    reply=replies[id(d)],
                    score=judged.score,
                    score_method=judged.method,
                    score_reason=judged.reason,
                    judge_raw=judged.raw,
                )
            )
            d.messages.append({"role": "assistant", "content": replies[id(d)]})
            d.simulator = UserSimulator.follow_up(d.simulator, users[id(d)], replies[id(d)])
    return dialogues


def _ask(llm: LLM, role, items: list, dialogues: list[Dialogue]) -> dict:
    """Text per dialogue that got a usable answer (re-asked with a new seed while unusable)."""
    answers = role.ask(llm, items)
    return {id(d): a.value for d, a in zip(dialogues, answers, strict=True) if a.value is not None}


def _stop_missing(dialogues: list[Dialogue], got: dict, turn: int, who: str) -> list[Dialogue]:
    for d in dialogues:
        if id(d) not in got:
            d.stopped = f"turn {turn + 1}: {who} gave no usable output"
    return [d for d in dialogues if d.stopped is None]
