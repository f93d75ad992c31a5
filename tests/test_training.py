"""Training stages on the real embedded model: LoRA SFT merged to a plain model,
and the same stage as two data-parallel CPU processes (gloo) via accelerate."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import weakref
from pathlib import Path

import pytest
import yaml
from datasets import Dataset, DatasetDict
from huggingface_hub import ModelCard
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


def sft_command(tmp_path, base_model_dir, launcher: list[str], **sft) -> tuple[list[str], Path, dict]:
    """The sft stage as dvc.yaml runs it, on tiny data, with its own cache dir for checkpoints."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["sft"].update({"max_steps": 2, "per_device_train_batch_size": 2, **sft})
    params["wandb"]["mode"] = "disabled"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    sft_data(tmp_path / "sft")
    out = tmp_path / "models" / "sft"
    env = {**os.environ, "ALOE_CACHE_DIR": str(tmp_path / "cache")}
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
        "--run-log",
        "log.json",
    ]
    return cmd, out, env


def run_sft(tmp_path, base_model_dir, launcher: list[str], **sft) -> tuple[dict, Path]:
    cmd, out, env = sft_command(tmp_path, base_model_dir, launcher, **sft)
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads((tmp_path / "m.json").read_text()), out


def test_lora_sft_saves_a_merged_plain_model(tmp_path, base_model_dir):
    metrics, out = run_sft(tmp_path, base_model_dir, [sys.executable])
    timings = {"runtime_s", "samples_per_s", "peak_memory_mb"}
    assert "train_loss" in metrics and not timings & set(metrics)  # the machine's numbers are no metric
    assert timings <= set(json.loads((tmp_path / "log.json").read_text()))
    assert metrics["steps"] == 2 and metrics["eval_loss"] is not None
    assert (out / "model.safetensors").exists() and (out / "adapter" / "adapter_config.json").exists()
    assert not (out / "adapter_config.json").exists()  # the top level is a plain model, not an adapter
    model = AutoModelForCausalLM.from_pretrained(out)
    assert not hasattr(model, "peft_config")
    curve = json.loads((tmp_path / "c.json").read_text())
    assert [r["step"] for r in curve if "loss" in r] == [1, 2]
    assert_merged_equals_base_plus_adapter(out, base_model_dir)
    card = ModelCard.load(out / "README.md")  # a Hugging Face model card: base model, data, recipe, losses
    assert card.data.base_model == "HuggingFaceTB/SmolLM2-135M-Instruct" and card.data.datasets
    assert "| `learning_rate` |" in card.text and f"train {metrics['train_loss']}" in card.text
    assert "| `completion_only_loss` | `True` |" in card.text and str(tmp_path) not in card.text


def test_the_model_card_holds_every_trainer_argument_and_nothing_of_the_machine(tmp_path):
    """The card says how to train the model again: every field of the trainer's config, but no
    path of this machine (the checkpoints in the local cache), no W&B run and no token."""
    import dataclasses

    from trl import SFTConfig

    from aloe.cards import model_card
    from aloe.params import SFTParams
    from aloe.training.arguments import trainer_arguments
    from aloe.training.fit import MACHINE_ONLY, arguments_of

    checkpoints = tmp_path / "cache" / "checkpoints" / "sft-0123456789abcdef"
    args = SFTConfig(
        **trainer_arguments(SFTParams(), 0, str(checkpoints)),
        completion_only_loss=True,
        report_to=["wandb"],
        run_name="sft-my-experiment",
        hub_token="hf_NotARealTokenButShapedLikeOne",
    )
    card = model_card("sft", "embedded", "models/base", "data/pairs/sft", {}, arguments_of(args), {}, {}).text
    rows = dict(re.findall(r"^\| `(\w+)` \| `(.*)` \|$", card, re.M))
    assert set(rows) == {f.name for f in dataclasses.fields(SFTConfig) if f.init} - MACHINE_ONLY
    assert rows["completion_only_loss"] == "True" and rows["max_length"] == "1024" and rows["seed"] == "0"
    for private in (str(tmp_path), "sft-my-experiment", "hf_NotARealToken"):
        assert private not in card


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
    # every rank took part in the save and the main one merged: the saved model is the trained one.
    # (FSDP and ZeRO-3 cannot be tried here: accelerate 1.15 enables FSDP only for GPU-type
    # distribution, not MULTI_CPU, and DeepSpeed needs an accelerator.)
    assert_merged_equals_base_plus_adapter(out, base_model_dir)


