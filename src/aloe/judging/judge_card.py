"""The judge check's files as typed records: metrics/judge.json (:class:`JudgeCard`: which
judge the check measured, both judges' report cards, :mod:`aloe.judging.card`, and the
headline figures the gates read) and data/judge/label_noise.json (:class:`LabelNoise`).

The judge check writes them; the trees gate, the pairs stage, the benchmark's gate
(``aloe_eval``, ``aloe_compare``, ``aloe eval``, ``aloe compare``) and the dpo stage read
them here, so a field that is not there is an error naming the file, never a
``KeyError`` three modules away.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from aloe.files import read_record

PRODUCER = "the judge_check stage"


@dataclass(frozen=True)
class JudgeCard:
    judge: str  # the identity of the judge measured: a card applies only to that backend
    n: int  # planted pairs judged
    accuracy: float | None  # pairwise, planted pairs (0.5 = chance)
    accuracy_ci95: list[float] | None
    above_chance: bool  # the accuracy interval lies above 0.5
    pairwise: dict  # the pairwise judge's card
    scoring: dict  # the 1-5 judge's card

    @property
    def blind(self) -> bool:
        """The 1-5 judge cannot tell a reply written for the persona from one for somebody else,
        or its answers mostly gave no score where one was asked (``unreadable``)."""
        return self.scoring["status"] in ("blind", "unreadable")

    @property
    def underpowered(self) -> bool:
        """Too few profile clusters (or no interval) to rate the pairwise judge."""
        return self.pairwise["status"] == "underpowered"

    def weak(self, min_accuracy: float) -> bool:
        """The pairwise judge is unreadable, not above chance, or below ``min_accuracy`` on the planted pairs."""
        if self.pairwise["status"] == "unreadable":
            return True
        return not (self.above_chance and self.accuracy is not None and self.accuracy >= min_accuracy)

    @classmethod
    def read(cls, path: str | None) -> JudgeCard | None:
        """The card at ``path``, or None where there is none (an ``aloe eval`` outside a pipeline)."""
        if path is None or not Path(path).exists():
            return None
        return read_record(cls, path, PRODUCER)


@dataclass(frozen=True)
class LabelNoise:
    """How often the trees' label rule picks the mismatched reply of a planted pair: the flip
    rate ``dpo.label_noise: measured`` trains with (:mod:`aloe.training.label_noise`)."""

    flip_rate: float | None  # None: the rule labelled no planted pair
    flip_rate_ci95: list[float] | None
    labelled: int  # planted pairs the rule labelled (ties are no labels)
    asked: int
    rule: dict  # the label rule measured: judge.pairwise orders, disagreement, margin

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def read(cls, path: str) -> LabelNoise:
        return read_record(cls, path, PRODUCER)
