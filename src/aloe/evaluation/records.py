"""Per-dialogue benchmark records (data/eval/<variant>.jsonl) and what is read back
from them: the paired comparison needs both runs on the same examples, seeds,
simulator and judge, and refuses anything else.

A reader needs only what the comparison uses (ids, seed, models, each turn's
number and score); the other fields may be missing from a file and read as None.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from aloe.errors import AloeError
from aloe.files import read_jsonl


@dataclass(frozen=True, kw_only=True)
class BenchmarkTurn:
    """One scored turn: the simulator's message, the evaluated model's reply, and the
    judge's 1-5 score of it (None: the judge gave no usable score)."""

    turn: int  # 1-based
    user: str | None = None
    reply: str | None = None
    score: float | None
    score_method: str | None = None  # logprobs | text | int | missing
    score_reason: str | None = None  # why it is missing (aloe.roles.slots.REASONS)
    judge_raw: str | None = None  # what the judge wrote (the error, where the call failed)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, record: dict) -> BenchmarkTurn:
        return cls(
            turn=record["turn"],
            user=record.get("user"),
            reply=record.get("reply"),
            score=record["score"],
            score_method=record.get("score_method"),
            score_reason=record.get("score_reason"),
            judge_raw=record.get("judge_raw"),
        )


@dataclass(frozen=True, kw_only=True)
class DialogueRecord:
    """One line of data/eval/<variant>.jsonl: an example's persona, seed, why it stopped
    early (None: it ran every turn), its turns, and the model id of every role."""

    id: str  # the example's persona id
    profile_id: str  # the bootstrap cluster
    profile: str | None = None
    personality: str | None = None
    seed: int
    stopped: str | None = None
    turns: list[BenchmarkTurn]
    models: dict[str, str]  # model | user | judge -> model id

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, record: dict) -> DialogueRecord:
        return cls(
            id=record["id"],
            profile_id=record["profile_id"],
            profile=record.get("profile"),
            personality=record.get("personality"),
            seed=record["seed"],
            stopped=record.get("stopped"),
            turns=[BenchmarkTurn.from_json(t) for t in record["turns"]],
            models=record["models"],
        )


def score_table(records: list[DialogueRecord], turns: int) -> tuple[np.ndarray, np.ndarray]:
    """(scores, asked), both examples x turns: NaN where there is no score; ``asked`` is
    False for the turns a dialogue never reached because it stopped early."""
    scores = np.full((len(records), turns), np.nan)
    asked = np.zeros((len(records), turns), dtype=bool)
    for i, record in enumerate(records):
        for t in record.turns:
            asked[i, t.turn - 1] = True
            if t.score is not None:
                scores[i, t.turn - 1] = t.score
    return scores, asked


def dialogue_record(d, models: dict) -> DialogueRecord:
    """The record of a :class:`aloe.evaluation.benchmark.Dialogue`."""
    return DialogueRecord(
        id=d.example_id,
        profile_id=d.profile_id,
        profile=d.profile,
        personality=d.personality,
        seed=d.seed,
        stopped=d.stopped,
        turns=d.turns,
        models=models,
    )


def load_records(path: str) -> list[DialogueRecord]:
    records = []
    for lineno, rec in read_jsonl(path):
        if not isinstance(rec, dict) or not {"id", "profile_id", "seed", "turns", "models"} <= set(rec):
            raise AloeError(f"{path}:{lineno}: not a benchmark record (written by `aloe eval` or aloe_eval)")
        records.append(DialogueRecord.from_json(rec))
    if not records:
        raise AloeError(f"{path}: no benchmark records")
    return records


def aligned_runs(
    a: list[DialogueRecord], b: list[DialogueRecord], names: tuple[str, str]
) -> tuple[list[DialogueRecord], list[DialogueRecord], int]:
    """(A, B in A's order, turns): two runs of the same examples, seeds, simulator and judge,
    or an error saying why the runs differ."""

    def key(recs):
        return [(r.id, r.seed) for r in recs]

    if sorted(key(a)) != sorted(key(b)):
        only = sorted({r.id for r in a} ^ {r.id for r in b})[:5]
        raise AloeError(
            f"{names[0]} and {names[1]} were run on different examples or seeds "
            f"(e.g. {only or 'same ids, other seeds'}); run both with the same eval.examples, "
            "eval split and seed"
        )
    for role in ("user", "judge"):
        ids = {r.models[role] for r in a} | {r.models[role] for r in b}
        if len(ids) > 1:
            raise AloeError(
                f"{names[0]} and {names[1]} used different {role} models ({sorted(ids)}); "
                "a paired comparison needs the same simulator and judge"
            )
    by_id = {r.id: r for r in b}
    b = [by_id[r.id] for r in a]
    return a, b, max((t.turn for r in a + b for t in r.turns), default=1)


def paired_tables(a: list[DialogueRecord], b: list[DialogueRecord], names: tuple[str, str]) -> tuple:
    """(scores A, scores B, clusters) with rows aligned (:func:`aligned_runs`)."""
    a, b, turns = aligned_runs(a, b, names)
    return score_table(a, turns)[0], score_table(b, turns)[0], [r.profile_id for r in a]


def reply_table(records: list[DialogueRecord], turns: int) -> list[list[str | None]]:
    """The evaluated model's reply per example and turn (None where there is none)."""
    table = [[None] * turns for _ in records]
    for i, r in enumerate(records):
        for t in r.turns:
            table[i][t.turn - 1] = t.reply
    return table
