"""W&B set-up: offline unless a key is present, never a login prompt, never a secret."""

from __future__ import annotations

import os


def configure_wandb(cfg, stage: str) -> tuple[list[str], str]:
    """Set the env that the trainer's W&B callback reads; return (report_to, run_name).

    The run is named after the stage and the DVC experiment (``DVC_EXP_NAME`` is
    set by ``dvc exp run``), so runs line up with ``dvc exp show`` rows.
    """
    mode = cfg.mode
    if mode == "auto":
        mode = "online" if os.environ.get("WANDB_API_KEY") else "offline"
    run_name = f"{stage}-{os.environ.get('DVC_EXP_NAME', 'workspace')}"
    if mode == "disabled":
        return [], run_name
    os.environ["WANDB_MODE"] = mode
    os.environ["WANDB_PROJECT"] = cfg.project
    os.environ.setdefault("WANDB_SILENT", "true")
    os.environ.setdefault("WANDB_DIR", os.path.abspath("."))  # ./wandb/, gitignored; `wandb sync wandb/offline-run-*`
    if cfg.entity:
        os.environ["WANDB_ENTITY"] = cfg.entity
    return ["wandb"], run_name
