#!/usr/bin/env bash
# Refresh requirements.lock, the pinned and hash-checked environment that
# scripts/bootstrap.sh installs (setup.cfg keeps the version ranges for people who
# install the package into their own environment). torch is resolved as the CPU build
# so the lock holds its pure-Python dependencies but no CUDA libraries, and is left
# out: bootstrap installs torch itself (the CUDA or CPU wheel, whichever the machine
# gets). After a refresh: commit the lock, `dvc repro` (every stage depends on it).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pip install -q "uv==0.13.9"
# where the CPU torch wheel comes from: local wheel dirs if pip is told of some, else PyTorch's index
links=(--extra-index-url https://download.pytorch.org/whl/cpu)
[ -n "${PIP_FIND_LINKS:-}" ] && links=() && for d in $PIP_FIND_LINKS; do links+=(--find-links "$d"); done
.venv/bin/uv pip compile setup.cfg --extra test --extra docs --generate-hashes \
  --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
  "${links[@]}" --index-strategy unsafe-best-match \
  --constraint <(echo "torch==${ALOE_TORCH_VERSION:-2.13.0}+cpu") --no-emit-package torch \
  --custom-compile-command "bash scripts/lock_env.sh" -o requirements.lock
