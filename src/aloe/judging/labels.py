"""The label rule: two orders of one pairwise question become a preference or a tie.

The judge sees the subject reply (the hinted one in trees, the one written for
the true persona in the judge check) once first and once second. Each order is
read into an :class:`OrderReading`; its P(first) is the verdict-token
probability when usable, else 1 or 0 from the text. Then

    P(subject preferred) = (P_first(subject first) + 1 - P_first(subject second)) / 2

which cancels a pure position bias (a judge that says "first" with 0.9 whatever
it reads gets exactly 0.5), and ``margin = |P(subject preferred) - 0.5|``.

- either order missing: a tie (``missing``);
- both orders prefer the same reply: a label (``agree``);
- they disagree: ``tie`` policy, a tie (``disagree``); ``hinted`` policy, the
  subject wins (``hinted``, a documented bias); ``average`` policy, a label by
  P(subject preferred) when the margin is at least ``min_margin`` (``average``),
  else a tie (``within_margin``).
A tie stays in the tree and never becomes a training pair. The released ALOE code asks
one order only (:func:`decide_one`), which keeps any position bias in the labels.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from aloe.roles.verdicts import OrderReading


@dataclass(frozen=True)
class Label:
    subject_won: bool | None  # None: a tie
    p_subject: float | None  # order-averaged P(subject preferred)
    margin: float | None  # |p_subject - 0.5|
    source: str  # agree | average | hinted | tie | one_order
    tie_reason: str | None  # missing | disagree | within_margin

    def to_json(self) -> dict:
        return asdict(self)


def order_p_first(reading: OrderReading) -> float | None:
    if reading.p_first is not None:
        return reading.p_first
    return None if reading.verdict is None else float(reading.verdict == "first")


def decide_one(subject_first: OrderReading) -> Label:
    """One order only, the subject (hinted) reply always first (``judge.pairwise.orders:
    hinted_first``, the released code): its verdict is the label, position bias and all;
    source ``one_order``."""
    p = order_p_first(subject_first)
    if p is None:
        return Label(None, None, None, "tie", "missing")
    return Label(subject_first.verdict == "first", p, round(abs(p - 0.5), 6), "one_order", None)


def decide(subject_first: OrderReading, subject_second: OrderReading, policy: str, min_margin: float) -> Label:
    """``policy``: average | tie | hinted (params ``judge.pairwise.disagreement``)."""
    p1, p2 = order_p_first(subject_first), order_p_first(subject_second)
    if p1 is None or p2 is None:
        return Label(None, None, None, "tie", "missing")
    p_subject = round((p1 + 1.0 - p2) / 2, 6)
    margin = round(abs(p_subject - 0.5), 6)
    won_first, won_second = subject_first.verdict == "first", subject_second.verdict == "second"
    if won_first == won_second:
        return Label(won_first, p_subject, margin, "agree", None)
    if policy == "hinted":
        return Label(True, p_subject, margin, "hinted", None)
    if policy == "average" and margin >= min_margin and margin > 0:
        return Label(p_subject > 0.5, p_subject, margin, "average", None)
    return Label(None, p_subject, margin, "tie", "disagree" if policy == "tie" else "within_margin")
