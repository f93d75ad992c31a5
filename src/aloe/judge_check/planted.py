"""The judge check's probes and the record of one planted pair (data/judge/planted.jsonl)."""

from __future__ import annotations

from dataclasses import dataclass, field

from aloe.roles.score_judge import JudgedScore
from aloe.roles.verdicts import OrderAnswer

ORDERS = ("subject_first", "subject_second")
REPLIES = ("matched", "mismatched", "similar")  # whose persona the responder is told
# The length-only probe's padding: adds words and says nothing about anyone (no word a
# persona is likely to hold, which a persona-word judge would read as personal).
NEUTRAL = "That is all for now."


@dataclass(frozen=True)
class Probe:
    """One pairwise question about every planted pair, asked in both orders: is ``subject``
    preferred to ``other`` (reply tags) by the persona the judge is told of (``persona``: the
    pair's own, or its contrast's)? ``seed_tag`` keeps each probe's calls apart in the cache."""

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


@dataclass(frozen=True)
class Scored:
    """One reply of every planted pair the 1-5 judge scores: ``reply`` (a reply tag, or
    ``padded``), told of ``persona`` (the pair's own, ``matched``, or its contrast's,
    ``mismatched``); ``seed_tag`` keeps each score's calls apart in the cache."""

    reply: str
    persona: str
    seed_tag: str


SCORED = {
    "matched": Scored("matched", "matched", "matched"),  # the gap and AUROC
    "mismatched": Scored("mismatched", "matched", "mismatched"),
    "similar": Scored("similar", "matched", "similar"),  # the hard gap
    "matched_retest": Scored("matched", "matched", "retest:matched"),  # the scores on new seeds
    "mismatched_retest": Scored("mismatched", "matched", "retest:mismatched"),
    "padded": Scored("padded", "matched", "padded"),  # P(higher score for the longer reply): + NEUTRAL
    "matched_swapped": Scored("matched", "mismatched", "swapped:matched"),  # persona flip: told the contrast
}


@dataclass
class PlantedPair:
    """One line of data/judge/planted.jsonl, filled in step by step by :func:`aloe.judge_check.asking.planted_pairs`:
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
    scores: dict[str, JudgedScore] = field(default_factory=dict)

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
        scores = {k: JudgedScore.from_json(s) for k, s in record.get("scores", {}).items()}
        ids = [record[k] for k in ("persona_id", "profile_id", "profile", "personality", "contrast_id", "similar_id")]
        return cls(*ids, record["message"], record.get("replies", {}), verdicts, scores)
