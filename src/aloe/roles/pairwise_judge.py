"""The pairwise judge: told a persona, which of two replies would that user prefer?

Asked in the trees (the hinted reply against the plain one, in both orders) and in
the judge check (planted pairs with a known answer), always through this one
role, so the report card measures the judge exactly as the labels read it. The
reader is ours (:func:`aloe.roles.verdicts.read_verdict`: the verdict in the slot the
judge was asked to fill, with the "Verdict:" prefill where the backend continues one, and its
token probabilities) or the released code's (``judge.pairwise.read: exact_first``: anything
but exactly "first" is "second", no prefill).
"""

from __future__ import annotations

from dataclasses import dataclass

from aloe.llm.base import ChatResult
from aloe.llm.reask import Answer
from aloe.params import JudgeParams
from aloe.prompts import render
from aloe.roles.base import Role
from aloe.roles.slots import answer_text
from aloe.roles.verdicts import PREFILL, OrderAnswer, OrderReading, read_verdict, read_verdict_exact


@dataclass(frozen=True)
class PairAsk:
    profile: str  # the persona the judge is told of
    personality: str
    first: str  # shown as Message 1
    second: str  # shown as Message 2
    key: tuple


class PairwiseJudge(Role):
    plays = "judge"

    def __init__(self, cfg: JudgeParams, continues_prefill: bool):
        """``continues_prefill``: whether the judge's backend continues a trailing assistant
        message (:meth:`aloe.llm.client.LLM.continues_prefill`)."""
        super().__init__(cfg.decoding("pairwise"))
        self.verdict_read, self.min_mass = cfg.pairwise.read, cfg.pairwise.min_mass
        self.prefill = PREFILL if self.verdict_read == "parsed" and continues_prefill else ""

    def messages(self, item: PairAsk) -> list[dict]:
        content = render(
            "judge_pair", profile=item.profile, personality=item.personality, first=item.first, second=item.second
        )
        return [{"role": "user", "content": content}]

    def reading(self, result: ChatResult) -> OrderReading:
        """How the verdict reads, usable or not (``verdict`` None: missing)."""
        if self.verdict_read == "exact_first":
            return read_verdict_exact(result)
        return read_verdict(result, self.min_mass, self.prefill)

    def read(self, result: ChatResult) -> OrderReading | None:
        reading = self.reading(result)
        return None if reading.verdict is None else reading

    def order_answer(self, answer: Answer) -> OrderAnswer:
        """What the judge wrote in one order (the error, where the call failed) and how it reads."""
        result = answer.result
        raw = answer_text(result.text, self.prefill) if result.ok else result.error
        return OrderAnswer(raw, answer.value or self.reading(result))
