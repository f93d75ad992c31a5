"""The judge check: planted pairs with a known answer, asked before any tree is grown.

For ``judge_check.pairs`` training personas P, spread over as many profiles as the
split has (:func:`spread_over_profiles`), the simulator
writes P's opening message and the responder answers it twice: once told P's
true profile and personality (the *matched* reply), once told those of the
training persona least like P (the *mismatched* reply). A judge that can tell
anything apart prefers the matched reply. The pairwise judge is asked in both
orders and read with the label rule's evidence (policy ``average`` at
``trees.judge_margin``, whatever ``trees.judge_disagreement`` says, so the
check measures the judge and not the policy); the 1-5 scoring judge of the
benchmark scores both replies.

accuracy = (pairs labelled matched + half the ties) / pairs: 0.5 is a coin, 1.0
a judge that always prefers the matched reply. Intervals resample profiles. Every
figure of both judges' report cards is in :mod:`aloe.judging.card`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from aloe.conversations import simulator
from aloe.conversations.simulator import clean_message
from aloe.errors import AloeError
from aloe.judging.card import pair_card, planted_labels, score_card
from aloe.judging.questions import pair_question, score_question
from aloe.judging.scores import PREFILL, answer_text, read_score
from aloe.judging.verdicts import OrderAnswer, read_verdict
from aloe.llm.client import LLM
from aloe.llm.reask import ask_until_usable
from aloe.params import Params
from aloe.personas.embeddings import Embedder
from aloe.prompts import render
from aloe.seeds import derive_seed

ORDERS = {"matched_first": ("matched", "mismatched"), "matched_second": ("mismatched", "matched")}


@dataclass(frozen=True)
class PlantedScore:
    """The 1-5 judge's score of one reply (aloe.judging.scores), with what it wrote."""

    score: float | None
    method: str  # logprobs | text | missing
    raw: str

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, record: dict) -> PlantedScore:
        return cls(record["score"], record["method"], record["raw"])


@dataclass
class PlantedPair:
    """One line of data/judge/planted.jsonl, filled in step by step by :func:`planted_pairs`:
    the persona and its contrast, the opening message, the matched and mismatched replies
    (asked only when the message is usable), then both orders' verdicts and both scores
    (asked only when both replies are usable and differ). A pair that stopped early keeps
    only the fields it reached, on file as in memory."""

    persona_id: str
    profile_id: str
    profile: str
    personality: str
    contrast_id: str
    message: str | None = None
    matched: str | None = None
    mismatched: str | None = None
    matched_first: OrderAnswer | None = None
    matched_second: OrderAnswer | None = None
    matched_score: PlantedScore | None = None
    mismatched_score: PlantedScore | None = None

    @property
    def judged(self) -> bool:
        return self.matched_first is not None

    def reply(self, tag: str) -> str | None:
        """The ``matched`` or the ``mismatched`` reply."""
        return self.matched if tag == "matched" else self.mismatched

    def to_json(self) -> dict:
        out = {
            "persona_id": self.persona_id,
            "profile_id": self.profile_id,
            "profile": self.profile,
            "personality": self.personality,
            "contrast_id": self.contrast_id,
            "message": self.message,
        }
        if self.message:
            out.update(matched=self.matched, mismatched=self.mismatched)
        if self.judged:
            out.update(
                matched_first=self.matched_first.to_json(),
                matched_second=self.matched_second.to_json(),
                matched_score=self.matched_score.to_json(),
                mismatched_score=self.mismatched_score.to_json(),
            )
        return out

    @classmethod
    def from_json(cls, record: dict) -> PlantedPair:
        judged = "matched_first" in record
        return cls(
            record["persona_id"],
            record["profile_id"],
            record["profile"],
            record["personality"],
            record["contrast_id"],
            record["message"],
            record.get("matched"),
            record.get("mismatched"),
            OrderAnswer.from_json(record["matched_first"]) if judged else None,
            OrderAnswer.from_json(record["matched_second"]) if judged else None,
            PlantedScore.from_json(record["matched_score"]) if judged else None,
            PlantedScore.from_json(record["mismatched_score"]) if judged else None,
        )


def spread_over_profiles(personas: list[dict], n: int) -> list[dict]:
    """``n`` personas taken one profile at a time (the first persona of every profile, then
    the second, ...), in the split's order: intervals resample profiles, so pairs spread
    over many profiles say more than pairs piled on a few."""
    by_profile: dict[str, list[dict]] = {}
    for p in personas:
        by_profile.setdefault(p["profile_id"], []).append(p)
    rounds = max((len(v) for v in by_profile.values()), default=0)
    spread = [group[k] for k in range(rounds) for group in by_profile.values() if k < len(group)]
    return spread[:n]


def planted_personas(path: str, params: Params) -> tuple[list[dict], list[int]]:
    """The check's training personas (spread over profiles) and, for each, its contrast."""
    rows = spread_over_profiles(pd.read_parquet(path).to_dict("records"), params.judge_check.pairs)
    if len(rows) < 2:
        raise AloeError(f"{path}: the judge check needs at least 2 training personas, found {len(rows)}")
    vectors = Embedder(params.personas.filter.embedding_model).encode(
        [f"{p['profile']} {p['personality']}" for p in rows]
    )
    return rows, contrasts(vectors)


def contrasts(vectors: np.ndarray) -> list[int]:
    """For each persona (row of L2-normalised embeddings), the least similar other persona."""
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, np.inf)
    return [int(i) for i in sims.argmin(axis=1)]


