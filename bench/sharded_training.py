"""The training stages under each accelerate launcher config, on the GPUs of this machine.

For each engine (src/aloe/configs/accelerate/<engine>.yaml, with --num-processes overriding
the file's 8) it runs stages/sft.py on the base model, then stages/dpo.py on that SFT
model, exactly as dvc.yaml does, and checks what a sharded save can get wrong: the merged
model each stage writes must compute what the starting model plus the saved adapter
computes, and the adapter must have moved off its zero init (a ZeRO-3 or FSDP save that
gathered nothing would write zeros). Writes per engine: the stages' training metrics,
the first logged loss (the engines see the same data in the same order), the largest
logit difference, wall times.

    python bench/sharded_training.py --data data/pairs --model models/base --out bench/results/sharded_training.json

--random-init builds the model from --model's config and tokenizer with fresh random
weights: the same architecture and shapes, for a machine that cannot hold the checkpoint.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import click
import torch
import yaml
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

from common import REPO, git_describe, write_result

STAGE_FLAGS = ("--data", "--model", "--out", "--metrics", "--curve", "--run-log")


def random_model(source: str, dest: Path) -> Path:
    """``source``'s architecture and tokenizer with seeded random weights, saved to ``dest``."""
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(source), dtype=torch.float32)
    model.save_pretrained(dest)
    AutoTokenizer.from_pretrained(source).save_pretrained(dest)
    return dest


def run_stage(stage: str, engine: str, processes: int, work: Path, data: Path, model: Path, steps: int) -> dict:
    out = work / engine / stage
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params[stage].update({"max_steps": steps, "per_device_train_batch_size": 2, "save_steps": 1000})
    params["wandb"]["mode"] = "disabled"
    (work / engine).mkdir(parents=True, exist_ok=True)
    (work / engine / f"{stage}.params.yaml").write_text(yaml.safe_dump(params))
    config = REPO / f"src/aloe/configs/accelerate/{engine}.yaml"
    processes = 1 if engine == "single" else processes  # accelerate makes several GPUs DDP otherwise
    launcher = [Path(sys.executable).parent / "accelerate", "launch", "--config_file", config]
    cmd = [*launcher, "--num_processes", str(processes), REPO / f"stages/{stage}.py"]
    cmd += ["--params", work / engine / f"{stage}.params.yaml"]
    paths = (data / stage, model, out / "model", out / "metrics.json", out / "curve.json", out / "log.json")
    cmd += [str(a) for flag, path in zip(STAGE_FLAGS, paths, strict=True) for a in (flag, path)]
    if stage == "dpo":  # read only under dpo.label_noise: measured (off here)
        cmd += ["--label-noise", out / "label_noise.json"]
    env = {**os.environ, "ALOE_CACHE_DIR": str(work / engine / "cache")}
    t0 = time.perf_counter()
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env)
    wall = round(time.perf_counter() - t0, 1)
    (out / "log.txt").parent.mkdir(parents=True, exist_ok=True)
    (out / "log.txt").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        return {"ok": False, "wall_s": wall, "error": proc.stderr[-3000:]}
    curve = json.loads((out / "curve.json").read_text())
    return {
        "ok": True,
        "wall_s": wall,
        "first_loss": next(r["loss"] for r in curve if "loss" in r),
        "metrics": json.loads((out / "metrics.json").read_text()),
        "log": json.loads((out / "log.json").read_text()),
        **merge_check(out / "model", model),
    }


@torch.no_grad()
def merge_check(saved: Path, start: Path) -> dict:
    """Logits of the saved merged model against the starting model plus the saved adapter."""
    from peft import PeftModel

    ids = AutoTokenizer.from_pretrained(saved)("Long shift at the hospital today.", return_tensors="pt")
    merged = AutoModelForCausalLM.from_pretrained(saved, dtype=torch.float32)(**ids).logits
    base = AutoModelForCausalLM.from_pretrained(start, dtype=torch.float32)
    plain = base(**ids).logits
    adapted = PeftModel.from_pretrained(base, saved / "adapter")(**ids).logits
    diff, moved = (merged - adapted).abs().max().item(), (merged - plain).abs().max().item()
    return {"merged_vs_base_plus_adapter": diff, "moved_from_start": moved, "save_ok": diff < 1e-3 and moved > 1e-4}


def versions(*names: str) -> dict:
    """Installed versions (None where absent): the engines change often, results name them."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


@click.command()
@click.option("--data", type=click.Path(exists=True, file_okay=False), required=True, help="holds sft/ and dpo/")
@click.option("--model", required=True, help="the base model dir")
@click.option("--out", type=click.Path(dir_okay=False), required=True)
@click.option("--engines", default="single,fsdp,deepspeed_zero3", show_default=True)
@click.option("--num-processes", default=max(1, torch.cuda.device_count()), show_default="the GPUs")
@click.option("--steps", default=8, show_default=True)
@click.option("--random-init", is_flag=True, help="fresh random weights in --model's architecture")
@click.option("--workdir", type=click.Path(file_okay=False), default="/tmp/aloe-sharded", show_default=True)
def main(data, model, out, engines, num_processes, steps, random_init, workdir) -> None:
    work = Path(workdir)
    base = random_model(model, work / "base") if random_init else Path(model)
    result = {
        "commit": git_describe(),
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "num_processes": num_processes,
        "model": f"random init of {model}'s architecture" if random_init else model,
        "steps": steps,
        "versions": versions("torch", "transformers", "trl", "peft", "accelerate", "deepspeed"),
    }
    for engine in engines.split(","):
        sft = run_stage("sft", engine, num_processes, work, Path(data), base, steps)
        dpo = (
            run_stage("dpo", engine, num_processes, work, Path(data), work / engine / "sft/model", steps)
            if sft["ok"]
            else {"ok": False, "error": "no SFT model"}
        )
        result[engine] = {"sft": sft, "dpo": dpo}
        click.echo(f"{engine}: sft {sft['ok']} dpo {result[engine]['dpo']['ok']}", err=True)
    write_result(out, result)


if __name__ == "__main__":
    main()
