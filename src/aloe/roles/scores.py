"""Read a 1-5 judge score as judges write it.

Accepted: "4", "4.", "4/5", "Score: 4", "**4**", "Rating: 4 out of 5", "I'd give
it a 4", "4. The reply ...". Refused (None, so the judge is asked again):
"1.5", "3-4", "10", "4/10", "3 or 4", nothing. A score at the head of the text
(after markup or a label such as "Score:") decides even when an explanation
follows with other numbers; elsewhere every score named must agree.

A numbered list is not a score. Small judges often open one ("1. The user's
personality is...", "1. Does the conversational style fit..."), and read as a
score it is always 1. The rule: an unlabelled "1." or "1)" that more text
follows is a list's first item, so ambiguous, so missing. Any other digit so
written ("4. The reply mentions her garden...") is a score with its reason,
since lists start at 1; "Score: 1. The reply..." is a score, since a label says so.
A bare "1." is a score, unless the token limit cut the answer there.

Where the backend continues a prefill (:data:`PREFILL`, see
:meth:`aloe.llm.client.LLM.continues_prefill`), the judge completes
"Score:": it cannot open a list, and its first token is the digit, whose
probabilities are then read. The text read is the prefill and its continuation.

The score itself: where the backend gives log-probabilities, the expected value
over the digits 1-5 at the position where the judge wrote its digit (all tokens
reading as the same digit summed), if those digits hold at least ``min_mass`` of
that position's probability; else the written integer.
"""

from __future__ import annotations

import re

from aloe.llm.base import ChatResult
from aloe.roles.tokens import mass, position_of

NUMBER = re.compile(r"(?<![\d.,])\d+(?:[.,]\d+)?(?![\d])")
SCALE_BEFORE = re.compile(r"(?:/|\bout\s+of|\bof)\s*$", re.I)
RANGE_AFTER = re.compile(r"^\s*(?:-|–|to|or)\s*\d")
RANGE_BEFORE = re.compile(r"\d\s*(?:-|–|to|or)\s*$")
HEAD = re.compile(r"^[\W_]*(?:(?:final\s+|overall\s+)?(?:score|rating|grade|answer)\b[\W_]*(?:is\b[\W_]*)?)?$", re.I)
LIST_OPENING = re.compile(r"^\s*1\s*[.)][*_]*\s*\S")  # "1. The user's...", "1) Does...", "**1.** The"
LIST_CUT = re.compile(r"\s*1\s*[.)]\s*")  # the same, cut off by the token limit after the marker
DIGITS = {str(k): k for k in range(1, 6)}
PREFILL = "Score:"  # the assistant turn the 1-5 judge completes, where the backend continues one


def parse_score(text: str) -> tuple[int, int] | None:
    """(score, character offset of its digit) or None when absent or ambiguous."""
    candidates = []
    for m in NUMBER.finditer(text):
        before, after = text[: m.start()], text[m.end() :]
        if SCALE_BEFORE.search(before):
            if m.group() != "5":
                return None  # "4/10", "8 out of 10": another scale
            continue
        if RANGE_AFTER.match(after) or RANGE_BEFORE.search(before) or not m.group().isdigit():
            return None  # "3-4", "3 or 4", "1.5"
        candidates.append(m)
    if not candidates:
        return None
    first = candidates[0]
    if first.group() not in DIGITS:
        return None  # "10", "0"
    head = text[: first.start()]
    if not re.search(r"[^\W_]", head) and LIST_OPENING.match(text[first.start() :]):  # no label, markup at most
        return None  # "1. The user's personality is...": a list's first item
    if HEAD.match(text[: first.start()]) or {c.group() for c in candidates} == {first.group()}:
        return DIGITS[first.group()], first.start()
    return None


def digit_meaning(token: str) -> int | None:
    return DIGITS.get(token.strip().strip("*\"'().:"))


def read_score(result: ChatResult, min_mass: float, prefill: str = "") -> tuple[float | None, str]:
    """(score, method) with method 'logprobs' | 'text' | 'missing'. ``prefill``: the text
    the backend continued (the answer read is the prefill followed by ``result.text``)."""
    lead = f"{prefill} " if prefill else ""
    if result.finish_reason == "length" and LIST_CUT.fullmatch(lead + result.text):
        return None, "missing"  # "1." where the token limit cut it: a list may have followed
    parsed = parse_score(lead + result.text)
    if parsed is not None:
        pos = position_of(result, parsed[1] - len(lead))
        if pos is not None:
            expected = expected_digit(result.logprobs[pos], min_mass)
            if expected is not None:
                return expected, "logprobs"
        return float(parsed[0]), "text"
    return None, "missing"  # no score written: no digit token to read probabilities at; ask again


def expected_digit(position: dict, min_mass: float) -> float | None:
    per_digit = mass(position, digit_meaning)
    total = sum(per_digit.values())
    if total < min_mass or total == 0:
        return None
    return sum(k * p for k, p in per_digit.items()) / total


def read_score_int(result: ChatResult) -> tuple[float | None, str]:
    """The released benchmark's reading (``judge.scoring.read: int``, the faithful preset): Python's
    ``int()`` of the whole answer, so "4" and " 4" are 4 and "4.", "Score: 4" or "4/5" are
    nothing (the released code stopped there; here the judge is asked again, then the score is
    missing). An integer off the scale is kept, as ``int()`` kept it."""
    try:
        return float(int(result.text)), "int"
    except ValueError:
        return None, "missing"
