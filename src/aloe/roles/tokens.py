"""Where in a completion a judge wrote its answer, and the probability mass there.

Backends return the k likeliest tokens at every generated position
(:class:`aloe.llm.base.ChatResult.logprobs`). A judge that writes "Score: 4"
states its score at the fourth token, not the first; the distribution at the
first position says nothing about it. So readers find the answer in the text,
map its character offset to the generated token that holds it, and read the
distribution at that position only.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Hashable

from aloe.llm.base import ChatResult


def position_of(result: ChatResult, offset: int) -> int | None:
    """Index of the generated token that holds character ``offset`` of ``result.text``;
    None when there are no log-probabilities or the token texts do not spell the text
    (special tokens, characters split across tokens)."""
    if not result.logprobs:
        return None
    pieces = [p["token"] for p in result.logprobs]
    joined = "".join(pieces)
    if joined.strip() != result.text:
        return None
    target = len(joined) - len(joined.lstrip()) + offset
    end = 0
    for i, piece in enumerate(pieces):
        end += len(piece)
        if target < end:
            return i
    return None


def mass(position: dict, meaning: Callable[[str], Hashable | None]) -> dict:
    """Probability per meaning among the top tokens at one position; tokens that mean
    the same (" 4", "4") are summed."""
    out: dict = defaultdict(float)
    for token, logprob in position["top"]:
        m = meaning(token)
        if m is not None:
            out[m] += math.exp(logprob)
    return dict(out)
