"""What a training stage reports: losses (metrics/train_*.json), the loss curve for `dvc plots`,
and, apart from the metrics, its speed and peak memory (logs/<stage>.json): those say what
this machine did, so `dvc metrics diff` between experiments shows the experiment only."""

from __future__ import annotations

import logging
import resource
import sys

import torch
from transformers import TrainerCallback

from aloe.files import write_json
from aloe.stage import write_run_log

log = logging.getLogger(__name__)


class StepRange(TrainerCallback):
    """Say which steps this run trains: all of them, or the rest after a resumed checkpoint."""

    def on_train_begin(self, args, state, control, **kw):
        if state.is_world_process_zero:
            log.info("training steps %d-%d of %d", state.global_step + 1, state.max_steps, state.max_steps)


class PeakMemory(TrainerCallback):
    """Peak memory during training: CUDA allocator peak on GPU, max RSS otherwise."""

    def on_train_begin(self, args, state, control, **kw):
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()

    @staticmethod
    def peak_mb() -> float:
        if torch.cuda.is_available():
            return torch.cuda.max_memory_allocated() / 2**20
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return rss / 2**20 if sys.platform == "darwin" else rss / 1024


def write_training_metrics(
    trainer,
    result,
    path: str,
    curve_path: str,
    run_log: str,
    extra: dict | None = None,
    curve_keys: tuple[str, ...] = ("loss",),
    llm=None,
) -> dict:
    """The metrics file, the run log (with the LLM calls of ``llm``, if the stage asked one)
    and the curve: ``curve_keys`` of every logged step, and the eval loss."""
    if not trainer.accelerator.is_main_process:
        return {}
    logs = trainer.state.log_history
    evals = [e for e in logs if "eval_loss" in e]
    metrics = {
        "train_loss": round(float(result.training_loss), 5),
        "eval_loss": round(evals[-1]["eval_loss"], 5) if evals else None,
        "steps": trainer.state.global_step,
        "world_size": trainer.args.world_size,
        **(extra or {}),
    }
    write_json(path, metrics)
    write_run_log(
        run_log,
        llm,
        runtime_s=round(result.metrics["train_runtime"], 2),
        samples_per_s=round(result.metrics["train_samples_per_second"], 3),
        peak_memory_mb=round(PeakMemory.peak_mb(), 1),
    )
    write_json(curve_path, curve_rows(logs, (*curve_keys, *(("eval_loss",) if evals else ()))))
    return metrics


def curve_rows(logs: list[dict], keys: tuple[str, ...]) -> list[dict]:
    """One row per logged step, every row with the same keys (None where a step logged no such
    value): DVC's plots refuse a file whose rows differ in their keys."""
    by_step: dict[int, dict] = {}
    for e in logs:
        if "loss" in e or "eval_loss" in e:
            by_step.setdefault(e["step"], {}).update({k: e[k] for k in keys if k in e})
    return [{"step": step, **{k: row.get(k) for k in keys}} for step, row in sorted(by_step.items())]


def preference_metrics(trainer) -> dict:
    """DPO's reward accuracy and margin at the end, on the validation split when there is one."""
    logs = [e for e in trainer.state.log_history if "rewards/accuracies" in e or "eval_rewards/accuracies" in e]
    last = logs[-1] if logs else {}
    prefix = "eval_" if "eval_rewards/accuracies" in last else ""
    return {
        "rewards_accuracy": last.get(f"{prefix}rewards/accuracies"),
        "rewards_margin": last.get(f"{prefix}rewards/margins"),
        "rewards_measured_on": "validation" if prefix else "train",
    }


def online_metrics(trainer, rewards: dict) -> dict:
    """GRPO's first and last logged step: the mean reward, each reward (or monitor, weight 0) on
    its own, the spread of rewards within groups, KL to the start policy and the reply length."""
    logs = [e for e in trainer.state.log_history if "reward" in e]

    def step(e: dict) -> dict:
        return {
            "step": e.get("step"),
            "reward": e.get("reward"),
            "reward_std": e.get("reward_std"),  # the spread of rewards within a group
            "kl": e.get("kl"),
            "length": e.get("completions/mean_length"),  # tokens per completion
            "rewards": {r: e.get(f"rewards/{r}/mean" if w else f"monitor/{r}") for r, w in rewards.items()},
        }

    return {"first_step": step(logs[0]), "last_step": step(logs[-1])} if logs else {}
