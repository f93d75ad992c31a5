"""The judge check: planted pairs with a known answer, asked before any tree is grown.

For ``judge_check.pairs`` training personas P, spread over as many profiles as the
split has (:func:`spread_over_profiles`), the simulator writes P's opening message
and the responder answers it three times: told P's true profile and personality
(the *matched* reply), told those of the training persona least like P (the
*mismatched* reply, the easy difficulty), and told those of the persona most like
P with another profile (the *similar* reply, the hard difficulty). A judge that
can tell anything apart prefers the matched reply. The pairwise judge is asked
every probe of :data:`PROBES` in both orders (matched against mismatched, against
similar, the matched reply against itself plus one neutral sentence, matched
against mismatched for the contrast persona, and again on new seeds), read with
the label rule's evidence (policy ``average`` at ``trees.judge_margin``, whatever
``trees.judge_disagreement`` says, so the check measures the judge and not the
policy); the 1-5 scoring judge of the benchmark scores the three replies, and the
first two again on new seeds.

accuracy = (pairs labelled matched + half the ties) / pairs: 0.5 is a coin, 1.0
a judge that always prefers the matched reply. Intervals resample profiles. Every
figure of both judges' report cards is in :mod:`aloe.judging.card`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from aloe.conversations import simulator
from aloe.conversations.simulator import clean_message
from aloe.errors import AloeError
from aloe.judging.card import mean_with_ci, pair_card, planted_labels, score_card
from aloe.judging.labels import decide
from aloe.judging.questions import pair_question, score_question
from aloe.judging.scores import answer_text, score_reading
from aloe.judging.verdicts import OrderAnswer, OrderReading, verdict_reader
from aloe.llm.client import LLM
from aloe.llm.reask import ask_until_usable
from aloe.params import Params
from aloe.personas.embeddings import filter_embedder
from aloe.prompts import render
from aloe.seeds import derive_seed

ORDERS = ("subject_first", "subject_second")
REPLIES = ("matched", "mismatched", "similar")  # whose persona the responder is told
# The length-only probe's padding: adds words and says nothing about anyone. Not "I hope this
# helps.": "hope" and "help" are in 5 of the default run's 64 training personas, so the rule
# judge read it as personal (P(prefer longer) 0.58 for a judge with no length bias).
NEUTRAL = "That is all for now."


@dataclass(frozen=True)
class Probe:
    """One pairwise question about every planted pair, asked in both orders: is ``subject``
    preferred to ``other`` (reply tags) by the persona the judge is told of (``persona``: the
    pair's own, or its contrast's)? ``seed_tag`` keeps each probe's calls apart in the cache;
    the planted probe keeps the tags it has always had, so a rerun pays for no call twice."""

    subject: str
    other: str
    persona: str  # whose persona the judge is told: matched (the pair's own) | mismatched (its contrast)
    seed_tag: str

    def tag(self, order: str) -> str:
        return f"{self.seed_tag}{'first' if order == 'subject_first' else 'second'}"


PROBES = {
    "planted": Probe("matched", "mismatched", "matched", "matched_"),  # accuracy, the easy difficulty
    "similar": Probe("matched", "similar", "matched", "similar:"),  # accuracy, the hard difficulty
    "length": Probe("padded", "matched", "matched", "length:"),  # P(prefer longer): same reply + NEUTRAL
    "swapped": Probe("matched", "mismatched", "mismatched", "swapped:"),  # persona sensitivity
    "retest": Probe("matched", "mismatched", "matched", "retest:"),  # the planted probe on new seeds
}
SCORED = {  # score key: (reply tag, seed tag); "matched" and "mismatched" keep their old seed tags
    "matched": ("matched", "matched"),
    "mismatched": ("mismatched", "mismatched"),
    "similar": ("similar", "similar"),
    "matched_retest": ("matched", "retest:matched"),
    "mismatched_retest": ("mismatched", "retest:mismatched"),
}


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
    the persona, its contrast (least similar) and its near neighbour (most similar with
    another profile), the opening message, the replies written for each of the three
    (asked only when the message is usable), then both orders of every probe
    (:data:`PROBES`) and every score (:data:`SCORED`), asked only when the three replies
    are usable and differ. A pair that stopped early keeps only the fields it reached,
    on file as in memory."""

    persona_id: str
    profile_id: str
    profile: str
    personality: str
    contrast_id: str
    similar_id: str
    message: str | None = None
    replies: dict[str, str | None] = field(default_factory=dict)  # matched | mismatched | similar
    verdicts: dict[str, tuple[OrderAnswer, OrderAnswer]] = field(default_factory=dict)  # probe -> orders
    scores: dict[str, PlantedScore] = field(default_factory=dict)

    @property
    def judged(self) -> bool:
        return bool(self.verdicts)

    def reply(self, tag: str) -> str | None:
        """A reply by tag; ``padded`` is the matched reply with :data:`NEUTRAL` after it."""
        if tag == "padded":
            return f"{self.replies['matched']} {NEUTRAL}"
        return self.replies.get(tag)

    def persona_of(self, tag: str) -> str:
        """The persona id a reply tag (or a probe's ``persona``) stands for."""
        return {"matched": self.persona_id, "mismatched": self.contrast_id, "similar": self.similar_id}[tag]

    def readings(self, probe: str) -> tuple:
        """The probe's two :class:`OrderReading` (subject first, subject second)."""
        return tuple(answer.reading for answer in self.verdicts[probe])

    def to_json(self) -> dict:
        out = {
            "persona_id": self.persona_id,
            "profile_id": self.profile_id,
            "profile": self.profile,
            "personality": self.personality,
            "contrast_id": self.contrast_id,
            "similar_id": self.similar_id,
            "message": self.message,
        }
        if self.message:
            out["replies"] = self.replies
        if self.judged:
            out["verdicts"] = {
                probe: dict(zip(ORDERS, (a.to_json() for a in pair), strict=True))
                for probe, pair in self.verdicts.items()
            }
            out["scores"] = {k: s.to_json() for k, s in self.scores.items()}
        return out

    @classmethod
    def from_json(cls, record: dict) -> PlantedPair:
        verdicts = {
            probe: tuple(OrderAnswer.from_json(orders[o]) for o in ORDERS)
            for probe, orders in record.get("verdicts", {}).items()
        }
        scores = {k: PlantedScore.from_json(s) for k, s in record.get("scores", {}).items()}
        ids = [record[k] for k in ("persona_id", "profile_id", "profile", "personality", "contrast_id", "similar_id")]
        return cls(*ids, record["message"], record.get("replies", {}), verdicts, scores)


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


