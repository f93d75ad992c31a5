"""Where a judge's answer is read, and why an answer is not.

A judge is asked to answer in a named slot: where its backend continues a prefill
(:meth:`aloe.llm.client.LLM.continues_prefill`) it completes "Verdict:" or "Score:", and
the text read is the prefill and its continuation. An answer is read only from that
slot (the head of a text, or of its last line, that opens with the slot's label, written
by the judge or prefilled) or from a text that is the answer and nothing else ("Second.",
"**4**", "Score: 4/5"). Anything else is not read, and says why (:data:`REASONS`), so a
report card can tell a judge that writes lists from one that cannot decide:

- ``list``: a numbered item ("1. The user's...", "1: The", "Step 1:", "4. The reply") at
  the start or after a preamble: its digit numbers an item, it does not answer;
- ``ambiguous``: both answers, neither, a range or a fraction ("first or second", "3-4");
- ``off_scale``: a number that is no answer on the scale asked ("10", "4/10", "0");
- ``cut``: a bare "1." where the token limit stopped the answer (a list may have followed);
- ``unslotted``: an answer-like word outside the slot ("I'd give it a 4", "First, I will");
- ``none``: nothing that answers; ``error``: the call failed; ``format``: the released
  code's strict reading (``int()``) refused what the slot reading would have read.
"""

from __future__ import annotations

import re

REASONS = ("list", "ambiguous", "off_scale", "cut", "unslotted", "none", "error", "format")
LIST_ITEM = re.compile(r"(?:^|\n|:)[^\S\n]*[*_#>•\s-]*(?:step\s*)?\d+[^\S\n]*[.):](?=[\s*_]|$)", re.I)


def answer_text(text: str, prefill: str) -> str:
    """The answer as read: the prefill the backend continued, then its continuation."""
    return f"{prefill} {text}" if prefill else text


def last_line(text: str) -> int:
    """Where the last non-blank line of ``text`` starts (a judge that explains, then answers)."""
    body = text.rstrip()
    return body.rfind("\n") + 1


def opens_list(text: str) -> bool:
    """A numbered item at the start of ``text`` or after a preamble."""
    return bool(LIST_ITEM.search(text))
