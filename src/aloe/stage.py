"""What every stage entry point shares: quiet logging, validated params, the run log."""

from __future__ import annotations

import logging
import os
import platform
import time

from aloe.files import write_json
from aloe.params import Params, load_params

STARTED = time.time()


def setup(params_path: str = "params.yaml") -> Params:
    """Configure logging and load the whole params file (fails fast on any bad key)."""
    logging.basicConfig(level=os.environ.get("ALOE_LOG_LEVEL", "INFO"), format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "urllib3", "datasets", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return load_params(params_path)


def write_run_log(path: str, llm=None, **extra) -> None:
    """Run bookkeeping (wall time, cache hits, retries, errors, seconds per role, machine)
    in a file that is a DVC output but not a metric: it says what this machine and
    cache state did, which `dvc metrics diff` between experiments should not show."""
    log = {"wall_s": round(time.time() - STARTED, 1), "machine": platform.machine(), "cpus": os.cpu_count(), **extra}
    if llm is not None:
        log["calls"] = llm.run_report()
    write_json(path, log)
