"""Choosing a judge before a paid run: the same planted pairs through several candidate
judges, one report card each (``aloe judge-card``), like AlpacaEval's evaluator table.

The simulator's messages and the responder's replies come from the roles params name,
so every candidate judges exactly the same pairs (after the first candidate they come
from the response cache); only the judge's calls differ, and their tokens give the cost.
"""

from __future__ import annotations

from pathlib import Path

from aloe.errors import AloeError
from aloe.judge_check.asking import planted_pairs
from aloe.judge_check.report import judge_metrics
from aloe.judge_check.selection import planted_personas
from aloe.llm.base import Backend
from aloe.llm.client import LLM, make_backend
from aloe.params import OpenAIBackendParams, Params, TransformersBackendParams

COLUMNS = (  # (header, how to read it from a card row)
    ("judge", lambda r: r["name"]),
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
    ("judge tokens", lambda r: f"{r['tokens']['prompt']:,} + {r['tokens']['completion']:,}"),
    ("cost $", lambda r: "-" if r["cost"] is None else f"{r['cost']:.4f}"),
)


def figure(f: dict | None) -> str:
    if not f or f.get("value") is None:
        return "-"
    ci = f.get("ci95")
    return f"{f['value']:.2f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")


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
) -> list[dict]:
    """One row per judge: its name, identity, both report cards, judge tokens and cost."""
    plan = planted_personas(personas, params)
    out = []
    for name, backend in judges.items():
        llm = LLM(params.llm, roles=("user", "responder"))
        llm.add_role("judge", backend)
        metrics = judge_metrics(planted_pairs(llm, *plan, params), params, llm.model_id("judge"))
        calls = llm.report().get("judge", {})
        tokens = {"prompt": calls.get("prompt_tokens", 0), "completion": calls.get("completion_tokens", 0)}
        price = prices.get(name)
        cost = None if price is None else (tokens["prompt"] * price[0] + tokens["completion"] * price[1]) / 1e6
        out.append({"name": name, **metrics, "tokens": tokens, "cost": cost})
        llm.close()
    return out


def markdown(rows: list[dict]) -> str:
    """The table as markdown (the README's "Choosing a judge")."""
    lines = ["| " + " | ".join(h for h, _ in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(read(r) for _, read in COLUMNS) + " |" for r in rows]
    return "\n".join(lines) + "\n"
