"""The lines of trees.jsonl: one conversation tree each, in the paper's released
format so its conversations.jsonl loads unchanged (``profile``, ``personality``,
``conversations: [{user, assistant: {preferred, rejected}, chosen,
inferred_profile, inferred_personality}]``), with our extras beside the paper's
fields (the judge's readings and label, retries, ids, seeds, model ids).

The builder writes every field. A reader also gets the paper's file, where
``rejected`` may be a list of replies and our extras (even ``chosen`` and the
inferred persona) may be missing: ``from_json`` gives those their defaults, and
``to_json`` writes our full format.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aloe.judging.labels import Label
from aloe.roles.verdicts import OrderAnswer


@dataclass(frozen=True)
class TurnJudge:
    """The judge block of a turn: both orders of the pairwise question (hinted reply first,
    then second) and the label rule's decision (aloe.judging.labels), named for the hinted
    reply."""

    order_ab: OrderAnswer | None
    order_ba: OrderAnswer | None
    agree: bool | None  # both orders preferred the same reply; None when an order is missing
    p_hinted: float | None  # order-averaged P(hinted preferred)
    margin: float | None  # |p_hinted - 0.5|
    source: str  # agree | average | hinted | tie | one_order (order_ba is None: judge.pairwise.orders hinted_first)
    tie_reason: str | None  # missing | disagree | within_margin
    hinted_won: bool | None  # None: a tie

    @classmethod
    def from_label(cls, order_ab: OrderAnswer, order_ba: OrderAnswer | None, label: Label) -> TurnJudge:
        ab, ba = order_ab.reading, order_ba.reading if order_ba else None
        agree = None
        if ba is not None and ab.verdict is not None and ba.verdict is not None:
            agree = (ab.verdict == "first") == (ba.verdict == "second")
        return cls(
            order_ab, order_ba, agree, label.p_subject, label.margin, label.source, label.tie_reason, label.subject_won
        )

    def to_json(self) -> dict:
        return {
            "order_ab": self.order_ab.to_json(),
            "order_ba": self.order_ba.to_json() if self.order_ba else None,
            "agree": self.agree,
            "p_hinted": self.p_hinted,
            "margin": self.margin,
            "source": self.source,
            "tie_reason": self.tie_reason,
            "hinted_won": self.hinted_won,
        }

    @classmethod
    def from_json(cls, record: dict) -> TurnJudge:
        """Also a block that holds only part of this (a hand-made file): pairs read only
        ``source``, which is ``paper`` when a file does not say."""
        orders = [OrderAnswer.from_json(record[k]) if record.get(k) else None for k in ("order_ab", "order_ba")]
        return cls(
            *orders,
            record.get("agree"),
            record.get("p_hinted"),
            record.get("margin"),
            record.get("source", "paper"),
            record.get("tie_reason"),
            record.get("hinted_won"),
        )


@dataclass(frozen=True)
class Replies:
    """The two assistant replies of a turn, as the judge ranked them."""

    preferred: str
    rejected: str | list[str]  # the paper's file may hold several rejected replies

    def to_json(self) -> dict:
        return {"preferred": self.preferred, "rejected": self.rejected}

    @classmethod
    def from_json(cls, record: dict) -> Replies:
        return cls(record["preferred"], record["rejected"])


@dataclass(frozen=True, kw_only=True)
class TreeTurn:
    """One turn: the user's message, both replies, the one the conversation continued with,
    and what the inducer inferred so far; then our extras."""

    user: str
    assistant: Replies
    chosen: str = "preferred"  # preferred | rejected: the reply the conversation continued with
    inferred_profile: str | None = None
    inferred_personality: str | None = None
    hinted: str | None = None  # preferred | rejected: the side of the persona-hinted reply
    tie: bool = False  # the judge gave no label: no training pair
    margin: float | None = None  # the label's margin, as in ``judge``
    judge: TurnJudge | None = None
    attempts: dict[str, int] = field(default_factory=dict)  # asks per role until a usable answer

    @property
    def label_source(self) -> str:
        """Who labelled the turn: the label rule's source, or ``paper`` for a turn whose file
        carries no judge block."""
        return self.judge.source if self.judge else "paper"

    def to_json(self) -> dict:
        return {
            "user": self.user,
            "assistant": self.assistant.to_json(),
            "chosen": self.chosen,
            "inferred_profile": self.inferred_profile,
            "inferred_personality": self.inferred_personality,
            "hinted": self.hinted,
            "tie": self.tie,
            "margin": self.margin,
            "judge": self.judge.to_json(),
            "attempts": self.attempts,
        }

    @classmethod
    def from_json(cls, record: dict) -> TreeTurn:
        judge = record.get("judge")
        return cls(
            user=record["user"],
            assistant=Replies.from_json(record["assistant"]),
            chosen=record.get("chosen", "preferred"),
            inferred_profile=record.get("inferred_profile"),
            inferred_personality=record.get("inferred_personality"),
            hinted=record.get("hinted"),
            tie=record.get("tie", False),
            margin=record.get("margin"),
            judge=TurnJudge.from_json(judge) if judge else None,
            attempts=record.get("attempts", {}),
        )


@dataclass(frozen=True, kw_only=True)
class ConversationTree:
    """One line of trees.jsonl (or of the paper's conversations.jsonl)."""

    profile: str = ""
    personality: str = ""
    conversations: list[TreeTurn]  # the turns along the branch that continued
    id: str | None = None  # the persona's id
    seed: int | None = None
    status: str | None = None  # complete | cut
    failure: str | None = None  # why the tree was cut
    models: dict[str, str] = field(default_factory=dict)  # role -> model id

    def to_json(self) -> dict:
        return {
            "profile": self.profile,
            "personality": self.personality,
            "conversations": [turn.to_json() for turn in self.conversations],
            "id": self.id,
            "seed": self.seed,
            "status": self.status,
            "failure": self.failure,
            "models": self.models,
        }

    @classmethod
    def from_json(cls, record: dict) -> ConversationTree:
        return cls(
            profile=record.get("profile", ""),
            personality=record.get("personality", ""),
            conversations=[TreeTurn.from_json(turn) for turn in record["conversations"]],
            id=record.get("id"),
            seed=record.get("seed"),
            status=record.get("status"),
            failure=record.get("failure"),
            models=record.get("models", {}),
        )
