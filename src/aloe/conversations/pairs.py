"""Flatten conversation trees into trl's conversational DPO and SFT formats.

For turn k of a conversation, the prompt is the history along the branch that
actually continued, ending with user message k; ``chosen``/``rejected`` are the
two assistant replies at that turn (DPO), and the SFT completion is the
preferred one. Ties (no label under the label rule), identical replies and
labels with a margin below ``min_margin`` carry no usable preference and are
dropped, each counted. Every row carries the label's margin and source
(``agree``, ``average``, ``hinted``, ``one_order``; ``paper`` for the paper's data, which has
no margin and is never dropped by ``min_margin``). Works on our trees.jsonl and on the
paper's released conversations.jsonl (where ``rejected`` may also be a list).
Two bugs of the released training code can be switched on (:class:`Artifacts`).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path

from aloe.conversations.records import ConversationTree
from aloe.conversations.rows import DpoRow, SftRow
from aloe.errors import AloeError
from aloe.files import read_jsonl
from aloe.seeds import derive_seed


def conversation_id(record: ConversationTree) -> str:
    if record.id:
        return str(record.id)
    text = f"{record.profile.strip()}\0{record.personality.strip()}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_conversations(path: str | Path) -> list[ConversationTree]:
    """Read trees.jsonl or the paper's conversations.jsonl, checking the fields we use."""
    records = []
    for lineno, rec in read_jsonl(path):
        where = f"{path}:{lineno}"
        if not isinstance(rec, dict) or not isinstance(rec.get("conversations"), list):
            raise AloeError(f"{where}: expected an object with a 'conversations' list")
        for k, turn in enumerate(rec["conversations"]):
            reply = turn.get("assistant") if isinstance(turn, dict) else None
            if (
                not isinstance(turn, dict)
                or not isinstance(turn.get("user"), str)
                or not isinstance(reply, dict)
                or "preferred" not in reply
                or "rejected" not in reply
            ):
                raise AloeError(f"{where}: turn {k + 1} needs 'user' and 'assistant': {{preferred, rejected}}")
            if turn.get("chosen", "preferred") not in ("preferred", "rejected"):
                raise AloeError(f"{where}: turn {k + 1}: 'chosen' must be 'preferred' or 'rejected'")
        records.append(ConversationTree.from_json(rec))
    return records


def _as_list(value) -> list[str]:
    return [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]


@dataclass(frozen=True)
class Artifacts:
    """Two bugs of the released ALOE training code that change what is learned, emulated for the
    faithful preset (``pairs.repeat_first_user``, ``pairs.rejected_one_character``); off, the rows
    are as the trees say."""

    repeat_first_user: bool = False  # SFT: every user turn of the prompt is the first user message
    rejected_one_character: bool = False  # DPO: random.choice(rejected): one character of a string
    seed: int = 0  # seeds the character picked


AS_GROWN = Artifacts()  # neither bug


def flatten(
    record: ConversationTree, min_margin: float = 0.0, artifacts: Artifacts = AS_GROWN
) -> tuple[list[DpoRow], list[SftRow], dict]:
    """(DPO rows, SFT rows, counts of what was dropped) for one conversation."""
    cid = conversation_id(record)
    dpo, sft, dropped = [], [], {"ties": 0, "identical": 0, "below_min_margin": 0}
    history: list[dict] = []
    for k, turn in enumerate(record.conversations):
        history.append({"role": "user", "content": turn.user.strip()})
        preferred = turn.assistant.preferred.strip()
        rejected = [r.strip() for r in _as_list(turn.assistant.rejected)]
        origin = {"conversation_id": cid, "turn": k + 1, "margin": turn.margin, "label_source": turn.label_source}
        if turn.tie:
            dropped["ties"] += 1
        elif turn.margin is not None and turn.margin < min_margin:
            dropped["below_min_margin"] += 1
        else:
            answer = [{"role": "assistant", "content": preferred}]
            sft.append(SftRow(_sft_prompt(history, artifacts), answer, **origin))
            for r in _released_rejected(turn.assistant.rejected, rejected, artifacts, cid, k):
                if r == preferred:
                    dropped["identical"] += 1
                    continue
                dpo.append(DpoRow(list(history), answer, [{"role": "assistant", "content": r}], **origin))
        continued = preferred if turn.chosen == "preferred" else rejected[0]
        history.append({"role": "assistant", "content": continued})
    return dpo, sft, dropped


def _released_rejected(raw, rejected: list[str], artifacts: Artifacts, cid: str, turn: int) -> list[str]:
    """The rejected replies DPO trains against. The released code's ``random.choice(rejected)``
    (``rejected_one_character``) picks one whole reply from a list, and one character from a
    string; seeded here by conversation and turn."""
    if not artifacts.rejected_one_character:
        return rejected
    choice = random.Random(derive_seed(artifacts.seed, cid, turn, "rejected")).choice
    return [choice(rejected)] if isinstance(raw, list) else [choice(r) for r in rejected]


def _sft_prompt(history: list[dict], artifacts: Artifacts) -> list[dict]:
    if not artifacts.repeat_first_user:
        return list(history)
    first = history[0]["content"]
    return [{**m, "content": first} if m["role"] == "user" else m for m in history]


def _unit_hash(cid: str, seed: int) -> float:
    return int.from_bytes(hashlib.sha256(f"{seed}/{cid}".encode()).digest()[:8], "little") / 2**64


def validation_ids(cids: list[str], fraction: float, seed: int) -> set[str]:
    """Deterministic conversation-level split: every pair of a conversation lands together.

    A conversation is held out when its seeded hash falls below ``fraction``. With a
    positive fraction and at least two conversations, at least one is held out (so
    small runs still report a validation loss) and at least one is kept for training.
    """
    unique = sorted(set(cids), key=lambda c: _unit_hash(c, seed))
    if fraction == 0 or len(unique) < 2:
        return set()
    held = {c for c in unique if _unit_hash(c, seed) < fraction} or {unique[0]}
    return held - {unique[-1]}
