"""Read a pairwise verdict ("first" or "second") as judges write it.

Accepted: "first", "Second.", "**First**", "Message 2", "Response 1", "The
second one", "1", "I'd prefer the second message". Refused (None, so the judge
is asked again): both named ("first or second?"), "both", "neither", nothing. A
verdict at the head of the text decides even when an explanation follows;
elsewhere every verdict named must agree.

Probabilities: at the position where the judge wrote its verdict, the mass on
tokens meaning "first" against "second" (variants summed), used only when it
holds at least ``min_mass`` of that position. When usable, the probabilities
are the order's answer (the text is one draw from them; with greedy decoding
they agree); when the text and the probabilities disagree, both are recorded
and the probabilities win. Probabilities exactly even keep P(first) = 0.5 (where the
two orders' words disagree, the label rule's average then ties) with the text's word as the verdict: reading
1 or 0 from the text there would invent a position preference the judge does
not have. Without usable probabilities the text decides.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from aloe.llm.base import ChatResult
from aloe.roles.tokens import mass, position_of

LABEL = r"(?:message|response|reply|option|answer|candidate)"
MENTION = re.compile(
    rf"\b(?:(first|1st)|(second|2nd))\b|\b{LABEL}\s*#?\s*(?:(1|one)|(2|two))\b|^\s*[\W_]*(?:(1)|(2))\b", re.I
)
HEAD = re.compile(
    rf"^[\W_]*(?:(?:my\s+)?(?:answer|verdict|choice|preference)\b[\W_]*(?:is\b[\W_]*)?)?"
    rf"(?:the\s+)?(?:{LABEL}\s*)?$",
    re.I,
)
JOINED = re.compile(rf"[\s*_]*(?:or|and|/|,|vs\.?)[\s*_]*(?:the\s+)?(?:{LABEL}\s*)?", re.I)
UNDECIDED = re.compile(r"\b(both|neither|tie|equal(ly)?|cannot decide|can't decide)\b", re.I)
FIRST_WORDS = {"1", "1st", "first", "one"}
SECOND_WORDS = {"2", "2nd", "second", "two"}


def parse_verdict(text: str) -> tuple[str, int] | None:
    """('first' | 'second', character offset of the deciding word) or None."""
    mentions = []
    for m in MENTION.finditer(text):
        group = next(i for i, g in enumerate(m.groups()) if g)
        mentions.append(("first" if group % 2 == 0 else "second", m.start(group + 1), m.end()))
    if not mentions:
        return None
    verdict, offset, end = mentions[0]
    if UNDECIDED.search(text[:offset]):
        return None  # "Both are fine, but the first ..."
    joined = len(mentions) > 1 and JOINED.fullmatch(text[end : mentions[1][1]])  # "first or second"
    if HEAD.match(text[:offset]) and not joined:
        return verdict, offset
    if UNDECIDED.search(text) or {v for v, _, _ in mentions} != {verdict}:
        return None
    return verdict, offset


def verdict_meaning(token: str) -> str | None:
    word = token.strip().strip("*\"'().:#").lower()
    if word in FIRST_WORDS or (len(word) >= 3 and "first".startswith(word)):
        return "first"
    if word in SECOND_WORDS or (len(word) >= 3 and "second".startswith(word)):
        return "second"
    return None


@dataclass(frozen=True)
class OrderReading:
    """What the judge said in one order of the two replies."""

    verdict: str | None  # first | second | None (unusable: ask again, then missing)
    p_first: float | None  # P(first) from the verdict token's probabilities, if usable
    method: str  # logprobs | text | exact (read_verdict_exact) | missing
    text_verdict: str | None  # what the text says, recorded even when the probabilities decide

    @property
    def conflict(self) -> bool:
        return self.method == "logprobs" and self.text_verdict not in (None, self.verdict)

    def to_json(self) -> dict:
        return {**asdict(self), "conflict": self.conflict}

    @classmethod
    def from_json(cls, record: dict) -> OrderReading:
        """The reading :meth:`to_json` wrote (``conflict`` follows from the rest)."""
        return cls(record["verdict"], record["p_first"], record["method"], record["text_verdict"])


@dataclass(frozen=True)
class OrderAnswer:
    """One order as the trees and the judge check record it: what the judge wrote (the
    error, where the call failed), and how it was read."""

    raw: str | None
    reading: OrderReading

    def to_json(self) -> dict:
        return {"raw": self.raw, **self.reading.to_json()}

    @classmethod
    def from_json(cls, record: dict) -> OrderAnswer:
        return cls(record["raw"], OrderReading.from_json(record))


def read_verdict_exact(result: ChatResult) -> OrderReading:
    """The released ALOE code's reading (``judge.pairwise.read: exact_first``, the faithful
    preset): "first" exactly (surrounding whitespace aside), anything else "second", so
    "First", "Message 1" and "**first**" all count as second. No probabilities; a failed
    call is missing (the released code would have stopped). What our reader makes of the
    same text is kept as ``text_verdict``, so the artifact can be counted."""
    if not result.ok:
        return OrderReading(None, None, "missing", None)
    parsed = parse_verdict(result.text)
    verdict = "first" if result.text.strip() == "first" else "second"
    return OrderReading(verdict, None, "exact", parsed[0] if parsed else None)


def read_verdict(result: ChatResult, min_mass: float) -> OrderReading:
    parsed = parse_verdict(result.text)
    text_verdict = parsed[0] if parsed else None
    pos = position_of(result, parsed[1]) if parsed else None  # no verdict written: no verdict token
    if pos is not None:
        per_verdict = mass(result.logprobs[pos], verdict_meaning)
        total = per_verdict.get("first", 0.0) + per_verdict.get("second", 0.0)
        if total >= min_mass and total > 0:
            p_first = per_verdict.get("first", 0.0) / total
            verdict = text_verdict if p_first == 0.5 else "first" if p_first > 0.5 else "second"
            return OrderReading(verdict, p_first, "logprobs", text_verdict)
    if text_verdict:
        return OrderReading(text_verdict, None, "text", text_verdict)
    return OrderReading(None, None, "missing", None)
