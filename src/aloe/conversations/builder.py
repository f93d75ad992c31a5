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

Each tree is grown on its own (``_grow``) and aloe.llm.pipeline runs them
together: on a local model, every step of every tree shares one batch; against
an endpoint, each tree's calls go out as soon as it makes them, so no tree waits
for an unrelated one. Independent role calls of a tree go out together (both
responders; both judge orders). Every request's seed derives from
(seed, persona, turn, role, attempt), so a rerun reproduces the same trees and
the response cache replays the calls a killed run already paid for. Unusable
user, inducer or responder output is re-asked and then cuts the tree; an
unusable judge order makes that turn a tie, and the tree goes on.
"""

from __future__ import annotations

import functools
import logging
import random
from dataclasses import dataclass, field

from tqdm import tqdm

from aloe.conversations import simulator
from aloe.conversations.parsing import parse_inducer
from aloe.conversations.records import ConversationTree, Replies, TreeTurn, TurnJudge
from aloe.conversations.simulator import clean_message
from aloe.judging.labels import decide, decide_one
from aloe.judging.questions import pair_question
from aloe.judging.verdicts import OrderAnswer, verdict_reader
from aloe.llm.client import LLM
from aloe.llm.pipeline import Pipeline
from aloe.llm.reask import Attempts
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
    turns: list[TreeTurn] = field(default_factory=list)
    simulator: list[dict] = field(default_factory=list)  # the simulator's own chat (it speaks as "assistant")
    history: list[dict] = field(default_factory=list)  # user/assistant messages along the continued branch
    failure: str | None = None
    pending: dict = field(default_factory=dict)  # the turn under construction

    def transcript(self) -> str:
        return "\n".join(f"{'A' if m['role'] == 'user' else 'B'}: {m['content']}" for m in self.history)


class TreeBuilder:
    def __init__(self, llm: LLM, cfg: TreesParams, seed: int, lockstep: bool = False):
        self.llm = llm
        self.cfg = cfg
        self.seed = seed
        self.lockstep = lockstep  # see aloe.llm.pipeline

    def build(self, personas: list[dict]) -> list[Tree]:
        trees = [
            Tree(p["persona_id"], p["profile"], p["personality"], derive_seed(self.seed, p["persona_id"]))
            for p in personas
        ]
        pipeline = Pipeline(self.llm, self.lockstep)
        quiet = not (trees and self.llm.progress)
        with tqdm(total=len(trees) * self.cfg.turns, desc="tree turns", unit="turn", disable=quiet) as bar:
            pipeline.run([self._grow(pipeline, i, t, bar) for i, t in enumerate(trees)])
        log.info(
            "%d trees: %d grown to %d turns, %d cut",
            len(trees),
            sum(len(t.turns) == self.cfg.turns for t in trees),
            self.cfg.turns,
            sum(t.failure is not None for t in trees),
        )
        return trees

    async def _grow(self, pipeline: Pipeline, index: int, tree: Tree, bar: tqdm) -> None:
        """One tree, turn by turn; ``pipeline`` batches or pipelines its calls with the other trees'."""
        for turn in range(self.cfg.turns):
            for step_no, step in enumerate((self._user, self._inducer, self._responders, self._judge)):
                await step(tree, turn, functools.partial(pipeline.ask, index, (turn, step_no)))
                if tree.failure is not None:
                    bar.update(self.cfg.turns - turn)
                    return
            self._continue(tree, turn)
            bar.update(1)

    async def _ask(self, ask, tree: Tree, roles: tuple[str, ...], turn: int, messages, parse) -> list:
        """Ask the tree's ``roles`` (one call each, together, all of one kind) until usable;
        the answers in order. Seeds derive from (tree seed, turn, role, attempt)."""
        kind = ROLE_KIND[roles[0]]
        attempts = Attempts(
            roles,
            lambda role: messages(tree, role),
            lambda role: (tree.seed, turn, role),
            parse,
            self.cfg.decoding(kind),
        )
        while batch := attempts.next_batch():
            attempts.take(await ask(kind, batch))
        return attempts.answers

    def _keep(self, tree: Tree, roles: tuple[str, ...], answers: list, turn: int) -> None:
        """Store usable answers; cut the tree if an answer stayed unusable."""
        for role, answer in zip(roles, answers, strict=True):
            tree.pending.setdefault("attempts", {})[role] = answer.attempts
            if answer.value is None:
                tree.failure = f"turn {turn + 1}: {role} output unusable after {self.cfg.max_attempts} attempts"
            else:
                tree.pending[role] = answer.value

    async def _user(self, t: Tree, turn: int, ask) -> None:
        t.pending = {}
        if turn == 0:
            t.simulator = simulator.opening(t.profile, t.personality)
        roles = ("user",)
        answers = await self._ask(ask, t, roles, turn, lambda t, _: t.simulator, lambda r: clean_message(r.text))
        self._keep(t, roles, answers, turn)

    async def _inducer(self, t: Tree, turn: int, ask) -> None:
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

        roles = ("inducer",)
        self._keep(t, roles, await self._ask(ask, t, roles, turn, messages, lambda r: parse_inducer(r.text)), turn)

    async def _responders(self, t: Tree, turn: int, ask) -> None:
        """Both replies in one call: with the inferred persona as a hint, and without."""

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

        roles = ("hinted", "plain")
        self._keep(t, roles, await self._ask(ask, t, roles, turn, messages, lambda r: clean_message(r.text)), turn)

    async def _judge(self, t: Tree, turn: int, ask) -> None:
        """Both orders in one call (or the hinted-first order alone, ``trees.judge_orders``);
        an order that stays unreadable is missing (a tie)."""

        def messages(t: Tree, order: str) -> list[dict]:
            first, second = JUDGE_ORDERS[order]
            return pair_question(t.profile, t.personality, t.pending[first], t.pending[second])

        read = verdict_reader(self.cfg.verdict_read, self.cfg.judge_min_mass)

        def parse(result):
            reading = read(result)
            return None if reading.verdict is None else reading

        orders = tuple(JUDGE_ORDERS) if self.cfg.judge_orders == "both" else ("judge_ab",)
        answers = await self._ask(ask, t, orders, turn, messages, parse)
        recorded = {}
        for order, answer in zip(orders, answers, strict=True):
            t.pending.setdefault("attempts", {})[order] = answer.attempts
            raw = answer.result.text if answer.result.ok else answer.result.error
            recorded[order] = OrderAnswer(raw, answer.value or read(answer.result))
        ab, ba = recorded["judge_ab"], recorded.get("judge_ba")
        if ba is None:
            label = decide_one(ab.reading)
        else:
            label = decide(ab.reading, ba.reading, self.cfg.judge_disagreement, self.cfg.judge_margin)
        t.pending["judge"] = TurnJudge.from_label(ab, ba, label)

    def _continue(self, t: Tree, turn: int) -> None:
        p = t.pending
        judge = p["judge"]
        hinted_preferred = judge.hinted_won is not False
        preferred, rejected = (p["hinted"], p["plain"]) if hinted_preferred else (p["plain"], p["hinted"])
        chosen = random.Random(derive_seed(t.seed, turn, "continue")).choice(["preferred", "rejected"])
        reply = preferred if chosen == "preferred" else rejected
        t.turns.append(
            TreeTurn(
                user=p["user"],
                assistant=Replies(preferred, rejected),
                chosen=chosen,
                inferred_profile=p["inducer"][0],
                inferred_personality=p["inducer"][1],
                hinted="preferred" if hinted_preferred else "rejected",
                tie=judge.hinted_won is None,
                margin=judge.margin,
                judge=judge,
                attempts=p["attempts"],
            )
        )
        t.history += [{"role": "user", "content": p["user"]}, {"role": "assistant", "content": reply}]
        t.simulator = simulator.follow_up(t.simulator, p["user"], reply)
        t.pending = {}

    def record(self, tree: Tree) -> ConversationTree:
        """One line of trees.jsonl: the paper's fields, then our extras."""
        return ConversationTree(
            profile=tree.profile,
            personality=tree.personality,
            conversations=tree.turns,
            id=tree.persona_id,
            seed=tree.seed,
            status="cut" if tree.failure else "complete",
            failure=tree.failure,
            models={r: self.llm.model_id(r) for r in ("user", "inducer", "responder", "judge")},
        )
