"""Tree building throughput, measured side by side in one run.

- local_efficiency: the tree builder on the local transformers backend, generated
  tokens per second, divided by the tokens per second of the raw batched
  ``generate`` replaying the very batches the builder handed to the model (same
  model, same batch sizes, same requests, same run). What it costs to be a tree
  builder: prompts, parsing, re-asks, the response cache. Goal >= 0.8.
- endpoint: trees x turns against a loopback server in its own process whose
  every answer is held for a log-normal latency (mean 200 ms, p99 about 1.5 s),
  at concurrency 64. wall / ideal, ideal = calls x mean latency / concurrency.
  "lockstep" is every step a barrier across all trees (the builder before
  per-tree pipelining); "pipelined" is each tree's calls sent as soon as it
  makes them. Goal for pipelined <= 1.15.

    python bench/trees_throughput.py --out bench/results/trees_throughput.json
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import NormalDist

import click

from aloe.conversations.builder import TreeBuilder
from aloe.llm.base import ChatRequest, ChatResult
from aloe.llm.cache import ResponseCache
from aloe.llm.client import LLM
from aloe.params import JudgeParams, LLMParams, TreesParams
from aloe.personas.rows import Persona
from common import REPO, free_port, wait_for_port, write_result

ROLES = ("persona_writer", "user", "inducer", "responder", "judge")
SIGMA = 1.15  # log-normal shape with mean 0.2 s and p99 about 1.5 s: exp(mu + 2.326 sigma) = 1.5


def personas(n: int) -> list[Persona]:
    profiles = [json.loads(line) for line in (REPO / "data/seeds/profiles.jsonl").read_text().splitlines()]
    traits = [json.loads(line)["text"] for line in (REPO / "data/seeds/personalities.jsonl").read_text().splitlines()]
    return [
        Persona(
            f"p{i}",
            f"a{i % len(profiles)}",
            profiles[i % len(profiles)],
            f"b{i % len(traits)}",
            traits[i % len(traits)],
        )
        for i in range(n)
    ]


def local_efficiency(model: str, trees: int, turns: int, batch: int) -> dict:
    llm = LLM(
        LLMParams.model_validate(
            {
                "backends": {"local": {"type": "transformers", "model": model, "batch_size": batch}},
                "roles": dict.fromkeys(ROLES, "local"),
            }
        ),
        cache=ResponseCache(Path(tempfile.mkdtemp()) / "responses.sqlite"),
        progress=False,
    )
    backend = llm.backend("user")
    backend.generate([ChatRequest.from_messages([{"role": "user", "content": "Hi"}], max_tokens=4)])  # load
    batches: list[list[ChatRequest]] = []
    generate = backend.generate
    backend.generate = lambda requests: batches.append(requests) or generate(requests)
    t0 = time.perf_counter()
    TreeBuilder(llm, TreesParams(turns=turns), JudgeParams(), seed=0).build(personas(trees))
    tree_s = time.perf_counter() - t0
    tree_tokens = sum(s.completion_tokens for s in llm.stats.values())
    t0 = time.perf_counter()
    raw_tokens = sum(r.completion_tokens for b in batches for r in generate(b))
    raw_s = time.perf_counter() - t0
    return {
        "trees": trees,
        "turns": turns,
        "batch_size": batch,
        "batches": len(batches),
        "tree_tokens_per_s": round(tree_tokens / tree_s, 1),
        "raw_tokens_per_s": round(raw_tokens / raw_s, 1),
        "same_tokens": tree_tokens == raw_tokens,
        "local_efficiency": round((tree_tokens / tree_s) / (raw_tokens / raw_s), 3),
    }


def endpoint_run(url: str, trees: int, turns: int, concurrency: int, latency: float, lockstep: bool) -> dict:
    os.environ["ALOE_BENCH_KEY"] = "not-a-secret"
    llm = LLM(
        LLMParams.model_validate(
            {
                "backends": {
                    "api": {
                        "type": "openai",
                        "model": "bench",
                        "base_url": url,
                        "api_key_env": "ALOE_BENCH_KEY",
                        "concurrency": concurrency,
                    }
                },
                "roles": dict.fromkeys(ROLES, "api"),
            }
        ),
        cache=ResponseCache(Path(tempfile.mkdtemp()) / "responses.sqlite"),
        progress=False,
    )
    t0 = time.perf_counter()
    built = TreeBuilder(llm, TreesParams(turns=turns), JudgeParams(), seed=0, lockstep=lockstep).build(personas(trees))
    wall = time.perf_counter() - t0
    calls = sum(s.calls for s in llm.stats.values())
    ideal = calls * latency / concurrency
    return {
        "calls": calls,
        "turns_built": sum(len(t.turns) for t in built),
        "wall_s": round(wall, 1),
        "ideal_s": round(ideal, 1),
        "wall_over_ideal": round(wall / ideal, 3),
    }


def held_for(request: ChatRequest, mean: float) -> float:
    """A log-normal latency drawn from the request itself, so both runs meet the same delays."""
    u = (int(hashlib.sha256(repr(request).encode()).hexdigest()[:12], 16) + 0.5) / 16**12
    return math.exp(math.log(mean) - SIGMA**2 / 2 + SIGMA * NormalDist().inv_cdf(u))


def answer(requests: list[ChatRequest]) -> list[ChatResult]:
    """Model-free answers every role can read: the judge (asked for log-probabilities)
    prefers the first or second reply by a coin drawn from the request."""
    out = []
    for r in requests:
        if r.top_logprobs:
            p = 0.85 if hashlib.sha256(repr(r.messages).encode()).digest()[0] % 2 else 0.15
            word = "first" if p > 0.5 else "second"
            top = [["first", math.log(p)], ["second", math.log(1 - p)]]
            logprobs = [{"token": word, "top": top}]
            out.append(ChatResult(text=word, prompt_tokens=50, completion_tokens=1, logprobs=logprobs))
        else:
            out.append(ChatResult(text="Profile: likes tea\nPersonality: calm", prompt_tokens=50, completion_tokens=8))
    return out


@click.group(invoke_without_command=True)
@click.option("--out", type=click.Path(dir_okay=False))
@click.option("--model", default="models/base", show_default=True)
@click.option("--local-trees", default=16, show_default=True)
@click.option("--local-turns", default=2, show_default=True)
@click.option("--trees", default=300, show_default=True)
@click.option("--turns", default=10, show_default=True)
@click.option("--concurrency", default=64, show_default=True)
@click.option("--latency", default=0.2, show_default=True, help="mean seconds per answer")
@click.option("--skip-local", is_flag=True)
@click.pass_context
def main(ctx, out, model, local_trees, local_turns, trees, turns, concurrency, latency, skip_local) -> None:
    if ctx.invoked_subcommand:
        return
    if not out:
        raise click.UsageError("--out is required")
    result = {"machine": {"cpus": os.cpu_count()}}
    if not skip_local:
        result["local"] = local_efficiency(model, local_trees, local_turns, 32)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "serve", "--port", str(port), "--latency", str(latency)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, 60, alive=lambda: server.poll() is None)
        url = f"http://127.0.0.1:{port}/v1"
        endpoint = {"trees": trees, "turns": turns, "concurrency": concurrency, "latency_mean_s": latency}
        for mode in ("lockstep", "pipelined"):
            endpoint[mode] = endpoint_run(url, trees, turns, concurrency, latency, mode == "lockstep")
            click.echo(f"{mode}: {endpoint[mode]}", err=True)
    finally:
        server.terminate()
        server.wait()
    result["endpoint"] = endpoint
    result["goals"] = {"local.local_efficiency": ">= 0.8", "endpoint.pipelined.wall_over_ideal": "<= 1.15"}
    write_result(out, result)


@main.command()
@click.option("--port", type=int, required=True)
@click.option("--latency", type=float, required=True)
def serve(port: int, latency: float) -> None:
    """The loopback endpoint (its own process, so the client's CPU is its own)."""
    from aiohttp import web

    from aloe.llm.server import ChatServer

    server = ChatServer(answer, model_name="bench", batch_window_s=0.0, latency=lambda r: held_for(r, latency))
    web.run_app(server.app(), host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    main()
