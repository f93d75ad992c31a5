"""What every stage entry point shares: quiet logging and validated params."""

from __future__ import annotations

import logging
import os

from aloe.params import Params, load_params


def setup(params_path: str = "params.yaml") -> Params:
    """Configure logging and load the whole params file (fails fast on any bad key)."""
    logging.basicConfig(level=os.environ.get("ALOE_LOG_LEVEL", "INFO"), format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "urllib3", "datasets", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return load_params(params_path)
