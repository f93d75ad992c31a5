"""Grow conversation trees with five LLM roles, every call batched across trees.

One turn of one tree, as in the paper:
  user      the simulator, playing the true persona, writes the next message;
  inducer   reads the conversation and the true persona and writes, conservatively,
            what the user has revealed so far ("inferred" profile/personality);
  responder answers twice: once with the inferred persona as a hint, once without;
  judge     sees the true persona and picks the reply the user would prefer. It is
            asked in both orders; agreeing verdicts decide, disagreements follow
            ``judge_disagreement`` (swap-averaged probability, tie, or hinted).
Both replies are kept (the tree); a seeded coin picks which one continues.

All active trees advance one role-step at a time, so each step is one batched
call per role. Every request's seed derives from (seed, persona, turn, role,
attempt), so a rerun reproduces the same trees and the response cache replays
the calls a killed run already paid for.
"""

from __future__ import annotations

import hashlib
import logging
import random
from dataclasses import dataclass, field

from aloe.llm.base import ChatRequest
from aloe.llm.client import LLM
from aloe.llm.reask import ask_until_usable
from aloe.prompts import render
from aloe.conversations.parsing import clean_message, parse_inducer, parse_verdict, verdict_from_logprobs

log = logging.getLogger(__name__)


# One worked example, as chat turns (the paper used two): small models copy the format.
INDUCER_SHOT = [
    {"role": "user", "content": render(
        "inducer", conversation=render("inducer_example").strip(),
        profile="A 19-year-old anthropology student who plays guitar, loves indie films and acts in a theatre group.",
        personality="Curious, witty, sociable, a good listener.")},
    {"role": "assistant", "content": render("inducer_example_answer").strip()},
]


def derive_seed(*parts) -> int:
    return int.from_bytes(hashlib.sha256("/".join(map(str, parts)).encode()).digest()[:4], "little") >> 1


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


@dataclass(frozen=True)
class TreeConfig:
    turns: int
    min_turns: int
    max_attempts: int
    judge_disagreement: str  # average | tie | hinted
    judge_logprobs: bool
    temperature: dict
    max_tokens: dict
    seed: int


