"""The judge check's calls: per planted pair, the opening message, three replies, both
orders of every probe and every score, each step one batched call per role.

The simulator, the responder and both judges are the roles the trees and the
benchmark ask (:mod:`aloe.roles`), with the same decoding and readers, so the cards
measure the judges as the labels and the benchmark read them. Every request's seed
derives from (check seed, persona, tag, attempt).
"""

from __future__ import annotations

from aloe.judge_check.planted import ORDERS, PROBES, REPLIES, SCORED, PlantedPair, Scored
from aloe.llm.client import LLM
from aloe.params import Params
from aloe.personas.rows import Persona
from aloe.roles.pairwise_judge import PairAsk, PairwiseJudge
from aloe.roles.responder import Responder, ResponderAsk
from aloe.roles.score_judge import ScoreAsk, ScoreJudge
from aloe.roles.simulator import SimulatorAsk, UserSimulator
from aloe.seeds import derive_seed


def planted_pairs(
    llm: LLM, personas: list[Persona], contrast: list[int], similar: list[int], params: Params
) -> list[PlantedPair]:
    """One record per persona: the message, three replies, both orders of every probe, every score.
    Each step asks only the pairs the step before left usable."""
    seed = derive_seed(params.seed, "judge_check")
    records = [
        PlantedPair(
            p.persona_id, p.profile_id, p.profile, p.personality, personas[c].persona_id, personas[n].persona_id
        )
        for p, c, n in zip(personas, contrast, similar, strict=True)
    ]
    by_id = {p.persona_id: p for p in personas}
    ask_openings(llm, records, seed, params)
    ready = [r for r in records if r.message]
    ask_replies(llm, ready, by_id, seed, params)
    ready = [r for r in ready if all(r.replies.values()) and len(set(r.replies.values())) == len(REPLIES)]
    ask_verdicts(llm, ready, by_id, seed, params)
    ask_scores(llm, ready, by_id, seed, params)
    return records


def ask_openings(llm: LLM, records: list[PlantedPair], seed: int, params: Params) -> None:
    user = UserSimulator(params.trees.decoding("user"))
    items = [
        SimulatorAsk(UserSimulator.opening(r.profile, r.personality), (seed, r.persona_id, "user")) for r in records
    ]
    for rec, answer in zip(records, user.ask(llm, items), strict=True):
        rec.message = answer.value


def ask_replies(llm: LLM, records: list[PlantedPair], by_id: dict[str, Persona], seed: int, params: Params) -> None:
    """The responder answers each opening told the persona of every reply tag."""
    pairs = [(r, tag) for r in records for tag in REPLIES]
    items = [ResponderAsk((), r.message, hint(by_id[r.persona_of(tag)]), (seed, r.persona_id, tag)) for r, tag in pairs]
    for (rec, tag), answer in zip(pairs, Responder(params.trees.decoding("responder")).ask(llm, items), strict=True):
        rec.replies[tag] = answer.value


def ask_verdicts(llm: LLM, records: list[PlantedPair], by_id: dict[str, Persona], seed: int, params: Params) -> None:
    """Both orders of every probe, read as the trees read verdicts."""
    judge = PairwiseJudge(params.judge, llm.continues_prefill("judge"))
    asked = [(r, name, order) for r in records for name in PROBES for order in ORDERS]
    items = [verdict_item(r, name, order, by_id, seed) for r, name, order in asked]
    answers = [judge.order_answer(a) for a in judge.ask(llm, items)]
    for (rec, name, _), first, second in zip(asked[0::2], answers[0::2], answers[1::2], strict=True):
        rec.verdicts[name] = (first, second)


def verdict_item(rec: PlantedPair, name: str, order: str, by_id: dict[str, Persona], seed: int) -> PairAsk:
    probe = PROBES[name]
    persona = by_id[rec.persona_of(probe.persona)]
    first, second = (probe.subject, probe.other) if order == "subject_first" else (probe.other, probe.subject)
    key = (seed, rec.persona_id, probe.tag(order))
    return PairAsk(persona.profile, persona.personality, rec.reply(first), rec.reply(second), key)


def ask_scores(llm: LLM, records: list[PlantedPair], by_id: dict[str, Persona], seed: int, params: Params) -> None:
    """Every score of :data:`SCORED`, read as the benchmark reads scores."""
    judge = ScoreJudge(params.judge, llm.continues_prefill("judge"))
    asked = [(r, key) for r in records for key in SCORED]
    items = [score_item(r, SCORED[key], by_id, seed) for r, key in asked]
    for (rec, key), judged in zip(asked, judge.scores(llm, items), strict=True):
        rec.scores[key] = judged


def score_item(rec: PlantedPair, scored: Scored, by_id: dict[str, Persona], seed: int) -> ScoreAsk:
    persona = by_id[rec.persona_of(scored.persona)]
    key = (seed, rec.persona_id, scored.seed_tag)
    return ScoreAsk(persona.profile, persona.personality, rec.message, rec.reply(scored.reply), key)


def hint(persona: Persona) -> tuple[str, str]:
    return persona.profile, persona.personality
