"""How fast README command 1 could be on this machine: the embedded model's best prefill and
decode rates, measured here in float32 and bfloat16 side by side, applied to the tokens each
LLM stage of the fresh clone (``bench/results/fresh_clone.json``) asked for.

A stage's generation floor is its prompt tokens at the best prefill rate measured plus its
completion tokens after the first (which prefill yields) at the best decode rate measured:
each the best over a small sweep (``--prompt-lens`` for prefill, ``--batches`` rows, every
one busy, for decode). Real calls wait for the turn before them and decode in smaller
batches, so they take longer; the floor holds for the points swept, not for every batch a
scheduler might form. The total floor is the fresh clone's seconds with each stage's LLM
call seconds replaced by its floor: set-up, start-up, training-model loads and training stay
as measured.

    python bench/compute_floor.py --out bench/results/compute_floor.json
"""

from __future__ import annotations

import copy
import os
import time

import click
import torch
from transformers import AutoModelForCausalLM

from aloe.files import read_json
from common import REPO, git_describe, write_result

TARGET_S = 720  # issue #40: README command 1 within 12 minutes, set-up included
DTYPES = ("float32", "bfloat16")
TOKENS = ("calls", "prompt_tokens", "completion_tokens")


def committed_calls() -> dict[str, dict]:
    """Per LLM stage and role, the calls and tokens the committed default run records."""
    read = lambda rel: read_json(REPO / rel, "dvc repro")  # noqa: E731
    return {
        "personas_generate": read("logs/personas_generate.json")["workload"],
        "judge_check": read("metrics/judge.json")["calls"],
        "trees": read("metrics/trees.json")["calls"],
        "grpo": read("metrics/train_grpo.json")["calls"],
        **{f"aloe_eval@{v}": read(f"metrics/aloe/{v}.json")["calls"] for v in ("base", "sft", "dpo", "grpo")},
    }


def stage_workloads(fresh: dict) -> dict[str, dict]:
    """Per LLM stage, the calls the fresh clone had to make and their measured seconds. A
    role's tokens are taken pro rata to its calls the clone did not find in the response
    cache (a benchmark repeats the simulator's and judge's calls of the one before wherever
    the replies are the same): estimates where the cache served some of a role's calls."""
    committed = committed_calls()
    if set(committed) != set(fresh["llm_calls"]):
        raise click.ClickException(f"stages with LLM calls: {sorted(fresh['llm_calls'])}, here {sorted(committed)}")
    work = {}
    for stage, roles in committed.items():
        run = fresh["llm_calls"][stage]
        uncached_share = {r: 1 - run[r]["cache_hits"] / w["calls"] for r, w in roles.items()}
        work[stage] = {
            **{k: round(sum(w[k] * uncached_share[r] for r, w in roles.items())) for k in TOKENS},
            "estimated": any(0 < run[r]["cache_hits"] < w["calls"] for r, w in roles.items()),
            "measured_s": round(sum(run[r]["seconds"] for r in roles), 1),
        }
    return work


def best_seconds(fn, repeats: int = 3) -> float:
    """Wall seconds of ``fn``, the best of ``repeats`` (the first run warms the allocator)."""
    times = []
    for _ in range(repeats):
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
def rates(dtype: str, prompt_lens: list[int], batches: list[int], steps: int) -> dict:
    """Prefill tokens/s (32 prompts, the last position's logits only, as generation needs) per
    prompt length, and decode tokens/s per batch over a KV cache of the longest prompt: the
    model's forward passes alone, without ``generate``'s bookkeeping around them."""
    model = AutoModelForCausalLM.from_pretrained(REPO / "models/base", dtype=getattr(torch, dtype)).eval()

    def prefill(batch: int, length: int):
        ids = torch.randint(100, 40_000, (batch, length))
        return lambda: model(input_ids=ids, logits_to_keep=1, use_cache=True)

    prefill_rate = {n: round(32 * n / best_seconds(prefill(32, n)), 1) for n in prompt_lens}
    decode_rate = {}
    for b in batches:
        prefilled = prefill(b, max(prompt_lens))()
        decode_rate[b] = round(b / min(decode_step_seconds(model, prefilled, steps) for _ in range(3)), 1)
    return {"prefill_tokens_per_s": prefill_rate, "decode_tokens_per_s": decode_rate}


def floor_seconds(work: dict, rate: dict) -> float:
    prefill, decode = max(rate["prefill_tokens_per_s"].values()), max(rate["decode_tokens_per_s"].values())
    return round(work["prompt_tokens"] / prefill + (work["completion_tokens"] - work["calls"]) / decode, 1)


@click.command()
@click.option("--prompt-lens", default="128,384", show_default=True, help="prefill sweep (judge prompts: 343)")
@click.option("--batches", default="32,64,128", show_default=True, help="decode sweep (local batch_size: 32)")
@click.option("--steps", default=16, show_default=True, help="decode steps timed")
@click.option("--out", default="bench/results/compute_floor.json", show_default=True)
def main(prompt_lens: str, batches: str, steps: int, out: str) -> None:
    fresh = read_json(REPO / "bench/results/fresh_clone.json", "bench/fresh_clone.py")
    work = stage_workloads(fresh)
    load_before = os.getloadavg()[0]
    sweep = ([int(n) for n in prompt_lens.split(",")], [int(b) for b in batches.split(",")])
    by_dtype = {d: rates(d, *sweep, steps) for d in DTYPES}
    floors = {d: {s: floor_seconds(w, r) for s, w in work.items()} for d, r in by_dtype.items()}
    rest = fresh["wall_s"] - sum(w["measured_s"] for w in work.values())
    write_result(
        out,
        {
            "commit": git_describe(),
            "threads": torch.get_num_threads(),
            "loadavg_1m_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "rates": by_dtype,
            "workload": work,
            "generation_floor_s": floors,
            "fresh_clone": {"commit": fresh["commit"], "wall_s": fresh["wall_s"]},
            "rest_measured_s": round(rest, 1),
            "total_floor_s": {d: round(rest + sum(f.values()), 1) for d, f in floors.items()},
            "target_s": TARGET_S,
        },
    )


if __name__ == "__main__":
    main()
