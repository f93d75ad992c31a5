"""Grow conversation trees with five LLM roles, every call batched across trees.

One turn of one tree, as in the paper:
  user      the simulator, playing the true persona, writes the next message;
  inducer   reads the conversation and the true persona and writes, conservatively,
            what the user has revealed so far ("inferred" profile/personality);
  responder answers twice: once with the inferred persona as a hint, once without;
  judge     sees the true persona and picks the reply the user would prefer. It is
            asked in both orders and the label rule (aloe.judging.labels) turns the
            two readings into a preference or a tie.
Both replies are kept (the tree); a seeded coin picks which one continues.

All active trees advance one step at a time, and independent role calls share a
batch (both responders; both judge orders). Every request's seed derives from
(seed, persona, turn, role, attempt), so a rerun reproduces the same trees and
the response cache replays the calls a killed run already paid for. Unusable
user, inducer or responder output is re-asked and then cuts the tree; an
unusable judge order makes that turn a tie, and the tree goes on.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field

from aloe.conversations.parsing import clean_message, parse_inducer
from aloe.judging.labels import decide
from aloe.judging.questions import pair_question
from aloe.judging.verdicts import read_verdict
from aloe.llm.base import ChatRequest
from aloe.llm.client import LLM
from aloe.llm.reask import ask_until_usable, sampling
from aloe.params import TreesParams
from aloe.prompts import render
from aloe.seeds import derive_seed

log = logging.getLogger(__name__)

# One worked example, as chat turns (the paper used two): small models copy the format.
INDUCER_SHOT = [
    {
        "role": "user",
        "content": render(
            "inducer",
            conversation=render("inducer_example").strip(),
            profile="A 19-year-old anthropology student who plays guitar, loves indie films and acts in a "
            "theatre group.",
            personality="Curious, witty, sociable, a good listener.",
        ),
    },
    {"role": "assistant", "content": render("inducer_example_answer").strip()},
]
ROLE_KIND = {
    "user": "user",
    "inducer": "inducer",
    "hinted": "responder",
    "plain": "responder",
    "judge_ab": "judge",
    "judge_ba": "judge",
}
JUDGE_ORDERS = {"judge_ab": ("hinted", "plain"), "judge_ba": ("plain", "hinted")}


@dataclass
class Tree:
    persona_id: str
    profile: str
    personality: str
    seed: int
    turns: list[dict] = field(default_factory=list)
    simulator: list[dict] = field(default_factory=list)  # the simulator's own chat (it speaks as "assistant")
    history: list[dict] = field(default_factory=list)  # user/assistant messages along the continued branch
    failure: str | None = None
    pending: dict = field(default_factory=dict)  # the turn under construction

    def transcript(self) -> str:
        return "\n".join(f"{'A' if m['role'] == 'user' else 'B'}: {m['content']}" for m in self.history)


class TreeBuilder:
    def __init__(self, llm: LLM, cfg: TreesParams, seed: int):
        self.llm = llm
        self.cfg = cfg
        self.seed = seed

    def build(self, personas: list[dict]) -> list[Tree]:
        trees = [
            Tree(p["persona_id"], p["profile"], p["personality"], derive_seed(self.seed, p["persona_id"]))
            for p in personas
        ]
        for turn in range(self.cfg.turns):
            active = [t for t in trees if t.failure is None]
            if not active:
                break
            for step in (self._user, self._inducer, self._responders, self._judge):
                active = step(active, turn)
            self._continue(active, turn)
            log.info(
                "turn %d: %d trees advanced, %d cut so far",
                turn + 1,
                len(active),
                sum(t.failure is not None for t in trees),
            )
        return trees

    def _request(self, tree: Tree, role: str, turn: int, attempt: int, messages: list[dict]) -> ChatRequest:
        kind = ROLE_KIND[role]
        top_logprobs = 20 if kind == "judge" and self.cfg.judge_logprobs else 0
        return ChatRequest.from_messages(
            messages,
            max_tokens=getattr(self.cfg.max_tokens, kind),
            top_logprobs=top_logprobs,
            seed=derive_seed(tree.seed, turn, role, attempt),
            **sampling(getattr(self.cfg.temperature, kind), attempt, self.cfg.retry_temperature),
        )

    def _ask(self, items: list[tuple[Tree, str]], turn: int, messages, parse) -> list:
        """Ask every (tree, role) item in one batch per attempt; returns the answers in order."""
        return ask_until_usable(
            self.llm,
            ROLE_KIND[items[0][1]] if items else "user",
            items,
            lambda item, attempt: self._request(item[0], item[1], turn, attempt, messages(*item)),
            parse,
            self.cfg.max_attempts,
        )

    def _keep(self, items: list[tuple[Tree, str]], answers: list, turn: int) -> None:
        """Store usable answers; cut a tree whose answer stayed unusable."""
        for (tree, role), answer in zip(items, answers, strict=True):
            tree.pending.setdefault("attempts", {})[role] = answer.attempts
            if answer.value is None:
                tree.failure = f"turn {turn + 1}: {role} output unusable after {self.cfg.max_attempts} attempts"
            else:
                tree.pending[role] = answer.value

    def _user(self, trees: list[Tree], turn: int) -> list[Tree]:
        for t in trees:
            t.pending = {}
            if turn == 0:
                t.simulator = [
                    {"role": "user", "content": render("user_simulator", profile=t.profile, personality=t.personality)}
                ]
        items = [(t, "user") for t in trees]
        self._keep(items, self._ask(items, turn, lambda t, _: t.simulator, lambda r: clean_message(r.text)), turn)
        return [t for t in trees if t.failure is None]

    def _inducer(self, trees: list[Tree], turn: int) -> list[Tree]:
        def messages(t: Tree, _role: str) -> list[dict]:
            conversation = t.transcript() + ("\n" if t.history else "") + f"A: {t.pending['user']}"
            return INDUCER_SHOT + [
                {
                    "role": "user",
                    "content": render(
                        "inducer", conversation=conversation, profile=t.profile, personality=t.personality
                    ),
                }
            ]

        items = [(t, "inducer") for t in trees]
        self._keep(items, self._ask(items, turn, messages, lambda r: parse_inducer(r.text)), turn)
        return [t for t in trees if t.failure is None]

    def _responders(self, trees: list[Tree], turn: int) -> list[Tree]:
        """Both replies of every tree in one batch: with the inferred persona as a hint, and without."""

        def messages(t: Tree, role: str) -> list[dict]:
            if role == "plain":
                return t.history + [{"role": "user", "content": render("responder_plain", message=t.pending["user"])}]
            profile, personality = t.pending["inducer"]
            return t.history + [
                {
                    "role": "user",
                    "content": render(
                        "responder_hint",
                        message=t.pending["user"],
                        inferred_profile=profile,
                        inferred_personality=personality,
                    ),
                }
            ]

        items = [(t, role) for t in trees for role in ("hinted", "plain")]
        self._keep(items, self._ask(items, turn, messages, lambda r: clean_message(r.text)), turn)
        return [t for t in trees if t.failure is None]

    def _judge(self, trees: list[Tree], turn: int) -> list[Tree]:
        """Both orders of every tree in one batch; an order that stays unreadable is missing (a tie)."""

        def messages(t: Tree, order: str) -> list[dict]:
            first, second = JUDGE_ORDERS[order]
            return pair_question(t.profile, t.personality, t.pending[first], t.pending[second])

        def parse(result):
            reading = read_verdict(result, self.cfg.judge_min_mass)
            return None if reading.verdict is None else reading

        items = [(t, order) for t in trees for order in JUDGE_ORDERS]
        answers = self._ask(items, turn, messages, parse)
        readings = {}
        for (tree, order), answer in zip(items, answers, strict=True):
            tree.pending.setdefault("attempts", {})[order] = answer.attempts
            reading = answer.value or read_verdict(answer.result, self.cfg.judge_min_mass)
            raw = answer.result.text if answer.result.ok else answer.result.error
            readings[id(tree), order] = reading
            tree.pending[order] = {"raw": raw, **reading.to_json()}
        for t in trees:
            ab, ba = readings[id(t), "judge_ab"], readings[id(t), "judge_ba"]
            label = decide(ab, ba, self.cfg.judge_disagreement, self.cfg.judge_margin)
            agree = (
                None
                if ab.verdict is None or ba.verdict is None
                else (ab.verdict == "first") == (ba.verdict == "second")
            )
            t.pending["judge"] = {
                "order_ab": t.pending.pop("judge_ab"),
                "order_ba": t.pending.pop("judge_ba"),
                "agree": agree,
                "p_hinted": label.p_subject,
                "margin": label.margin,
                "source": label.source,
                "tie_reason": label.tie_reason,
                "hinted_won": label.subject_won,
            }
        return trees

    def _continue(self, trees: list[Tree], turn: int) -> None:
        for t in trees:
            p = t.pending
            hinted_preferred = p["judge"]["hinted_won"] is not False
            preferred, rejected = (p["hinted"], p["plain"]) if hinted_preferred else (p["plain"], p["hinted"])
            chosen = random.Random(derive_seed(t.seed, turn, "continue")).choice(["preferred", "rejected"])
            reply = preferred if chosen == "preferred" else rejected
            t.turns.append(
                {
                    "user": p["user"],
                    "assistant": {"preferred": preferred, "rejected": rejected},
                    "chosen": chosen,
                    "inferred_profile": p["inducer"][0],
                    "inferred_personality": p["inducer"][1],
                    "hinted": "preferred" if hinted_preferred else "rejected",
                    "tie": p["judge"]["hinted_won"] is None,
                    "margin": p["judge"]["margin"],
                    "judge": p["judge"],
                    "attempts": p["attempts"],
                }
            )
            t.history += [{"role": "user", "content": p["user"]}, {"role": "assistant", "content": reply}]
            t.simulator += [
                {"role": "assistant", "content": p["user"]},
                {"role": "user", "content": render("user_followup", message=reply)},
            ]
            t.pending = {}

    def record(self, tree: Tree) -> dict:
        """One line of trees.jsonl: the paper's fields, then our extras."""
        return {
            "profile": tree.profile,
            "personality": tree.personality,
            "conversations": tree.turns,
            "id": tree.persona_id,
            "seed": tree.seed,
            "status": "cut" if tree.failure else "complete",
            "failure": tree.failure,
            "models": {r: self.llm.model_id(r) for r in ("user", "inducer", "responder", "judge")},
        }
