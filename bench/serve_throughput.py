"""Serving a checkpoint over the OpenAI API: `aloe serve` (our server, micro-batching the
local backend) against `transformers serve --continuous-batching`, same model, same
prompts, same client, same concurrency, one after the other in one run.

    python bench/serve_throughput.py --out bench/results/serve.json [--quick]
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import click
import openai

from common import free_port, wait_for_port, write_result

TOPICS = ["cooking", "hiking", "taxes", "jazz", "gardening", "chess", "running", "painting", "travel", "coffee"]


async def burst(base_url: str, model: str, n: int, max_tokens: int) -> dict:
    """``n`` chat requests at once; completion tokens per second of wall time."""
    client = openai.AsyncOpenAI(base_url=base_url, api_key="bench", timeout=600, max_retries=0)
    async with client:

        async def one(i: int):
            return await client.chat.completions.create(
                model=model,
                max_tokens=max_tokens,
                temperature=0.7,
                seed=i,
                messages=[{"role": "user", "content": f"Tell me something about {TOPICS[i % 10]} (#{i})."}],
            )

        t0 = time.perf_counter()
        replies = await asyncio.gather(*(one(i) for i in range(n)))
        wall = time.perf_counter() - t0
    tokens = sum(r.usage.completion_tokens for r in replies)
    return {
        "requests": n,
        "completion_tokens": tokens,
        "wall_s": round(wall, 2),
        "tokens_per_s": round(tokens / wall, 1),
    }


def measure(cmd: list[str], port: int, model: str, concurrencies: list[int], max_tokens: int) -> dict:
    server = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "HF_HUB_OFFLINE": "1"}
    )
    try:
        wait_for_port(port, alive=lambda: server.poll() is None)
        base_url = f"http://127.0.0.1:{port}/v1"
        asyncio.run(burst(base_url, model, 4, 8))  # load weights, warm up
        return {str(c): asyncio.run(burst(base_url, model, c, max_tokens)) for c in concurrencies}
    finally:
        server.terminate()
        server.wait(timeout=60)


@click.command()
@click.option("--model", default="models/base", show_default=True)
@click.option("--quick", is_flag=True, help="concurrency 32 only")
@click.option("--max-tokens", default=48, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), required=True)
def main(model: str, quick: bool, max_tokens: int, out: str) -> None:
    concurrencies = [32] if quick else [32, 64]
    bin_dir = Path(sys.executable).parent
    servers = {
        "aloe_serve": lambda port: [
            sys.executable,
            "-m",
            "aloe.cli",
            "serve",
            "--model",
            model,
            "--port",
            str(port),
            "--batch-size",
            "32",
        ],
        "transformers_serve": lambda port: [
            str(bin_dir / "transformers"),
            "serve",
            model,
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            "--continuous-batching",
        ],
    }
    results = {}
    for name, cmd in servers.items():
        port = free_port()
        results[name] = measure(cmd(port), port, model, concurrencies, max_tokens)
    ratios = {
        c: round(results["transformers_serve"][c]["tokens_per_s"] / results["aloe_serve"][c]["tokens_per_s"], 2)
        for c in results["aloe_serve"]
    }
    write_result(
        out,
        {
            "tokens_per_s": results,
            "transformers_over_aloe": ratios,
            "max_tokens": max_tokens,
            "model": model,
            "cpus": os.cpu_count(),
        },
    )


if __name__ == "__main__":
    main()
