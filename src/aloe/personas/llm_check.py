"""The optional LLM quality check of the persona pool (``personas.filter.llm_check``).

Rules catch the junk a rule can name; a strong model can say whether a text reads
like one real person. Off by default: the embedded 135M model cannot judge this.
Each surviving candidate is asked once (re-asked while the answer is unreadable);
"no" rejects it with reason ``llm_check``, and every verdict is stored with the pool.
"""

from __future__ import annotations

import re

import pandas as pd

from aloe.llm.client import LLM
from aloe.llm.reask import ask_until_usable
from aloe.params import Decoding
from aloe.prompts import render

WHAT = {"profile": "daily life (age, work, home, family, hobbies)", "personality": "personality"}
# A greedy yes/no in a word or two; an unreadable answer is re-asked by sampling.
DECODING = Decoding(temperature=0.0, max_tokens=4, max_attempts=3, retry_temperature=0.7)


def read_yes_no(text: str) -> str | None:
    words = re.findall(r"[a-z]+", text.lower())[:3]
    found = {w for w in words if w in ("yes", "no")}
    return found.pop() if len(found) == 1 else None


def check_plausible(llm: LLM, ruled: pd.DataFrame, seed: int) -> pd.Series:
    """'yes' | 'no' | 'unreadable' per row of ``ruled`` still accepted; NaN for the others."""
    alive = ruled.index[ruled["reason"].isna()]

    def messages(i) -> list[dict]:
        row = ruled.loc[i]
        return [{"role": "user", "content": render("persona_check", what=WHAT[row["kind"]], text=row["text"])}]

    answers = ask_until_usable(
        llm,
        "persona_checker",
        list(alive),
        messages,
        lambda i: (seed, "persona_check", ruled.loc[i, "text"]),
        lambda r: read_yes_no(r.text),
        DECODING,
    )
    return pd.Series([a.value or "unreadable" for a in answers], index=alive, dtype=object)
