#!/usr/bin/env bash
# Set up .venv for this checkout: idempotent, safe to run before every command.
# torch is installed first and pinned so pip never swaps in a different build;
# on a GPU machine this pulls the CUDA wheel, on a CPU-only one the CPU wheel.
# Everything else is exactly requirements.lock: pinned, hash-checked, no dependency
# resolved beyond it (--no-deps), then `pip check` confirms the set is complete.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q "torch==${ALOE_TORCH_VERSION:-2.13.0}"
fi
stamp=.venv/.aloe-installed
if [ ! -f "$stamp" ] || [ requirements.lock -nt "$stamp" ] || [ setup.cfg -nt "$stamp" ]; then
  .venv/bin/pip install -q --require-hashes --no-deps -r requirements.lock
  .venv/bin/pip install -q --no-deps -e .
  .venv/bin/pip check
  touch "$stamp"
fi