def planted_pairs(llm: LLM, personas: list[dict], contrast: list[int], params: Params) -> list[PlantedPair]:
    """One record per persona: the message, both replies, both verdicts, both scores."""
    trees, ev = params.trees, params.eval
    seed = derive_seed(params.seed, "judge_check")
    records = [
        PlantedPair(p["persona_id"], p["profile_id"], p["profile"], p["personality"], personas[c]["persona_id"])
        for p, c in zip(personas, contrast, strict=True)
    ]

    def ask(role: str, items: list, messages, parse, decoding, prefill: str = "") -> list:
        """Each item is (record, tag); seeds derive from (check seed, persona, tag, attempt)."""
        return ask_until_usable(
            llm,
            role,
            items,
            lambda item: messages(*item),
            lambda item: (seed, item[0].persona_id, item[1]),
            parse,
            decoding,
            prefill,
        )

    users = ask(
        "user",
        [(r, "user") for r in records],
        lambda r, _: simulator.opening(r.profile, r.personality),
        lambda res: clean_message(res.text),
        trees.decoding("user"),
    )
    for rec, answer in zip(records, users, strict=True):
        rec.message = answer.value
    ready = [r for r in records if r.message]

    def reply_messages(rec: PlantedPair, tag: str) -> list[dict]:
        if tag == "matched":
            profile, personality = rec.profile, rec.personality
        else:
            contrast = next(p for p in personas if p["persona_id"] == rec.contrast_id)
            profile, personality = contrast["profile"], contrast["personality"]
        return [
            {
                "role": "user",
                "content": render(
                    "responder_hint",
                    message=rec.message,
                    inferred_profile=profile,
                    inferred_personality=personality,
                ),
            }
        ]

    items = [(r, tag) for r in ready for tag in ("matched", "mismatched")]
    replies = ask(
        "responder",
        items,
        reply_messages,
        lambda res: clean_message(res.text),
        trees.decoding("responder"),
    )
    for rec, matched, mismatched in zip(ready, replies[0::2], replies[1::2], strict=True):
        rec.matched, rec.mismatched = matched.value, mismatched.value
    ready = [r for r in ready if r.matched and r.mismatched and r.matched != r.mismatched]

    items = [(r, order) for r in ready for order in ORDERS]
    verdicts = ask(
        "judge",
        items,
        lambda r, o: pair_question(r.profile, r.personality, r.reply(ORDERS[o][0]), r.reply(ORDERS[o][1])),
        lambda res: res if read_verdict(res, trees.judge_min_mass).verdict else None,
        trees.decoding("judge"),
    )

    def order_answer(answer) -> OrderAnswer:
        return OrderAnswer(answer.result.text, read_verdict(answer.result, trees.judge_min_mass))

    for rec, first, second in zip(ready, verdicts[0::2], verdicts[1::2], strict=True):
        rec.matched_first, rec.matched_second = order_answer(first), order_answer(second)

    items = [(r, tag) for r in ready for tag in ("matched", "mismatched")]
    prefill = PREFILL if llm.continues_prefill("judge") else ""
    scores = ask(
        "judge",
        items,
        lambda r, tag: score_question(r.profile, r.personality, r.message, r.reply(tag)),
        lambda res: res if read_score(res, ev.judge_min_mass, prefill)[0] is not None else None,
        ev.decoding("judge"),
        prefill,
    )

    def planted_score(answer) -> PlantedScore:
        return PlantedScore(*read_score(answer.result, ev.judge_min_mass, prefill), answer_text(answer.result, prefill))

    for rec, matched, mismatched in zip(ready, scores[0::2], scores[1::2], strict=True):
        rec.matched_score, rec.mismatched_score = planted_score(matched), planted_score(mismatched)
    return records


def judge_metrics(records: list[PlantedPair], params: Params, judge: str) -> dict:
    """metrics/judge.json: a report card per judge (:mod:`aloe.judging.card`) under ``pairwise``
    and ``scoring``, the identity of the judge measured (``judge``: a card applies only to that
    backend), and the headline keys the trees gate and older readers use."""
    asked = [r for r in records if r.judged]
    n_boot, seed, trees = params.judge_check.bootstrap, params.seed, params.trees
    labels = planted_labels(asked, trees.judge_margin)
    pairwise = pair_card(asked, labels, trees.min_judge_accuracy, n_boot, seed)
    scoring = score_card(asked, n_boot, seed)
    labelled = [lab for lab in labels if lab.subject_won is not None]
    accuracy = pairwise.get("accuracy", {})
    return {
        "judge": judge,
        "n": len(asked),
        "dropped": len(records) - len(asked),
        "clusters": pairwise["clusters"],
        "accuracy": accuracy.get("value"),
        "accuracy_ci95": accuracy.get("ci95"),
        "above_chance": bool(accuracy.get("ci95") and accuracy["ci95"][0] > 0.5),
        "label_rate": round(len(labelled) / len(asked), 4) if asked else None,
        "accuracy_labelled": round(float(np.mean([lab.subject_won for lab in labelled])), 4) if labelled else None,
        "position_bias": pairwise.get("first_position_rate", {}).get("value"),
        "consistency": pairwise.get("consistency", {}).get("value"),
        "score_gap": scoring.get("gap", {}).get("value"),
        "score_gap_ci95": scoring.get("gap", {}).get("ci95"),
        "score_n": scoring["n"],
        "pairwise": pairwise,
        "scoring": scoring,
    }
