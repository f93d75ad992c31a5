"""What the eval stage writes besides metrics: per-dialogue records and a W&B run."""

from __future__ import annotations

from aloe.evaluation.metrics import turn_rows
from aloe.training.tracking import configure_wandb


def dialogue_record(d) -> dict:
    return {"id": d.example_id, "profile": d.profile, "personality": d.personality, "seed": d.seed,
            "stopped": d.stopped, "turns": d.turns}


def log_to_wandb(cfg, variant: str, metrics: dict) -> None:
    """Summary metrics and a per-turn table, in a run named after the variant and experiment."""
    report_to, run_name = configure_wandb(cfg, f"aloe_eval-{variant}")
    if not report_to:
        return
    import wandb

    scalars = {k: v for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    run = wandb.init(name=run_name, job_type="eval", config={"variant": variant, "model": metrics["model"],
                                                             "turns": metrics["turns"]})
    rows = turn_rows(metrics, variant)
    run.log({"aloe/by_turn": wandb.Table(columns=list(rows[0]), data=[list(r.values()) for r in rows])})
    run.summary.update({f"aloe/{k}": v for k, v in scalars.items()})
    run.finish()
