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

from aloe.conversations.records import ConversationTree, Replies, TreeTurn, TurnJudge
from aloe.judging.labels import decide, decide_one
from aloe.llm.client import LLM
from aloe.llm.pipeline import Pipeline
from aloe.params import JudgeParams, TreesParams
from aloe.personas.rows import Persona
from aloe.roles.inducer import Inducer, InducerAsk
from aloe.roles.pairwise_judge import PairAsk, PairwiseJudge
from aloe.roles.responder import Responder, ResponderAsk
from aloe.roles.simulator import SimulatorAsk, UserSimulator
from aloe.seeds import derive_seed

log = logging.getLogger(__name__)

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
    def __init__(self, llm: LLM, cfg: TreesParams, judge: JudgeParams, seed: int, lockstep: bool = False):
        self.llm = llm
        self.cfg = cfg
        self.rule = judge.pairwise  # the label rule: orders, disagreement, margin
        self.seed = seed
        self.lockstep = lockstep  # see aloe.llm.pipeline
        self.user = UserSimulator(cfg.decoding("user"))
        self.inducer = Inducer(cfg.decoding("inducer"))
        self.responder = Responder(cfg.decoding("responder"))
        self.judge = PairwiseJudge(judge, llm.continues_prefill("judge"))

    def build(self, personas: list[Persona]) -> list[Tree]:
        trees = [Tree(p.persona_id, p.profile, p.personality, derive_seed(self.seed, p.persona_id)) for p in personas]
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

    def _keep(self, tree: Tree, tags: tuple[str, ...], answers: list, turn: int) -> None:
        """Store usable answers under their tags; cut the tree if an answer stayed unusable."""
        for tag, answer in zip(tags, answers, strict=True):
            tree.pending.setdefault("attempts", {})[tag] = answer.attempts
            if answer.value is None:
                tree.failure = f"turn {turn + 1}: {tag} output unusable after {self.cfg.max_attempts} attempts"
            else:
                tree.pending[tag] = answer.value

    async def _user(self, t: Tree, turn: int, send) -> None:
        t.pending = {}
        if turn == 0:
            t.simulator = UserSimulator.opening(t.profile, t.personality)
        answers = await self.user.ask_async(send, [SimulatorAsk(tuple(t.simulator), (t.seed, turn, "user"))])
        self._keep(t, ("user",), answers, turn)

    async def _inducer(self, t: Tree, turn: int, send) -> None:
        conversation = t.transcript() + ("\n" if t.history else "") + f"A: {t.pending['user']}"
        item = InducerAsk(conversation, t.profile, t.personality, (t.seed, turn, "inducer"))
        self._keep(t, ("inducer",), await self.inducer.ask_async(send, [item]), turn)

    async def _responders(self, t: Tree, turn: int, send) -> None:
        """Both replies in one call: with the inferred persona as a hint, and without."""
        message = t.pending["user"]
        items = [
            ResponderAsk(tuple(t.history), message, t.pending["inducer"], (t.seed, turn, "hinted")),
            ResponderAsk(tuple(t.history), message, None, (t.seed, turn, "plain")),
        ]
        self._keep(t, ("hinted", "plain"), await self.responder.ask_async(send, items), turn)

    async def _judge(self, t: Tree, turn: int, send) -> None:
        """Both orders in one call (or the hinted-first order alone, ``judge.pairwise.orders``);
        an order that stays unreadable is missing (a tie)."""
        orders = tuple(JUDGE_ORDERS) if self.rule.orders == "both" else ("judge_ab",)
        items = [
            PairAsk(t.profile, t.personality, t.pending[first], t.pending[second], (t.seed, turn, order))
            for order, (first, second) in ((o, JUDGE_ORDERS[o]) for o in orders)
        ]
        answers = await self.judge.ask_async(send, items)
        recorded = {}
        for order, answer in zip(orders, answers, strict=True):
            t.pending.setdefault("attempts", {})[order] = answer.attempts
            recorded[order] = self.judge.order_answer(answer)
        ab, ba = recorded["judge_ab"], recorded.get("judge_ba")
        if ba is None:
            label = decide_one(ab.reading)
        else:
            label = decide(ab.reading, ba.reading, self.rule.disagreement, self.rule.margin)
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
        t.simulator = UserSimulator.follow_up(t.simulator, p["user"], reply)
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
