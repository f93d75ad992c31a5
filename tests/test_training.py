"""Training stages on the real embedded model: LoRA SFT merged to a plain model,
and the same stage as two data-parallel CPU processes (gloo) via accelerate."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from datasets import Dataset, DatasetDict
from transformers import AutoModelForCausalLM

from conftest import REPO

pytestmark = pytest.mark.slow


def sft_data(path: Path) -> None:
    rows = [
        {
            "prompt": [{"role": "user", "content": f"Long shift number {i} at the hospital today."}],
            "completion": [{"role": "assistant", "content": "Oof! Put your feet up, you earned it."}],
            "conversation_id": str(i),
            "turn": 1,
        }
        for i in range(8)
    ]
    DatasetDict({"train": Dataset.from_list(rows[:6]), "validation": Dataset.from_list(rows[6:])}).save_to_disk(
        str(path)
    )


def run_sft(tmp_path, base_model_dir, launcher: list[str], **sft) -> tuple[dict, Path]:
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["sft"].update({"max_steps": 2, "per_device_train_batch_size": 2, **sft})
    params["wandb"]["mode"] = "disabled"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    sft_data(tmp_path / "sft")
    out = tmp_path / "models" / "sft"
    cmd = [
        *launcher,
        str(REPO / "stages/sft.py"),
        "--data",
        "sft",
        "--model",
        str(base_model_dir),
        "--out",
        str(out),
        "--metrics",
        "m.json",
        "--curve",
        "c.json",
    ]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads((tmp_path / "m.json").read_text()), out


def test_lora_sft_saves_a_merged_plain_model(tmp_path, base_model_dir):
    metrics, out = run_sft(tmp_path, base_model_dir, [sys.executable])
    assert {"train_loss", "runtime_s", "samples_per_s", "peak_memory_mb"} <= set(metrics)
    assert metrics["steps"] == 2 and metrics["eval_loss"] is not None
    assert (out / "model.safetensors").exists() and (out / "adapter" / "adapter_config.json").exists()
    assert not (out / "adapter_config.json").exists()  # the top level is a plain model, not an adapter
    model = AutoModelForCausalLM.from_pretrained(out)
    assert not hasattr(model, "peft_config")
    curve = json.loads((tmp_path / "c.json").read_text())
    assert [r["step"] for r in curve if "loss" in r] == [1, 2]
    assert_merged_equals_base_plus_adapter(out, base_model_dir)


def assert_merged_equals_base_plus_adapter(out: Path, base_model_dir: Path) -> None:
    """The merged plain model computes what the base model plus the saved adapter computes,
    and the adapter is not a no-op (training moved it off its zero init)."""
    import torch
    from peft import PeftModel
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(out)
    ids = tok("Long shift at the hospital today.", return_tensors="pt")
    with torch.no_grad():
        merged = AutoModelForCausalLM.from_pretrained(out)(**ids).logits
        base = AutoModelForCausalLM.from_pretrained(base_model_dir)
        plain = base(**ids).logits
        adapted = PeftModel.from_pretrained(base, out / "adapter")(**ids).logits
    assert torch.allclose(merged, adapted, atol=1e-4), (merged - adapted).abs().max()
    assert (merged - plain).abs().max() > 1e-3


def test_sft_as_two_cpu_processes(tmp_path, base_model_dir):
    accelerate = Path(sys.executable).parent / "accelerate"
    config = REPO / "src/aloe/configs/accelerate/cpu_ddp.yaml"
    metrics, out = run_sft(tmp_path, base_model_dir, [str(accelerate), "launch", "--config_file", str(config)])
    assert metrics["world_size"] == 2
    assert (out / "model.safetensors").exists() and (out / "adapter").is_dir()
    AutoModelForCausalLM.from_pretrained(out)
