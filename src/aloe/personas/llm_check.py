"""The optional LLM quality check of the persona pool (``personas.filter.llm_check``).

Rules catch the junk a rule can name; a strong model can say whether a text reads
like one real person. Off by default: the embedded 135M model cannot judge this.
Each surviving candidate is asked once (re-asked while the answer is unreadable);
"no" rejects it with reason ``llm_check``, and every verdict is stored with the pool.
"""

from __future__ import annotations

import re

import pandas as pd

from aloe.llm.base import ChatRequest
from aloe.llm.client import LLM
from aloe.llm.reask import ask_until_usable, sampling
from aloe.prompts import render
from aloe.seeds import derive_seed

WHAT = {"profile": "daily life (age, work, home, family, hobbies)", "personality": "personality"}


def read_yes_no(text: str) -> str | None:
    words = re.findall(r"[a-z]+", text.lower())[:3]
    found = {w for w in words if w in ("yes", "no")}
    return found.pop() if len(found) == 1 else None


def check_plausible(llm: LLM, ruled: pd.DataFrame, seed: int, max_attempts: int = 3) -> pd.Series:
    """'yes' | 'no' | 'unreadable' per row of ``ruled`` still accepted; NaN for the others."""
    alive = ruled.index[ruled["reason"].isna()]

    def request(i, attempt: int) -> ChatRequest:
        row = ruled.loc[i]
        content = render("persona_check", what=WHAT[row["kind"]], text=row["text"])
        return ChatRequest.from_messages(
            [{"role": "user", "content": content}],
            max_tokens=4,
            seed=derive_seed(seed, "persona_check", row["text"], attempt),
            **sampling(0.0, attempt, 0.7),
        )

    answers = ask_until_usable(
        llm, "persona_checker", list(alive), request, lambda r: read_yes_no(r.text), max_attempts
    )
    return pd.Series([a.value or "unreadable" for a in answers], index=alive, dtype=object)
