"""LLM layer throughput, measured side by side in one run.

- batched_over_sequential: local transformers backend, tokens/s with batching
  vs the same prompts one request at a time (goal >= 5).
- openai_efficiency: requests/s that the OpenAI backend achieves against a
  loopback server (its own process) answering after a fixed 200 ms, divided by
  the ideal concurrency / latency, at concurrency 32 (goal >= 0.9).

    python bench/llm_throughput.py --quick --out bench/results/llm.json
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import click

from aloe.llm.base import ChatRequest
from aloe.llm.local import TransformersBackend
from aloe.llm.remote import OpenAIBackend
from aloe.params import OpenAIBackendParams, TransformersBackendParams
from common import free_port, wait_for_port, write_result

TOPICS = ["cooking", "hiking", "taxes", "jazz", "gardening", "chess", "running", "painting", "travel", "coffee"]


def prompts(n: int, tokens: int) -> list[ChatRequest]:
    return [
        ChatRequest.from_messages(
            [{"role": "user", "content": f"Tell me something about {TOPICS[i % 10]} (#{i})."}],
            max_tokens=tokens,
            temperature=0.7,
            seed=i,
        )
        for i in range(n)
    ]


def tokens_per_s(backend: TransformersBackend, requests: list[ChatRequest], batched: bool) -> float:
    t0 = time.perf_counter()
    results = backend.generate(requests) if batched else [backend.generate([r])[0] for r in requests]
    return sum(r.completion_tokens for r in results) / (time.perf_counter() - t0)


def openai_efficiency(n: int, concurrency: int, latency: float) -> dict:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "aloe.cli", "serve", "--echo", "--latency", str(latency), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        os.environ["ALOE_BENCH_KEY"] = "not-a-secret"
        cfg = OpenAIBackendParams(
            type="openai",
            model="echo",
            base_url=f"http://127.0.0.1:{port}/v1",
            api_key_env="ALOE_BENCH_KEY",
            concurrency=concurrency,
            max_retries=0,
        )
        backend = OpenAIBackend(cfg, "bench")
        wait_for_port(port, 30, alive=lambda: server.poll() is None)
        backend.generate(prompts(concurrency, 8))  # warm the connection pool
        t0 = time.perf_counter()
        results = backend.generate(prompts(n, 8))
        elapsed = time.perf_counter() - t0
        assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
    finally:
        server.terminate()
        server.wait()
    achieved = n / elapsed
    return {
        "requests": n,
        "concurrency": concurrency,
        "latency_s": latency,
        "requests_per_s": round(achieved, 2),
        "ideal_requests_per_s": concurrency / latency,
        "openai_efficiency": round(achieved / (concurrency / latency), 3),
    }


@click.command()
@click.option("--quick", is_flag=True, help="fewer prompts and tokens (about 2 minutes on 2 cores)")
@click.option("--model", default="models/base", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), required=True)
def main(quick: bool, model: str, out: str) -> None:
    n, tokens, batch = (32, 48, 32) if quick else (64, 80, 32)
    backend = TransformersBackend(TransformersBackendParams(type="transformers", model=model, batch_size=batch))
    requests = prompts(n, tokens)
    backend.generate(requests[:2])  # load weights, warm up
    seq = tokens_per_s(backend, requests[: n // 4], batched=False)
    bat = tokens_per_s(backend, requests, batched=True)
    remote = openai_efficiency(640 if quick else 1600, 32, 0.2)
    result = {
        "batched_over_sequential": round(bat / seq, 2),
        "local_tokens_per_s": {
            "sequential": round(seq, 1),
            "batched": round(bat, 1),
            "batch_size": batch,
            "max_new_tokens": tokens,
            "prompts": n,
        },
        "openai_efficiency": remote["openai_efficiency"],
        "openai": remote,
        "goals": {"batched_over_sequential": ">= 5", "openai_efficiency": ">= 0.9"},
        "machine": {"cpus": os.cpu_count(), "torch_threads": __import__("torch").get_num_threads()},
    }
    write_result(out, result)


if __name__ == "__main__":
    main()
