"""How much of a persona the simulated user has stated, turn by turn.

The simulator is told to reveal a little at a time; if its first message already
states the whole profile there is nothing left to learn across turns, and an
improvement rate means little. The measure is lexical and simple on purpose:

    reveal(k) = |content words of the profile used in the user's messages 1..k|
                / |content words of the profile|

where content words are lower-cased alphabetic words of 3+ letters that are not
stopwords, a plural "s" dropped. It rises with k (cumulative); 1.0 means every
profile word has been said.
"""

from __future__ import annotations

import re

STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each even every few for from further had has
have having here how i if in into is it its itself just like love loves make many me more most much my myself
never no nor not now of off on once only or other our out over own really same she he her him his so some such
than that the their them then there these they this those through to too under until up very was we were what
when where which while who whom why will with would you your yours am im ive i'm years year old work works working
living live lives enjoy enjoys things thing people person time day days""".split()
)


def content_words(text: str) -> set[str]:
    return {w.removesuffix("s") for w in re.findall(r"[a-z]{3,}", text.lower()) if w not in STOPWORDS}


def reveal_curve(profile: str, user_messages: list[str]) -> list[float]:
    """reveal(k) for k = 1..len(user_messages)."""
    target = content_words(profile)
    said: set[str] = set()
    curve = []
    for message in user_messages:
        said |= content_words(message) & target
        curve.append(round(len(said) / len(target), 4) if target else 0.0)
    return curve


def mean_by_turn(curves: list[list[float]]) -> list[float]:
    """The mean of reveal(k) over the conversations that reached turn k."""
    turns = max((len(c) for c in curves), default=0)
    means = []
    for k in range(turns):
        values = [c[k] for c in curves if len(c) > k]
        means.append(round(sum(values) / len(values), 4))
    return means