class TreeBuilder:
    def __init__(self, llm: LLM, cfg: TreeConfig):
        self.llm = llm
        self.cfg = cfg

    def build(self, personas: list[dict]) -> list[Tree]:
        trees = [Tree(p["persona_id"], p["profile"], p["personality"], derive_seed(self.cfg.seed, p["persona_id"]))
                 for p in personas]
        for turn in range(self.cfg.turns):
            active = [t for t in trees if t.failure is None]
            if not active:
                break
            for step in (self._user, self._inducer, self._responders, self._judge):
                active = step(active, turn)
            self._continue(active, turn)
            log.info("turn %d: %d trees advanced, %d failed so far", turn + 1, len(active),
                     sum(t.failure is not None for t in trees))
        return trees

    def _request(self, tree: Tree, role: str, turn: int, attempt: int, messages: list[dict],
                 top_logprobs: int = 0) -> ChatRequest:
        key = "judge" if role.startswith("judge") else "responder" if role in ("hinted", "plain") else role
        return ChatRequest.from_messages(
            messages, max_tokens=self.cfg.max_tokens[key], temperature=self.cfg.temperature[key],
            top_p=0.95 if self.cfg.temperature[key] > 0 else 1.0,
            seed=derive_seed(tree.seed, turn, role, attempt), top_logprobs=top_logprobs)

    def _retrying(self, trees: list[Tree], turn: int, role: str, llm_role: str, messages, parse,
                  top_logprobs: int = 0) -> list[Tree]:
        """Ask ``role`` for every tree, re-asking with a new seed while the output is unusable;
        a tree whose output stays unusable is cut at this turn.

        ``parse`` takes the ChatResult and returns the value to keep, or None.
        """
        answers = ask_until_usable(
            self.llm, llm_role, trees,
            lambda t, attempt: self._request(t, role, turn, attempt, messages(t), top_logprobs=top_logprobs),
            parse, self.cfg.max_attempts)
        for tree, answer in zip(trees, answers):
            if answer.value is None:
                tree.failure = f"turn {turn + 1}: {role} output unusable after {self.cfg.max_attempts} attempts"
            else:
                tree.pending[role] = answer.value
                tree.pending.setdefault("attempts", {})[role] = answer.attempts
        return [t for t in trees if t.failure is None]

    def _user(self, trees: list[Tree], turn: int) -> list[Tree]:
        for t in trees:
            t.pending = {}
            if turn == 0:
                t.simulator = [{"role": "user", "content": render("user_simulator", profile=t.profile,
                                                                   personality=t.personality)}]
        return self._retrying(trees, turn, "user", "user", lambda t: t.simulator, lambda r: clean_message(r.text))

    def _inducer(self, trees: list[Tree], turn: int) -> list[Tree]:
        def messages(t: Tree) -> list[dict]:
            conversation = t.transcript() + ("\n" if t.history else "") + f"A: {t.pending['user']}"
            return INDUCER_SHOT + [{"role": "user", "content": render(
                "inducer", conversation=conversation, profile=t.profile, personality=t.personality)}]

        return self._retrying(trees, turn, "inducer", "inducer", messages, lambda r: parse_inducer(r.text))

    def _responders(self, trees: list[Tree], turn: int) -> list[Tree]:
        def hinted(t: Tree) -> list[dict]:
            profile, personality = t.pending["inducer"]
            return t.history + [{"role": "user", "content": render(
                "responder_hint", message=t.pending["user"], inferred_profile=profile,
                inferred_personality=personality)}]

        def plain(t: Tree) -> list[dict]:
            return t.history + [{"role": "user", "content": render("responder_plain", message=t.pending["user"])}]

        trees = self._retrying(trees, turn, "hinted", "responder", hinted, lambda r: clean_message(r.text))
        return self._retrying(trees, turn, "plain", "responder", plain, lambda r: clean_message(r.text))

    def _judge(self, trees: list[Tree], turn: int) -> list[Tree]:
        """Ask in both orders; agreement decides, disagreement follows ``judge_disagreement``."""
        for order, (a, b) in (("ab", ("hinted", "plain")), ("ba", ("plain", "hinted"))):
            def messages(t: Tree, a=a, b=b) -> list[dict]:
                return [{"role": "user", "content": render("judge_pair", profile=t.profile, personality=t.personality,
                                                           first=t.pending[a], second=t.pending[b])}]

            def parse(r, order=order) -> dict | None:
                verdict, p_first = verdict_from_logprobs(r.first_token_logprobs)
                verdict = verdict or parse_verdict(r.text)
                if verdict is None:
                    return None
                return {"raw": r.text, "verdict": verdict, "p_first": p_first,
                        "hinted_won": (verdict == "first") == (order == "ab")}

            trees = self._retrying(trees, turn, f"judge_{order}", "judge", messages, parse,
                                   top_logprobs=20 if self.cfg.judge_logprobs else 0)
        for t in trees:
            ab, ba = t.pending.pop("judge_ab"), t.pending.pop("judge_ba")
            agree = ab["hinted_won"] == ba["hinted_won"]
            # Swap-and-average: P(hinted preferred) over both orders cancels a pure position bias.
            p_hinted = None
            if ab["p_first"] is not None and ba["p_first"] is not None:
                p_hinted = (ab["p_first"] + 1.0 - ba["p_first"]) / 2
            if agree:
                hinted_won = ab["hinted_won"]
            elif self.cfg.judge_disagreement == "hinted":
                hinted_won = True
            elif self.cfg.judge_disagreement == "average" and p_hinted is not None and p_hinted != 0.5:
                hinted_won = p_hinted > 0.5
            else:
                hinted_won = None  # a tie: kept in the tree, dropped from the pairs
            t.pending["judge"] = {"order_ab": ab, "order_ba": ba, "agree": agree, "p_hinted": p_hinted,
                                  "hinted_won": hinted_won}
        return trees

    def _continue(self, trees: list[Tree], turn: int) -> None:
        for t in trees:
            p = t.pending
            hinted_preferred = p["judge"]["hinted_won"] is not False
            preferred, rejected = (p["hinted"], p["plain"]) if hinted_preferred else (p["plain"], p["hinted"])
            chosen = random.Random(derive_seed(t.seed, turn, "continue")).choice(["preferred", "rejected"])
            reply = preferred if chosen == "preferred" else rejected
            t.turns.append({
                "user": p["user"], "assistant": {"preferred": preferred, "rejected": rejected}, "chosen": chosen,
                "inferred_profile": p["inducer"][0], "inferred_personality": p["inducer"][1],
                "hinted": "preferred" if hinted_preferred else "rejected", "tie": p["judge"]["hinted_won"] is None,
                "judge": p["judge"], "attempts": p["attempts"],
            })
            t.history += [{"role": "user", "content": p["user"]}, {"role": "assistant", "content": reply}]
            t.simulator += [{"role": "assistant", "content": p["user"]},
                            {"role": "user", "content": render("user_followup", message=reply)}]
            t.pending = {}

    def record(self, tree: Tree) -> dict:
        """One line of trees.jsonl: the paper's fields, then our extras."""
        return {
            "profile": tree.profile, "personality": tree.personality, "conversations": tree.turns,
            "id": tree.persona_id, "seed": tree.seed, "status": "cut" if tree.failure else "complete",
            "failure": tree.failure,
            "models": {r: self.llm.model_id(r) for r in ("user", "inducer", "responder", "judge")},
        }