def planted_personas(path: str, params: Params) -> tuple[list[dict], list[int], list[int]]:
    """The check's training personas (spread over profiles) and, for each, its contrast (the
    least similar) and its near neighbour (the most similar with another profile)."""
    rows = spread_over_profiles(pd.read_parquet(path).to_dict("records"), params.judge_check.pairs)
    if len(rows) < 2:
        raise AloeError(f"{path}: the judge check needs at least 2 training personas, found {len(rows)}")
    vectors = filter_embedder(params.personas.filter).encode([f"{p['profile']} {p['personality']}" for p in rows])
    contrast = contrasts(vectors)
    return rows, contrast, neighbours(vectors, [p["profile_id"] for p in rows], contrast)


def contrasts(vectors: np.ndarray) -> list[int]:
    """For each persona (row of L2-normalised embeddings), the least similar other persona."""
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, np.inf)
    return [int(i) for i in sims.argmin(axis=1)]


def neighbours(vectors: np.ndarray, profiles: list[str], contrast: list[int]) -> list[int]:
    """For each persona, the most similar persona with another profile (the hard planted pair:
    a reply for someone much like them), or the most similar other persona where every one
    shares the profile; never its contrast while there is anyone else (with two personas
    there is not: a greedy responder then writes the same reply twice and the pair drops)."""
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    if len(sims) > 2:
        sims[np.arange(len(sims)), contrast] = -np.inf
    same = np.array(profiles)[:, None] == np.array(profiles)[None, :]
    other = np.where(same, -np.inf, sims)
    return [int(o.argmax()) if np.isfinite(o.max()) else int(s.argmax()) for o, s in zip(other, sims, strict=True)]


