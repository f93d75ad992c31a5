"""Turn a persona writer's free-form output into candidate texts.

Models number their answers, use bullets, add headings and preambles, or
refuse. Every fragment is kept with a status so that nothing the
model said is silently dropped: ``ok`` fragments become candidates, the rest
are recorded in candidates.parquet with the reason.
"""

from __future__ import annotations

import re

PREFIX = re.compile(
    r"^\s*(?:[-*•·>]+|\(?\d{1,3}[.):\]]|#+|(?:profile|personality|persona|user)\s*\d*\s*[:.-])\s*", re.I
)
REFUSAL = re.compile(r"\b(i'?m sorry|i cannot|i can't|as an ai|i am unable|i'm unable|language model)\b", re.I)
PREAMBLE = re.compile(r"^(here (are|is)|sure[,!.]|certainly|below (are|is)|okay[,!.]|of course)", re.I)


def parse_candidates(text: str, min_chars: int = 40) -> list[tuple[str, str]]:
    """Return ``(fragment, status)`` pairs; status is ok|refusal|preamble|heading|fragment."""
    out = []
    for raw in text.strip().splitlines():  # the prompts ask for one text per line
        line = " ".join(raw.split())
        if not line:
            continue
        stripped = PREFIX.sub("", line).strip().strip('"“”').strip()
        if REFUSAL.search(stripped):
            status = "refusal"
        elif PREAMBLE.match(stripped) and stripped.endswith(":"):
            status = "preamble"
        elif stripped.endswith(":") and len(stripped) < 60:
            status = "heading"
        elif len(stripped) < min_chars:
            status = "fragment"
        else:
            status = "ok"
        out.append((stripped if status == "ok" else line, status))
    return out