def adapter_weights(out: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(out / "adapter" / "adapter_model.safetensors")


def test_a_killed_sft_resumes_from_its_checkpoint(tmp_path, base_model_dir):
    """kill -9 after the first checkpoint, rerun: it resumes there (fewer steps run) and ends
    with the adapter of an uninterrupted run (tolerance 1e-5: the same arithmetic, replayed)."""
    import torch

    settings = {"max_steps": 6, "save_steps": 2, "per_device_train_batch_size": 1}
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    for path in (straight, killed):
        path.mkdir()
    run_sft(straight, base_model_dir, [sys.executable], **settings)
    cmd, out, env = sft_command(killed, base_model_dir, [sys.executable], **settings)
    proc = subprocess.Popen(
        cmd, cwd=killed, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.time() + 600
    while not list((killed / "cache" / "checkpoints").glob("sft-*/checkpoint-2/trainer_state.json")):
        assert proc.poll() is None and time.time() < deadline, "the stage ended before its first checkpoint"
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists()  # nothing half-written where DVC looks
    rerun = subprocess.run(cmd, cwd=killed, env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr[-4000:]
    assert re.search(r"resuming from \S+checkpoint-[24]\b", rerun.stderr), rerun.stderr[-3000:]
    resumed_at = int(re.search(r"training steps (\d+)-6 of 6", rerun.stderr).group(1))
    assert resumed_at in (3, 5)  # the steps before the checkpoint are not run again
    a, b = adapter_weights(straight / "models" / "sft"), adapter_weights(out)
    assert a.keys() == b.keys()
    assert max((a[k] - b[k]).abs().max().item() for k in a) < 1e-5
    assert not list((killed / "cache" / "checkpoints").glob("sft-*"))  # removed once the stage finished
    assert max(float(torch.linalg.norm(v)) for k, v in b.items() if "lora_B" in k) > 0


def test_the_merge_loads_whole_weights_after_zero3_training(tmp_path, base_model_dir, monkeypatch):
    """ZeRO-3 training leaves its config registered in transformers; the merge after it must
    still load the starting weights whole. On an H200 (bench/results/sharded_training.json)
    the fresh copy came back partitioned, with empty tensors, and the merge failed."""
    import transformers.integrations.deepspeed as hf_deepspeed
    from peft import LoraConfig, get_peft_model
    from transformers import AutoTokenizer

    from aloe.training.fit import export

    class Zero3:  # what transformers asks of the HfDeepSpeedConfig a ZeRO-3 run registers
        def is_zero3(self):
            return True

    lora = LoraConfig(r=4, target_modules=["q_proj"], init_lora_weights=False, task_type="CAUSAL_LM")
    get_peft_model(AutoModelForCausalLM.from_pretrained(base_model_dir), lora).save_pretrained(tmp_path / "saved")
    registered = Zero3()  # transformers holds a weak reference: this keeps it alive; monkeypatch restores
    monkeypatch.setattr(hf_deepspeed, "_hf_deepspeed_config_weak_ref", weakref.ref(registered))
    assert hf_deepspeed.is_deepspeed_zero3_enabled()
    export(str(tmp_path / "saved"), str(base_model_dir), tmp_path / "out")
    AutoTokenizer.from_pretrained(base_model_dir).save_pretrained(tmp_path / "out")
    assert_merged_equals_base_plus_adapter(tmp_path / "out", base_model_dir)


def test_every_row_of_a_training_curve_has_the_same_keys():
    """DVC's plots refuse a file whose rows differ in their keys: the eval loss joins its step's
    row, and a step without a value holds None."""
    from aloe.training.metrics import curve_rows

    logs = [{"step": 1, "loss": 0.9}, {"step": 2, "loss": 0.7, "kl": 0.1}, {"step": 2, "eval_loss": 0.8}]
    assert curve_rows(logs, ("loss", "kl", "eval_loss")) == [
        {"step": 1, "loss": 0.9, "kl": None, "eval_loss": None},
        {"step": 2, "loss": 0.7, "kl": 0.1, "eval_loss": 0.8},
    ]
