"""Read a pairwise verdict ("first" or "second") from where the judge was asked to give it.

The judge is asked to fill a slot (:mod:`aloe.roles.slots`): where the backend continues
a prefill it completes "Verdict:", and the text read is the prefill and its continuation.
A verdict is read from the slot (the head of an answer, or of its last line, that opens
with "Verdict:", "Answer:", ...: "Verdict: Message 1: My name is...") or from an answer
that is a verdict and nothing else ("First.", "**Second**", "Message 2", "The second
one", "2"). Anything else is missing with its reason: "1. The user would say second."
is a ``list``, "first or second?" and "both" are ``ambiguous``, "I'd prefer the second
message." and "First, I will make sure..." are ``unslotted``.

Probabilities: at the token where the verdict was written, the mass on tokens meaning
"first" against "second" (variants summed), used only when it holds at least
``min_mass`` of that position. When usable, the probabilities are the order's answer
(the text is one draw from them; with greedy decoding they agree); when the text and the
probabilities disagree, both are recorded and the probabilities win. Probabilities
exactly even keep P(first) = 0.5 (where the two orders' words disagree, the label rule's
average then ties) with the text's word as the verdict: reading 1 or 0 from the text there
would invent a position preference the judge does not have. Without usable
probabilities the text decides.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from aloe.llm.base import ChatResult
from aloe.roles.slots import answer_text, last_line, opens_list
from aloe.roles.tokens import mass, position_of

PREFILL = "Verdict:"  # the assistant turn the pairwise judge completes, where the backend continues one
LABEL = r"(?:message|response|reply|option|answer|candidate)"
# the verdict: "Message 1", "response two", "the first (one|message)", "2nd", "1"; even groups mean first
VERDICT = (
    rf"(?:(?:the\s+)?{LABEL}\s*#?\s*(?:(1|one)|(2|two))|(?:the\s+)?(?:(first|1st)|(second|2nd))"
    rf"(?:\s+(?:one|{LABEL}))?|(1)|(2))"
)
SEP = r"[^\w\n]*+"  # markup, colons and spaces on one line: a slot never runs on into a list below it
SLOT_LABEL = rf"(?:verdict|answer|choice|preference)(?:[^\S\n]++is\b)?+{SEP}"
SLOT = re.compile(rf"^{SEP}(?:{SLOT_LABEL})+(?P<v>{VERDICT})(?![\w/-]|\.\d)", re.I | re.M)  # re.M: or a last line
WHOLE = re.compile(rf"^[\W_]*+(?P<v>{VERDICT})[\W_]*+$", re.I)
ONE = (  # any one verdict, in full ("the first one", "message 2"), for telling "X or Y" apart
    rf"(?:(?:the\s+)?{LABEL}\s*#?\s*(?:[12]|one|two)\b"
    rf"|(?:the\s+)?(?:first|1st|second|2nd)\b(?:\s+(?:one|{LABEL})\b)?|\b[12]\b)"
)
JOINED = re.compile(rf"{ONE}[\s*_]*(?:,\s*)?(?:or|and|/|,|vs\.?)[\s*_]*{ONE}", re.I)  # "the first or the second one"
UNDECIDED = re.compile(r"\b(both|neither|tie|equal(ly)?|cannot decide|can't decide|either)\b", re.I)
MENTION = re.compile(rf"\b(?:first|second|1st|2nd)\b|\b{LABEL}\s*#?\s*(?:[12]|one|two)\b|\b[12]\b", re.I)
FIRST_WORDS = {"1", "1st", "first", "one"}
SECOND_WORDS = {"2", "2nd", "second", "two"}


def parse_verdict(text: str) -> tuple[str | None, int | None, str | None]:
    """(verdict, character offset of its word, None) where ``text`` answers in the slot or as a
    whole; else (None, None, reason), a reason of :data:`aloe.roles.slots.REASONS`."""
    last = last_line(text)
    for pattern, start in ((SLOT, 0), (WHOLE, 0), (SLOT, last)):
        m = pattern.match(text, start)
        if m:
            group = next(i for i, g in enumerate(m.groups()[1:]) if g)  # after the whole verdict, group "v"
            if UNDECIDED.search(text, start, m.start("v")) or JOINED.match(text, m.start("v")):
                return None, None, "ambiguous"  # "Verdict: both, but first", "Verdict: the first or the second"
            return ("first" if group % 2 == 0 else "second"), m.start(group + 2), None
    if opens_list(text):
        return None, None, "list"
    if UNDECIDED.search(text) or JOINED.search(text):
        return None, None, "ambiguous"
    return None, None, "unslotted" if MENTION.search(text) else "none"


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
    reason: str | None = None  # why the text gave no verdict (aloe.roles.slots.REASONS); None: it gave one

    @property
    def conflict(self) -> bool:
        return self.method == "logprobs" and self.text_verdict not in (None, self.verdict)

    def to_json(self) -> dict:
        return {**asdict(self), "conflict": self.conflict}

    @classmethod
    def from_json(cls, record: dict) -> OrderReading:
        """The reading :meth:`to_json` wrote (``conflict`` follows from the rest)."""
        return cls(record["verdict"], record["p_first"], record["method"], record["text_verdict"], record["reason"])


@dataclass(frozen=True)
class OrderAnswer:
    """One order as the trees and the judge check record it: what the judge wrote (the
    prefill it completed included; the error, where the call failed), and how it was read."""

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
    "First", "Message 1" and "**first**" all count as second. No probabilities, no prefill;
    a failed call is missing (the released code would have stopped). What our reader makes
    of the same text is kept as ``text_verdict``, so the artifact can be counted."""
    if not result.ok:
        return OrderReading(None, None, "missing", None, "error")
    verdict = "first" if result.text.strip() == "first" else "second"
    return OrderReading(verdict, None, "exact", parse_verdict(result.text)[0])


def read_verdict(result: ChatResult, min_mass: float, prefill: str = "") -> OrderReading:
    """The order's reading; ``prefill``: the text the backend continued (the answer read is the
    prefill followed by ``result.text``)."""
    if not result.ok:
        return OrderReading(None, None, "missing", None, "error")
    answer = answer_text(result.text, prefill)
    text_verdict, offset, reason = parse_verdict(answer)
    if text_verdict is None:
        return OrderReading(None, None, "missing", None, reason)
    at = offset - (len(answer) - len(result.text))  # the verdict's place in the continuation
    pos = position_of(result, at) if at >= 0 else None
    if pos is not None:
        per_verdict = mass(result.logprobs[pos], verdict_meaning)
        total = per_verdict.get("first", 0.0) + per_verdict.get("second", 0.0)
        if total >= min_mass and total > 0:
            p_first = per_verdict.get("first", 0.0) / total
            verdict = text_verdict if p_first == 0.5 else "first" if p_first > 0.5 else "second"
            return OrderReading(verdict, p_first, "logprobs", text_verdict)
    return OrderReading(text_verdict, None, "text", text_verdict)
