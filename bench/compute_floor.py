"""How fast README command 1 could possibly be on this machine: the embedded model's best
prefill and decode rates, measured here in float32 and bfloat16 side by side, applied to the
tokens each stage of the committed default run asked for.

A stage's generation floor is its prompt tokens at the best measured prefill rate plus its
completion tokens at the best decode rate (a batch of ``--batch`` rows, every row busy), for
the calls a fresh run makes (``bench/results/fresh_clone.json`` says which its cache served).
Real calls wait for the turn before them and decode in smaller batches, so no scheduler or
batching of the same model in the same dtype goes below it; a prefix cache could, by not
prefilling shared openings (the floor counts every prompt token). The total floor is the fresh
clone's seconds with each stage's LLM call seconds replaced by its floor: set-up, start-up,
model loads and the training itself stay as measured.

    python bench/compute_floor.py --out bench/results/compute_floor.json
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import click
import torch
from transformers import AutoModelForCausalLM

from common import REPO, git_describe, write_result

TARGET_S = 720
DTYPES = ("float32", "bfloat16")


def stage_workloads(fresh: dict) -> dict[str, dict]:
    """Per generating stage, the tokens of the calls a fresh run had to make: the committed
    default run's per-role tokens, less the share its fresh clone found in the response cache
    (a benchmark asks the same simulator and judge calls as the one before wherever the
    replies are the same), with those calls' measured seconds."""
    read = lambda rel: json.loads((REPO / rel).read_text())  # noqa: E731
    committed = {
        "personas_generate": read("logs/personas_generate.json")["workload"],
        "judge_check": read("metrics/judge.json")["calls"],
        "trees": read("metrics/trees.json")["calls"],
        "grpo": read("metrics/train_grpo.json")["calls"],
        **{f"aloe_eval@{v}": read(f"metrics/aloe/{v}.json")["calls"] for v in ("base", "sft", "dpo", "grpo")},
    }
    work = {}
    for stage, roles in committed.items():
        run = fresh["llm_calls"][stage]
        made = {r: 1 - run[r]["cache_hits"] / w["calls"] for r, w in roles.items()}
        work[stage] = {
            "calls": sum(round(w["calls"] * made[r]) for r, w in roles.items()),
            **{k: round(sum(w[k] * made[r] for r, w in roles.items())) for k in ("prompt_tokens", "completion_tokens")},
            "measured_s": round(sum(run[r]["seconds"] for r in roles), 1),
        }
    return work


def best_seconds(fn) -> float:
    """Wall seconds of ``fn``, the best of three (the first run warms the allocator)."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def decode_step_seconds(model, prefilled, steps: int) -> float:
    """Seconds per greedy decode step, every row busy, from a copy of a prefilled KV cache."""
    cache, token = copy.deepcopy(prefilled.past_key_values), prefilled.logits[:, -1:].argmax(-1)
    start = time.perf_counter()
    for _ in range(steps):
        out = model(input_ids=token, past_key_values=cache, use_cache=True)
        cache, token = out.past_key_values, out.logits[:, -1:].argmax(-1)
    return (time.perf_counter() - start) / steps


@torch.inference_mode()
def rates(model_dir: Path, dtype: str, batch: int, prompt_len: int, steps: int) -> dict:
    """Prefill tokens/s (the last position's logits only, as generation needs) and decode
    tokens/s (``batch`` rows, one token each per step, over a ``prompt_len``-token KV cache):
    the model's forward passes alone, without ``generate``'s bookkeeping around them."""
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=getattr(torch, dtype)).eval()
    ids = torch.randint(100, 40_000, (batch, prompt_len))
    prefill = lambda: model(input_ids=ids, logits_to_keep=1, use_cache=True)  # noqa: E731
    prefill_s = best_seconds(prefill)
    prefilled = prefill()
    step_s = min(decode_step_seconds(model, prefilled, steps) for _ in range(3))
    return {
        "prefill_tokens_per_s": round(batch * prompt_len / prefill_s, 1),
        "decode_tokens_per_s": round(batch / step_s, 1),
        "decode_step_s": round(step_s, 4),
    }


@click.command()
@click.option("--batch", default=32, show_default=True, help="rows per batch: the default local batch_size")
@click.option("--prompt-len", default=384, show_default=True, help="tokens per prompt (the judge check's mean: 343)")
@click.option("--steps", default=16, show_default=True, help="decode steps timed")
@click.option("--out", default="bench/results/compute_floor.json", show_default=True)
def main(batch: int, prompt_len: int, steps: int, out: str) -> None:
    fresh = json.loads((REPO / "bench/results/fresh_clone.json").read_text())
    work = stage_workloads(fresh)
    by_dtype = {d: rates(REPO / "models/base", d, batch, prompt_len, steps) for d in DTYPES}
    floors = {
        d: {
            s: round(
                w["prompt_tokens"] / r["prefill_tokens_per_s"] + w["completion_tokens"] / r["decode_tokens_per_s"], 1
            )
            for s, w in work.items()
        }
        for d, r in by_dtype.items()
    }
    rest = fresh["wall_s"] - sum(w["measured_s"] for w in work.values())
    write_result(
        out,
        {
            "commit": git_describe(),
            "threads": torch.get_num_threads(),
            "batch": batch,
            "prompt_len": prompt_len,
            "rates": by_dtype,
            "workload": work,
            "generation_floor_s": floors,
            "measured_from": f"bench/results/fresh_clone.json ({fresh['commit']}, {fresh['wall_s']} s in all)",
            "rest_measured_s": round(rest, 1),
            "total_floor_s": {d: round(rest + sum(f.values()), 1) for d, f in floors.items()},
            "target_s": TARGET_S,
        },
    )


if __name__ == "__main__":
    main()
