"""The rewards GRPO trains on, by name (``grpo.rewards: {name: weight}``).

Every reward gets the rollout's fields for each completion (:mod:`aloe.training.episodes`)
and returns one number per completion, or None where it does not apply (trl leaves a None
out of that completion's weighted sum, and a completion no reward applies to out of its
group's baseline; each reward is logged on its own). A reward of weight 0 is a *monitor*:
computed on the same completions and logged as ``monitor/<name>``, never summed into the
reward (trl would count a weight-0 number as a reward of 0 for a completion no other reward
read):

- ``judge_score``: the 1-5 judge's score of a reply (:class:`aloe.roles.score_judge.ScoreJudge`,
  the benchmark's reader and prefill), on reply turns;
- ``judge_pairwise``: P(the policy's reply is preferred) to the start policy's reply to the
  same conversation, both orders averaged (:class:`aloe.roles.pairwise_judge.PairwiseJudge`),
  on reply turns;
- ``persona_recovery``: RLPA's reward, no judge needed: at the episode's end, the F1 of the
  content words (:func:`aloe.personas.reveal.content_words`) of the policy's account of the
  user against the hidden profile and personality. Recall alone would pay a reply that lists
  every trait under the sun; precision alone a reply that names one safe word. Repeating
  the question scores near 0 (its words are not the persona's);
- ``persona_copy``: the share of a completion's word trigrams found in the hidden persona: how
  much the policy parrots the profile. A monitor by default, to catch a reward being gamed.
"""

from __future__ import annotations

import re

from aloe.judging.labels import order_p_first
from aloe.llm.client import LLM
from aloe.params import JudgeParams
from aloe.personas.reveal import content_words
from aloe.roles.pairwise_judge import PairAsk, PairwiseJudge
from aloe.roles.score_judge import ScoreAsk, ScoreJudge

JUDGED = ("judge_score", "judge_pairwise")
ON_REPLIES = ("judge_score", "judge_pairwise", "persona_copy")  # rewards that need reply turns trained


def text_of(completion) -> str:
    """A completion as trl hands it over: text, or a conversational message list."""
    return completion if isinstance(completion, str) else completion[-1]["content"]


def f1(answer: set, truth: set) -> float:
    hits = len(answer & truth)
    return 2 * hits / (len(answer) + len(truth)) if answer and truth else 0.0


def persona_recovery(completions, kind, profile, personality, **_) -> list[float | None]:
    return [
        f1(content_words(text_of(c)), content_words(f"{p} {q}")) if k == "recovery" else None
        for c, k, p, q in zip(completions, kind, profile, personality, strict=True)
    ]


def trigrams(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z']+", text.lower())
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def persona_copy(completions, kind, profile, personality, **_) -> list[float | None]:
    out: list[float | None] = []
    for c, k, p, q in zip(completions, kind, profile, personality, strict=True):
        grams = trigrams(text_of(c))
        out.append(None if k == "stopped" else len(grams & trigrams(f"{p} {q}")) / len(grams) if grams else 0.0)
    return out


class JudgeScore:
    """The 1-5 judge's score of each reply, asked through the LLM layer (cache, retries, any server)."""

    __name__ = "judge_score"

    def __init__(self, llm: LLM, cfg: JudgeParams, seed: int):
        self.llm, self.judge, self.seed = llm, ScoreJudge(cfg, llm.continues_prefill("judge")), seed

    def __call__(self, completions, kind, profile, personality, user_message, row, **_) -> list[float | None]:
        asked = [i for i, k in enumerate(kind) if k == "reply"]
        items = [
            ScoreAsk(profile[i], personality[i], user_message[i], text_of(completions[i]), (self.seed, row[i], i))
            for i in asked
        ]
        out: list[float | None] = [None] * len(completions)
        for i, judged in zip(asked, self.judge.scores(self.llm, items), strict=True):
            out[i] = judged.score
        return out


class JudgePairwise:
    """P(the policy's reply preferred) over the start policy's reply, both orders averaged."""

    __name__ = "judge_pairwise"

    def __init__(self, llm: LLM, cfg: JudgeParams, seed: int):
        self.llm, self.judge, self.seed = llm, PairwiseJudge(cfg, llm.continues_prefill("judge")), seed

    def __call__(self, completions, kind, profile, personality, reference_reply, row, **_) -> list[float | None]:
        asked = [i for i, k in enumerate(kind) if k == "reply"]
        items = []
        for i in asked:
            reply, ref = text_of(completions[i]), reference_reply[i]
            items += [
                PairAsk(profile[i], personality[i], reply, ref, (self.seed, row[i], i, "policy_first")),
                PairAsk(profile[i], personality[i], ref, reply, (self.seed, row[i], i, "policy_second")),
            ]
        readings = [self.judge.order_answer(a).reading for a in self.judge.ask(self.llm, items)]
        out: list[float | None] = [None] * len(completions)
        for n, i in enumerate(asked):
            first, second = (order_p_first(r) for r in readings[2 * n : 2 * n + 2])
            said = [p for p in (first, None if second is None else 1.0 - second) if p is not None]
            out[i] = sum(said) / len(said) if said else None
        return out


class Noted:
    """A reward that also hands each completion's value to ``note(name, rows, values)`` (the
    episode records keep every sampled reply with its rewards)."""

    def __init__(self, reward, note):
        self.reward, self.note, self.__name__ = reward, note, reward.__name__

    def __call__(self, row, sample, **fields) -> list[float | None]:
        values = self.reward(row=row, sample=sample, **fields)
        self.note(self.__name__, row, sample, values)
        return values


class Monitored:
    """A reward that also logs the monitors (weight-0 rewards) of the same completions."""

    def __init__(self, reward, monitors: dict):
        self.reward, self.monitors = reward, monitors
        self.__name__ = reward.__name__

    def __call__(self, log_metric=None, **fields) -> list[float | None]:
        for name, monitor in self.monitors.items():
            values = [v for v in monitor(**fields) if v is not None]
            if values and log_metric is not None:
                log_metric(f"monitor/{name}", sum(values) / len(values))
        return self.reward(log_metric=log_metric, **fields)


def reward_functions(rewards: dict[str, float], llm: LLM | None, cfg: JudgeParams, seed: int, note=None) -> list:
    """The callables for the weighted rewards of ``grpo.rewards``, in its order, the first one
    also logging the monitors (the names are checked by the params); each value also goes to
    ``note`` where one is given (:meth:`aloe.training.episodes.Episodes.note`)."""
    made = {
        "persona_recovery": lambda: persona_recovery,
        "persona_copy": lambda: persona_copy,
        "judge_score": lambda: JudgeScore(llm, cfg, seed),
        "judge_pairwise": lambda: JudgePairwise(llm, cfg, seed),
    }

    def make(name: str):
        return Noted(made[name](), note) if note else made[name]()

    weighted = [make(name) for name, weight in rewards.items() if weight]
    monitors = {name: make(name) for name, weight in rewards.items() if not weight}
    return [Monitored(weighted[0], monitors), *weighted[1:]] if monitors else weighted