def planted_pairs(
    llm: LLM, personas: list[dict], contrast: list[int], similar: list[int], params: Params
) -> list[PlantedPair]:
    """One record per persona: the message, three replies, both orders of every probe, every score."""
    trees, ev = params.trees, params.eval
    seed = derive_seed(params.seed, "judge_check")
    records = [
        PlantedPair(
            p["persona_id"],
            p["profile_id"],
            p["profile"],
            p["personality"],
            personas[c]["persona_id"],
            personas[n]["persona_id"],
        )
        for p, c, n in zip(personas, contrast, similar, strict=True)
    ]
    by_id = {p["persona_id"]: p for p in personas}

    def ask(role: str, items: list, messages, parse, decoding, prefill: str = "") -> list:
        """Each item is (record, seed tag, ...); seeds derive from (check seed, persona, tag, attempt)."""
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

    def reply_messages(rec: PlantedPair, tag: str) -> list[dict]:
        p = by_id[rec.persona_of(tag)]
        text = render(
            "responder_hint", message=rec.message, inferred_profile=p["profile"], inferred_personality=p["personality"]
        )
        return [{"role": "user", "content": text}]

    def clean(res) -> str | None:
        return clean_message(res.text)

    users = ask(
        "user",
        [(r, "user") for r in records],
        lambda r, _: simulator.opening(r.profile, r.personality),
        clean,
        trees.decoding("user"),
    )
    for rec, answer in zip(records, users, strict=True):
        rec.message = answer.value
    ready = [r for r in records if r.message]

    items = [(r, tag) for r in ready for tag in REPLIES]
    for (rec, tag), answer in zip(
        items, ask("responder", items, reply_messages, clean, trees.decoding("responder")), strict=True
    ):
        rec.replies[tag] = answer.value
    ready = [r for r in ready if all(r.replies.values()) and len(set(r.replies.values())) == len(REPLIES)]

    def pair_messages(rec: PlantedPair, _tag: str, probe: str, order: str) -> list[dict]:
        pr = PROBES[probe]
        p = by_id[rec.persona_of(pr.persona)]
        first, second = (pr.subject, pr.other) if order == "subject_first" else (pr.other, pr.subject)
        return pair_question(p["profile"], p["personality"], rec.reply(first), rec.reply(second))

    read = verdict_reader(trees.verdict_read, trees.judge_min_mass)  # as the trees read verdicts
    items = [(r, pr.tag(o), name, o) for r in ready for name, pr in PROBES.items() for o in ORDERS]
    verdicts = ask(
        "judge",
        items,
        pair_messages,
        lambda res: res if read(res).verdict else None,
        trees.decoding("judge"),
    )

    def order_answer(answer) -> OrderAnswer:
        return OrderAnswer(answer.result.text, read(answer.result))

    for (rec, _, probe, _), first, second in zip(items[0::2], verdicts[0::2], verdicts[1::2], strict=True):
        rec.verdicts[probe] = (order_answer(first), order_answer(second))

    prefill, read = score_reading(ev.score_read, ev.judge_min_mass, llm.continues_prefill("judge"))
    items = [(r, seed_tag, key) for r in ready for key, (_, seed_tag) in SCORED.items()]
    scores = ask(
        "judge",
        items,
        lambda r, _, key: score_question(r.profile, r.personality, r.message, r.reply(SCORED[key][0])),
        lambda res: res if read(res)[0] is not None else None,
        ev.decoding("judge"),
        prefill,
    )
    for (rec, _, key), answer in zip(items, scores, strict=True):
        rec.scores[key] = PlantedScore(*read(answer.result), answer_text(answer.result, prefill))
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
    labelled = [lab for lab in labels.get("planted", []) if lab.subject_won is not None]
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
        "label_noise": label_noise(asked, trees, n_boot, seed),
    }


def label_noise(pairs: list[PlantedPair], trees, n_boot: int, seed: int) -> dict:
    """How often a label made by the trees' own rule picks the mismatched reply of a planted pair:
    the flip rate ``dpo.label_noise: measured`` trains with (rDPO). Ties are no labels and are left
    out. A planted pair is easier than a tree's hinted and plain replies, which differ less, so on
    trees the rate is likely higher: read it as a lower bound."""
    flipped = [np.mean(f) if (f := label_flips(*p.readings("planted"), trees)) else np.nan for p in pairs]
    rate = mean_with_ci(np.array(flipped), [p.profile_id for p in pairs], n_boot, seed) if pairs else {"n": 0}
    return {
        "flip_rate": rate.get("value"),
        "flip_rate_ci95": rate.get("ci95"),
        "labelled": rate["n"],
        "asked": len(pairs),
        "rule": {k: getattr(trees, k) for k in ("judge_orders", "judge_disagreement", "judge_margin")},
    }


def label_flips(subject_first: OrderReading, subject_second: OrderReading, trees) -> list[float]:
    """One planted pair's flips under the trees' rule (none: no label). On a tree nobody knows
    whether the hinted reply is the better one, so what the rule settles by position rather than
    by the judge is scored as the tree would get it, not as the planted pair's order would:
    under ``hinted_first`` the one order's verdict in either position (a judge always saying
    "first" is right in one, wrong in the other); under ``judge_disagreement: hinted`` a
    disagreement settled for the hinted reply counts half a flip."""
    if trees.judge_orders == "hinted_first":
        orders = ((subject_first, "second"), (subject_second, "first"))  # (reading, the mismatched reply's verdict)
        return [float(r.verdict == wrong) for r, wrong in orders if r.verdict]
    label = decide(subject_first, subject_second, trees.judge_disagreement, trees.judge_margin)
    if label.subject_won is None:
        return []
    return [0.5 if label.source == "hinted" else float(not label.subject_won)]
