"""metrics/trees.json: how many trees, how long, and how much of them the judge labelled.

Every number is over the turns of the kept trees. ``label_rate`` is the share of
turns that became a preference (the rest are ties, counted by reason);
``position_bias`` the share of order verdicts that said "first" (0.5 = none,
1.0 = the judge reads only the position); both are over turns judged in both orders, so
None under ``judge.pairwise.orders: hinted_first``, where "first" is always the hinted reply and
the share would be its win rate; ``mean_margin`` the mean
|P(hinted preferred) - 0.5| over labelled turns; ``reveal_by_turn`` the share of
the profile's content words the simulated user has stated by turn k
(aloe.personas.reveal).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass

from aloe.files import read_record
from aloe.personas.reveal import mean_by_turn, reveal_curve


@dataclass(frozen=True)
class TreeReport:
    trees: int  # kept (at least trees.min_turns turns)
    failed: int  # dropped: fewer turns than trees.min_turns
    trees_cut: int  # kept, but ended early by a failed call
    turns: int
    turns_mean: float
    judge_consistency: float | None  # share of turns whose two orders agree
    label_rate: float | None
    ties: int
    tie_reasons: dict[str, int]
    label_sources: dict[str, int]
    position_bias: float | None
    mean_margin: float | None
    hinted_win_rate: float | None
    verdict_methods: dict[str, int]  # how each order's verdict was read
    verdict_missing_reasons: dict[str, int]  # why verdicts were not read (aloe.roles.slots.REASONS)
    verdict_conflicts: int
    retried_turns: int
    reveal_by_turn: list[float | None]
    calls: dict

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def read(cls, path: str) -> TreeReport:
        return read_record(cls, path, "the trees stage")


def tree_metrics(trees: list, kept: list, calls: dict) -> TreeReport:
    turns = [turn for t in kept for turn in t.turns]
    judges = [turn.judge for turn in turns]
    labelled = [j for j in judges if j.hinted_won is not None]
    both = [j for j in judges if j.order_ba is not None]  # judge.pairwise.orders hinted_first asks one
    orders = [o.reading for j in both for o in (j.order_ab, j.order_ba)]
    said = [o.verdict for o in orders if o.verdict]
    margins = [j.margin for j in labelled if j.margin is not None]
    share = lambda k, n: round(k / n, 4) if n else None  # noqa: E731
    return TreeReport(
        trees=len(kept),
        failed=len(trees) - len(kept),
        trees_cut=sum(t.failure is not None for t in kept),
        turns=len(turns),
        turns_mean=round(len(turns) / len(kept), 3) if kept else 0.0,
        judge_consistency=share(sum(j.agree is True for j in both), len(both)),
        label_rate=share(len(labelled), len(judges)),
        ties=len(judges) - len(labelled),
        tie_reasons=dict(Counter(j.tie_reason for j in judges if j.hinted_won is None)),
        label_sources=dict(Counter(j.source for j in labelled)),
        position_bias=share(said.count("first"), len(said)),
        mean_margin=round(sum(margins) / len(margins), 4) if margins else None,
        hinted_win_rate=share(sum(j.hinted_won is True for j in labelled), len(labelled)),
        verdict_methods=dict(Counter(o.method for o in orders)),
        verdict_missing_reasons=dict(Counter(o.reason for o in orders if o.reason)),
        verdict_conflicts=sum(o.conflict for o in orders),
        retried_turns=sum(any(a > 1 for a in t.attempts.values()) for t in turns),
        reveal_by_turn=mean_by_turn([reveal_curve(t.profile, [turn.user for turn in t.turns]) for t in kept]),
        calls=calls,
    )
