"""The rows of data/pairs: trl's conversational formats (``prompt`` messages, then
``chosen``/``rejected`` for DPO or ``completion`` for SFT), each followed by where
it comes from and how sure its label is, so training and analysis can weigh or
filter rows. Messages stay trl's ``{role, content}`` dicts. Field order is column
order in the saved datasets.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class DpoRow:
    prompt: list[dict]  # the history along the branch that continued, ending with the user's message
    chosen: list[dict]  # one assistant message: the preferred reply
    rejected: list[dict]  # one assistant message: a rejected reply
    conversation_id: str
    turn: int  # 1-based
    margin: float | None  # the label's margin; None for the paper's data
    label_source: str  # agree | average | hinted | paper

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, record: dict) -> DpoRow:
        return cls(**record)


@dataclass(frozen=True)
class SftRow:
    prompt: list[dict]  # as in DpoRow
    completion: list[dict]  # one assistant message: the preferred reply
    conversation_id: str
    turn: int
    margin: float | None
    label_source: str

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, record: dict) -> SftRow:
        return cls(**record)
