"""The persona writer: shown a few texts of the pool, writes new profiles or personalities.

Its answer is free-form: models number their answers, use bullets, add headings
and preambles, or refuse. Every line is kept with a status so that nothing the
model said is silently dropped: ``ok`` fragments become candidates, the rest are
recorded in candidates.parquet with the reason. It is asked once per call (no
re-ask: a bad answer is data about the writer). Each call samples its examples
and its request seed from one ``random.Random`` seeded by (seed, kind, round,
call), so a rerun asks exactly the same.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from aloe.llm.base import ChatResult
from aloe.params import Decoding
from aloe.prompts import render
from aloe.roles.base import Role

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


@dataclass(frozen=True)
class WriterAsk:
    kind: str  # profile | personality
    examples: list[str]
    seed: int


class PersonaWriter(Role):
    plays = "persona_writer"

    def __init__(self, temperature: float, max_tokens: int, candidates_per_call: int, examples_per_prompt: int):
        super().__init__(Decoding(temperature, max_tokens, max_attempts=1, retry_temperature=temperature, top_p=0.95))
        self.n, self.examples_per_prompt = candidates_per_call, examples_per_prompt

    def item(self, kind: str, pool: list[str], where: str) -> WriterAsk:
        """The call at ``where`` ("seed/kind/round/call"): its examples and seed, from one generator."""
        rng = random.Random(where)
        examples = rng.sample(pool, min(self.examples_per_prompt, len(pool)))
        return WriterAsk(kind, examples, rng.randrange(2**31))

    def seed(self, item: WriterAsk, attempt: int) -> int:
        return item.seed

    def messages(self, item: WriterAsk) -> list[dict]:
        examples = "\n".join(f"- {e}" for e in item.examples)
        return [{"role": "user", "content": render(f"persona_{item.kind}", n=str(self.n), examples=examples)}]

    def read(self, result: ChatResult) -> list[tuple[str, str]]:
        """(text, status) of every line written; the last line of an answer cut by max_tokens is
        ``truncated`` (a person described halfway is not a persona)."""
        parsed = parse_candidates(result.text)
        if parsed and result.finish_reason == "length" and parsed[-1][1] in ("ok", "fragment"):
            parsed[-1] = (parsed[-1][0], "truncated")
        return parsed

    def write(self, llm, items: list[WriterAsk]) -> list[list[tuple[str, str]]]:
        """Every line of every call's answer with its status (a failed call: one ``llm_error`` row)."""
        return [a.value if a.result.ok else [(a.result.error, "llm_error")] for a in self.ask(llm, items)]
