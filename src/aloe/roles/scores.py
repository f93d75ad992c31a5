"""Read a 1-5 score from where the judge was asked to give it.

The judge is asked to fill a slot (:mod:`aloe.roles.slots`): where the backend continues
a prefill it completes "Score:", and the text read is the prefill and its continuation.
A score is read from the slot (the head of an answer, or of its last line, that opens
with "Score:", "Rating:", ...: "Score: 1. The reply ignores her", "Rating: 4 out of 5") or
from an answer that is a score and nothing else ("4", "4.", "4/5", "**4**"). Anything
else is missing with its reason: "1. The user's personality is..." and "Here is my
evaluation:\\n1. The..." are a ``list`` (small judges open one, and read as a score it is
always 1), "3-4" and "1.5" ``ambiguous``, "4/10" and "10" ``off_scale``, "I'd give it a 4"
``unslotted``; a bare "1." where the token limit cut the answer is ``cut``.

The score itself: where the backend gives log-probabilities, the expected value over the
digits 1-5 at the token where the judge wrote its digit (all tokens reading as the same
digit summed), if those digits hold at least ``min_mass`` of that position's probability;
else the written integer.
"""

from __future__ import annotations

import re

from aloe.llm.base import ChatResult
from aloe.roles.slots import answer_text, last_line, opens_list
from aloe.roles.tokens import mass, position_of

PREFILL = "Score:"  # the assistant turn the 1-5 judge completes, where the backend continues one
NUMBER = r"(-?\d+(?:[.,]\d+)?)(\s*(?:-|–|to|or|,)\s*\d+)?(?:\s*(?:/|out\s+of|of)\s*(\d+))?"  # value, range, scale
SEP = r"[^\w\n-]*+(?:-(?!\d)[^\w\n-]*+)?"  # markup, colons, spaces, a dash on one line (not a minus sign)
LABEL = rf"(?:(?:the|my)\s+)?(?:(?:final|overall)\s+)?(?:score|rating|grade)(?:[^\S\n]++is\b)?+{SEP}"
SLOT = re.compile(rf"^{SEP}(?:{LABEL})+(?:an?\s+)?{NUMBER}", re.I | re.M)  # re.M: or a last line
WHOLE = re.compile(rf"^[^\w-]*+{NUMBER}[\W_]*+$", re.I)  # no "-" before it: "-1" is no 1
LIST_CUT = re.compile(r"\s*1\s*[.)]\s*")  # "1." and nothing more: a list's first item, cut
DIGITS = {str(k): k for k in range(1, 6)}


def parse_score(text: str) -> tuple[int | None, int | None, str | None]:
    """(score, character offset of its digit, None) where ``text`` answers in the slot or as a
    whole; else (None, None, reason), a reason of :data:`aloe.roles.slots.REASONS`."""
    last = last_line(text)
    for pattern, start in ((SLOT, 0), (WHOLE, 0), (SLOT, last)):
        m = pattern.match(text, start)
        if m:
            number, range_, scale = m.group(1, 2, 3)
            if range_ or not number.lstrip("-").isdigit():
                return None, None, "ambiguous"  # "3-4", "3 or 4", "4, 5", "1.5"
            if number not in DIGITS or scale not in (None, "5"):
                return None, None, "off_scale"  # "10", "0", "-1", "4/10"
            return DIGITS[number], m.start(1), None
    if opens_list(text):
        return None, None, "list"
    return None, None, "unslotted" if re.search(r"\d", text) else "none"


def digit_meaning(token: str) -> int | None:
    return DIGITS.get(token.strip().strip("*\"'().:"))


def read_score(result: ChatResult, min_mass: float, prefill: str = "") -> tuple[float | None, str, str | None]:
    """(score, method, reason): method 'logprobs' | 'text' | 'missing', and where it is missing,
    why. ``prefill``: the text the backend continued (the answer read is the prefill followed
    by ``result.text``)."""
    if not result.ok:
        return None, "missing", "error"
    if not prefill and result.finish_reason == "length" and LIST_CUT.fullmatch(result.text):
        return None, "missing", "cut"
    answer = answer_text(result.text, prefill)
    score, offset, reason = parse_score(answer)
    if score is None:
        return None, "missing", reason
    at = offset - (len(answer) - len(result.text))  # the digit's place in the continuation
    pos = position_of(result, at) if at >= 0 else None
    if pos is not None:
        expected = expected_digit(result.logprobs[pos], min_mass)
        if expected is not None:
            return expected, "logprobs", None
    return float(score), "text", None


def expected_digit(position: dict, min_mass: float) -> float | None:
    per_digit = mass(position, digit_meaning)
    total = sum(per_digit.values())
    if total < min_mass or total == 0:
        return None
    return sum(k * p for k, p in per_digit.items()) / total


def read_score_int(result: ChatResult) -> tuple[float | None, str, str | None]:
    """The released benchmark's reading (``judge.scoring.read: int``, the faithful preset): Python's
    ``int()`` of the whole answer, so "4" and " 4" are 4 and "4.", "Score: 4" or "4/5" are
    nothing (the released code stopped there; here the judge is asked again, then the score is
    missing, with the slot reader's reason or ``format``). An integer off the scale is kept, as
    ``int()`` kept it."""
    if not result.ok:
        return None, "missing", "error"
    try:
        return float(int(result.text)), "int", None
    except ValueError:
        return None, "missing", parse_score(result.text)[2] or "format"
