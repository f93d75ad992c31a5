"""metrics/aloe/<variant>.json as a typed record: the curve metrics (:mod:`aloe.evaluation.metrics`),
how the run went, and the 1-5 judge's gate. The aloe_eval stage and ``aloe eval --out`` write it;
whatever reads it back goes through :meth:`EvalReport.read`, so a missing field names the file."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from aloe.files import read_record


@dataclass(frozen=True)
class EvalReport:
    AL: list[float | None]  # alignment level per turn (None: no score at that turn)
    AL_n: list[int]  # scores behind each AL
    AL_mean: float
    IR: float  # improvement rate: slope of AL on the turn
    R2: float
    N_IR: float  # the slope of min-max normalised AL
    N_R2: float
    AL_mean_ci95: list[float] | None
    IR_ci95: list[float] | None
    n_examples: int
    turns: int
    clusters: int  # profiles: the bootstrap resamples them
    underpowered: bool  # fewer profiles than a judge's card asks for (aloe.judging.card.MIN_CLUSTERS)
    judge_missing: int  # scores asked and never read
    stopped_early: int  # turns not asked: the dialogue had ended
    bootstrap: int
    bootstrap_incomplete: int
    reveal_by_turn: list[float | None]
    score_methods: dict[str, int]  # how each score was read
    score_missing_reasons: dict[str, int]  # why scores were not read (aloe.roles.slots.REASONS)
    dialogues_stopped: int
    judge_logprobs: bool
    models: dict[str, str]  # backend identity per role: model, user, judge
    judge_blind: bool | None  # None: the check measured another judge, or none
    judge_card: dict | None
    calls: dict
    variant: str | None = None  # eval.variants key; None from `aloe eval`

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def read(cls, path: str) -> EvalReport:
        return read_record(cls, path, "the aloe_eval stage")
