"""The local backend in bfloat16 against float32 on this CPU, side by side in one run: what it
saves and what it changes, measured on the pipeline's own work.

- judge_check: the judge check's calls (openings, three replies, both orders of every probe,
  every score) for ``--pairs`` planted pairs, each dtype with an empty response cache: seconds,
  tokens, and how far the bf16 run's texts, verdicts and scores stray from the fp32 run's.
- trained_margin: whether a trained model's difference from its start survives bf16 weights.
  Per DPO pair, the reward margin DPO trains, (log p(chosen) - log p(rejected)) under the
  trained model minus the same under its start, in each dtype. A LoRA delta smaller than
  bf16's rounding of the weights would vanish here before any benchmark could see it.

Run after ``dvc repro`` (it reads the committed personas, planted pairs and models):

    python bench/local_dtype.py --out bench/results/local_dtype.json
"""

from __future__ import annotations

import os
import tempfile
import time

import click
import numpy as np
import torch
from datasets import load_from_disk
from transformers import AutoModelForCausalLM, AutoTokenizer

from aloe.judge_check.asking import planted_pairs
from aloe.judge_check.selection import planted_personas
from aloe.llm.cache import ResponseCache
from aloe.llm.client import LLM
from aloe.params import load_params
from common import git_describe, write_result

DTYPES = ("float32", "bfloat16")


def judge_check_run(params, plan, dtype: str) -> tuple[list, dict]:
    """The judge check's calls with the local backend in ``dtype``, from an empty cache."""
    backends = {**params.llm.backends}
    backends["local"] = backends["local"].model_copy(update={"dtype": dtype})
    llm_params = params.llm.model_copy(update={"backends": backends})
    with tempfile.TemporaryDirectory() as cache_dir:
        llm = LLM(llm_params, roles=("user", "responder", "judge"), cache=ResponseCache(f"{cache_dir}/r.sqlite"))
        started = time.perf_counter()
        records = planted_pairs(llm, *plan, params)
        seconds = time.perf_counter() - started
        calls = llm.report()
        llm.close()
    tokens = {k: sum(c[k] for c in calls.values()) for k in ("prompt_tokens", "completion_tokens")}
    return records, {"seconds": round(seconds, 1), **tokens, "calls": sum(c["calls"] for c in calls.values())}


def agreement(a: list, b: list) -> dict:
    """How the second run's records differ from the first's, field by field."""
    same = lambda xs: round(float(np.mean(xs)), 3) if xs else None  # noqa: E731
    texts = [ra.message == rb.message for ra, rb in zip(a, b, strict=True)]
    replies = [ra.replies.get(t) == rb.replies.get(t) for ra, rb in zip(a, b, strict=True) for t in ra.replies]
    verdicts, gaps = [], []
    for ra, rb in zip(a, b, strict=True):
        for name in ra.verdicts.keys() & rb.verdicts.keys():
            verdicts.append(ra.readings(name) == rb.readings(name))
        for key in ra.scores.keys() & rb.scores.keys():
            sa, sb = ra.scores[key].score, rb.scores[key].score
            if sa is not None and sb is not None:
                gaps.append(abs(sa - sb))
    return {
        "same_opening": same(texts),
        "same_reply": same(replies),
        "same_verdicts": same(verdicts),
        "verdicts_compared": len(verdicts),
        "score_abs_diff_mean": round(float(np.mean(gaps)), 4) if gaps else None,
        "scores_compared": len(gaps),
    }


def completion_logps(model, tok, rows: list[dict], side: str) -> list[float]:
    """Summed log-probability of each row's ``side`` reply after its prompt."""
    out = []
    for row in rows:
        prompt = tok.apply_chat_template(row["prompt"], add_generation_prompt=True, return_dict=True)["input_ids"]
        full = tok.apply_chat_template(row["prompt"] + row[side], return_dict=True)["input_ids"]
        ids = torch.tensor([full])
        with torch.inference_mode():
            logits = model(ids).logits[0, :-1].float()
        logp = torch.log_softmax(logits, -1).gather(1, ids[0, 1:, None])[:, 0]
        out.append(float(logp[len(prompt) - 1 :].sum()))
    return out


def margins(model_dir: str, rows: list[dict], dtype: str) -> np.ndarray:
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=getattr(torch, dtype)).eval()
    tok = AutoTokenizer.from_pretrained(model_dir)
    return np.array(completion_logps(model, tok, rows, "chosen")) - np.array(
        completion_logps(model, tok, rows, "rejected")
    )


def trained_margin(trained: str, start: str, pairs: str) -> dict:
    data = load_from_disk(pairs)
    rows = [r for split in data.values() for r in split]
    deltas = {dt: margins(trained, rows, dt) - margins(start, rows, dt) for dt in DTYPES}
    fp32, bf16 = deltas["float32"], deltas["bfloat16"]
    return {
        "trained": trained,
        "start": start,
        "pairs": len(rows),
        "margin_gain_mean": {dt: round(float(d.mean()), 4) for dt, d in deltas.items()},
        "margin_gain_abs_mean": {dt: round(float(np.abs(d).mean()), 4) for dt, d in deltas.items()},
        "same_sign": round(float(np.mean(np.sign(fp32) == np.sign(bf16))), 3),
        "correlation": round(float(np.corrcoef(fp32, bf16)[0, 1]), 3),
    }


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--pairs", "n_pairs", default=8, show_default=True, help="planted pairs of the judge check")
@click.option("--trained", default="models/dpo", show_default=True)
@click.option("--start", default="models/sft", show_default=True, help="the trained model's start policy")
@click.option("--dpo-pairs", default="data/pairs/dpo", show_default=True)
@click.option("--out", required=True)
def main(params_path: str, n_pairs: int, trained: str, start: str, dpo_pairs: str, out: str) -> None:
    params = load_params(params_path)
    params = params.model_copy(update={"judge_check": params.judge_check.model_copy(update={"pairs": n_pairs})})
    plan = planted_personas("data/personas/train.parquet", params)
    runs = {dt: judge_check_run(params, plan, dt) for dt in DTYPES}
    check = {dt: stats for dt, (_, stats) in runs.items()}
    check["bf16_speedup"] = round(check["float32"]["seconds"] / check["bfloat16"]["seconds"], 2)
    check["bf16_against_fp32"] = agreement(runs["float32"][0], runs["bfloat16"][0])
    result = {
        "commit": git_describe(),
        "machine": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "bf16_kernels": bf16_cpu()},
        "judge_check": {"pairs": n_pairs, **check},
        "trained_margin": trained_margin(trained, start, dpo_pairs),
    }
    write_result(out, result)


def bf16_cpu() -> bool:
    """Whether this CPU has bf16 instructions (avx512_bf16 or AMX) for oneDNN."""
    return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())


if __name__ == "__main__":
    main()
