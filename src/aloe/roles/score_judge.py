"""The 1-5 judge: told a persona, how well is one reply tailored to that user?

Asked in the benchmark (every reply of the evaluated model) and in the judge check
(planted replies), always through this one role, so the report card measures the
judge exactly as the benchmark reads it. The reader is ours
(:func:`aloe.roles.scores.read_score`: the score in the slot the judge was asked to fill,
with the "Score:" prefill where the backend continues one, and its token probabilities) or the released code's
``int()`` of the whole answer (``judge.scoring.read: int``, no prefill).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from aloe.llm.base import ChatResult
from aloe.llm.reask import Answer
from aloe.params import JudgeParams
from aloe.prompts import render
from aloe.roles.base import Role
from aloe.roles.scores import PREFILL, read_score, read_score_int
from aloe.roles.slots import answer_text


@dataclass(frozen=True)
class ScoreAsk:
    profile: str
    personality: str
    message: str  # the user's message the reply answers
    reply: str
    key: tuple


@dataclass(frozen=True)
class JudgedScore:
    """The judge's score of one reply, with what it wrote (the prefill it completed included)."""

    score: float | None
    method: str  # logprobs | text | int | missing
    raw: str | None  # the answer as read, or the error of a failed call
    reason: str | None = None  # why no score was read (aloe.roles.slots.REASONS); None: one was

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, record: dict) -> JudgedScore:
        return cls(record["score"], record["method"], record["raw"], record["reason"])


class ScoreJudge(Role):
    plays = "judge"

    def __init__(self, cfg: JudgeParams, continues_prefill: bool):
        """``continues_prefill``: whether the judge's backend continues a trailing assistant
        message (:meth:`aloe.llm.client.LLM.continues_prefill`)."""
        super().__init__(cfg.decoding("scoring"))
        self.score_read, self.min_mass = cfg.scoring.read, cfg.scoring.min_mass
        self.prefill = PREFILL if self.score_read == "parsed" and continues_prefill else ""

    def messages(self, item: ScoreAsk) -> list[dict]:
        content = render(
            "judge_score", profile=item.profile, personality=item.personality, message=item.message, reply=item.reply
        )
        return [{"role": "user", "content": content}]

    def reading(self, result: ChatResult) -> tuple[float | None, str, str | None]:
        """(score, method, why it is missing), usable or not."""
        if self.score_read == "int":
            return read_score_int(result)
        return read_score(result, self.min_mass, self.prefill)

    def read(self, result: ChatResult) -> tuple[float, str] | None:
        score, method, _ = self.reading(result)
        return None if score is None else (score, method)

    def judged(self, answer: Answer) -> JudgedScore:
        result = answer.result
        score, method, reason = (*answer.value, None) if answer.value else self.reading(result)
        raw = answer_text(result.text, self.prefill) if result.ok else result.error
        return JudgedScore(score, method, raw, reason)

    def scores(self, llm, items: list[ScoreAsk]) -> list[JudgedScore]:
        """One score per item, missing where every attempt was unreadable."""
        return [self.judged(a) for a in self.ask(llm, items)]
