"""The optional LLM quality check of the persona pool (``personas.filter.llm_check``).

Rules catch the junk a rule can name; a strong model can say whether a text reads
like one real person (:class:`aloe.roles.persona_checker.PersonaChecker`). Off by
default: the embedded 135M model cannot judge this. Each surviving candidate is
asked once (re-asked while the answer is unreadable); "no" rejects it with reason
``llm_check``, and every verdict is stored with the pool.
"""

from __future__ import annotations

import pandas as pd

from aloe.llm.client import LLM
from aloe.roles.persona_checker import CheckAsk, PersonaChecker


def check_plausible(llm: LLM, ruled: pd.DataFrame, seed: int) -> pd.Series:
    """'yes' | 'no' | 'unreadable' per row of ``ruled`` still accepted; NaN for the others."""
    alive = ruled.index[ruled["reason"].isna()]
    items = [
        CheckAsk(ruled.loc[i, "kind"], ruled.loc[i, "text"], (seed, "persona_check", ruled.loc[i, "text"]))
        for i in alive
    ]
    answers = PersonaChecker().ask(llm, items)
    return pd.Series([a.value or "unreadable" for a in answers], index=alive, dtype=object)
