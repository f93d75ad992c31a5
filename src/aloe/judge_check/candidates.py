"""Choosing a judge before a paid run: the same planted pairs through several candidate
judges, one report card each (``aloe judge-card``), like AlpacaEval's evaluator table.

The simulator's messages and the responder's replies come from the roles params name,
so every candidate judges exactly the same pairs (after the first candidate they come
from the response cache); only the judge's calls differ, and their tokens give the cost.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from sklearn.metrics import cohen_kappa_score

from aloe.errors import AloeError
from aloe.judge_check.asking import planted_pairs
from aloe.judge_check.planted import PlantedPair
from aloe.judge_check.report import judge_metrics
from aloe.judge_check.selection import planted_personas
from aloe.judging.card_text import figure, text
from aloe.llm.base import Backend
from aloe.llm.client import LLM, make_backend
from aloe.llm.local import TransformersBackend
from aloe.params import OpenAIBackendParams, Params, TransformersBackendParams
from aloe.stats import bootstrap, percentile_ci

COLUMNS = (  # (header, how to read it from a card row)
    ("judge", lambda r: r["name"] + (f" ({r['served']})" if r["served"] else "")),
    ("pairwise", lambda r: r["pairwise"]["status"]),
    ("accuracy", lambda r: figure(r["pairwise"].get("accuracy"))),
    ("consistency", lambda r: figure(r["pairwise"].get("consistency"))),
    ("accuracy (hard)", lambda r: figure(r["pairwise"].get("accuracy_similar"))),
    ("position shift", lambda r: figure(r["pairwise"].get("position_shift"))),
    ("P(longer)", lambda r: figure(r["pairwise"].get("prefers_longer"))),
    ("persona flips", lambda r: figure(r["pairwise"].get("persona_flip_rate"))),
    ("retest", lambda r: figure(r["pairwise"].get("retest_agreement"))),
    ("ties", lambda r: figure(r["pairwise"].get("tie_rate"))),
    ("1-5", lambda r: r["scoring"]["status"]),
    ("score gap", lambda r: figure(r["scoring"].get("gap"))),
    ("AUROC", lambda r: figure(r["scoring"].get("auroc"))),
    ("top score share", lambda r: str(r["scoring"].get("most_common_share", "-"))),
    ("retest kappa", lambda r: figure(r["scoring"].get("retest_kappa"))),
    ("1-5 P(longer)", lambda r: figure(r["scoring"].get("prefers_longer"))),
    ("1-5 persona gap", lambda r: figure(r["scoring"].get("persona_flip_gap"))),
    ("judge tokens", lambda r: tokens_text(r["tokens"])),
    ("cost $", lambda r: "-" if r["cost"] is None else f"{r['cost']:.4f}"),
    ("s / 1k", lambda r: text(r["per_1000"]["seconds"])),
    ("$ / 1k", lambda r: text(r["per_1000"]["cost"])),
)


def tokens_text(tokens: dict) -> str:
    if not tokens["measured"]:
        return "not measured"
    return f"{tokens['prompt']:,} + {tokens['completion']:,}"


def candidate_backend(spec: str, params: Params, base_url: str | None, api_key_env: str) -> Backend:
    """A params backend name, ``openai:MODEL`` (at ``base_url``), ``openai:MODEL@URL``, or a
    local model dir."""
    if spec in params.llm.backends:
        return make_backend(spec, params.llm.backends[spec])
    if spec.startswith("openai:"):
        model, _, url = spec.split(":", 1)[1].partition("@")
        cfg = OpenAIBackendParams(type="openai", model=model, base_url=url or base_url, api_key_env=api_key_env)
        return make_backend(spec, cfg)
    if Path(spec).is_dir():
        return make_backend(spec, TransformersBackendParams(type="transformers", model=spec))
    raise AloeError(
        f"--judge {spec!r}: not a backend of llm.backends ({', '.join(params.llm.backends)}), "
        "not openai:MODEL, and not a model directory"
    )


def compare_judges(
    params: Params, personas: str, judges: dict[str, Backend], prices: dict[str, tuple[float, float]]
) -> tuple[list[dict], list[dict]]:
    """(one row per judge: its name, what its server says it serves, both report cards, judge
    tokens, cost, and seconds and cost per 1,000 judgments; the agreement of every two judges)."""
    plan = planted_personas(personas, params)
    rows, judged = [], {}
    for name, backend in judges.items():
        llm = LLM(params.llm, roles=("user", "responder"))
        llm.add_role("judge", backend)
        judged[name] = planted_pairs(llm, *plan, params)
        metrics = judge_metrics(judged[name], params, llm.model_id("judge"))
        work, run = llm.report().get("judge", {}), llm.run_report().get("judge", {})
        rows.append(
            {
                "name": name,
                "served": getattr(backend, "served_root", None),
                **metrics,
                **costs(work, run, prices.get(name), local=isinstance(backend, TransformersBackend)),
            }
        )
        llm.close()
    return rows, agreements(judged, params)


def costs(work: dict, run: dict, price: tuple[float, float] | None, local: bool) -> dict:
    """Judge tokens (``measured`` false where the server reported none), cost, and seconds and
    cost per 1,000 judgments (seconds only from calls not answered by the response cache)."""
    calls, hits = work.get("calls", 0), run.get("cache_hits", 0)
    tokens = {"prompt": work.get("prompt_tokens", 0), "completion": work.get("completion_tokens", 0)}
    tokens["measured"] = tokens["prompt"] + tokens["completion"] > 0
    priced = price is not None and tokens["measured"]  # no token counts: no cost to compute
    cost = (tokens["prompt"] * price[0] + tokens["completion"] * price[1]) / 1e6 if priced else None
    per_1000_cost = "local" if local and price is None else None if cost is None or not calls else cost * 1000 / calls
    asked = calls - hits
    return {
        "tokens": tokens,
        "cost": cost,
        "per_1000": {
            "judgments": calls,
            "seconds": round(run.get("seconds", 0.0) * 1000 / asked, 1) if asked else None,
            "cost": per_1000_cost if isinstance(per_1000_cost, str | None) else round(per_1000_cost, 4),
        },
    }


def agreements(judged: dict[str, list[PlantedPair]], params: Params) -> list[dict]:
    """Every two candidates on the same planted pairs: Cohen's kappa of their verdicts (every
    probe, each order; pairs of orders both read) and the weighted kappa of their rounded
    1-5 scores, each with a 95% interval that resamples profiles."""
    out = []
    for a, b in itertools.combinations(judged, 2):
        pairs = list(zip(judged[a], judged[b], strict=True))
        clusters = [x.profile_id for x, _ in pairs]
        verdicts = [
            [
                (oa.verdict, ob.verdict)
                for name in x.verdicts.keys() & y.verdicts.keys()
                for oa, ob in zip(x.readings(name), y.readings(name), strict=True)
            ]
            for x, y in pairs
        ]
        scores = [[(x.scores[k].score, y.scores[k].score) for k in x.scores.keys() & y.scores.keys()] for x, y in pairs]
        out.append(
            {
                "judges": [a, b],
                "verdict_kappa": kappa(verdicts, clusters, None, params),
                "score_kappa": kappa(scores, clusters, "quadratic", params),
            }
        )
    return out


def kappa(per_pair: list[list[tuple]], clusters: list, weights: str | None, params: Params) -> dict:
    """Cohen's kappa over the (a, b) answers both judges gave, pooled over the rows resampled."""

    def value(rows) -> float | None:
        both = [(x, y) for r in rows for x, y in per_pair[r] if x is not None and y is not None]
        if weights:
            both = [(round(x), round(y)) for x, y in both]
        seen = {v for pair in both for v in pair}
        if len(both) < 2 or len(seen) < 2:
            return None
        labels = sorted(seen | set(range(1, 6))) if weights else sorted(seen)  # scores weigh by value, 1-5
        return float(cohen_kappa_score(*zip(*both, strict=True), labels=labels, weights=weights)) + 0.0

    n_boot, seed = params.judge_check.bootstrap, params.seed
    point = value(range(len(per_pair)))
    asked = sum(1 for r in per_pair for x, y in r if x is not None and y is not None)
    boot = [k for k in bootstrap(value, clusters, n_boot, seed) if k is not None]
    return {"value": None if point is None else round(point, 4), "ci95": percentile_ci(boot), "n": asked}


def markdown(rows: list[dict]) -> str:
    """The table as markdown (the README's "Choosing a judge")."""
    lines = ["| " + " | ".join(h for h, _ in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(read(r) for _, read in COLUMNS) + " |" for r in rows]
    return "\n".join(lines) + "\n"
