"""The exported adapter: the same training writes the same bytes (no machine path, a stable
module order), so a rerun of sft leaves models/sft's hash, and every stage after it, alone."""

import json

from aloe.training.fit import sort_target_modules


def test_the_adapter_config_lists_its_target_modules_in_one_order(tmp_path):
    config = tmp_path / "adapter_config.json"
    modules = ["up_proj", "q_proj", "o_proj", "gate_proj", "down_proj", "k_proj", "v_proj"]
    config.write_text(json.dumps({"r": 16, "target_modules": modules, "lora_alpha": 32}))
    sort_target_modules(config)
    first = config.read_bytes()
    assert json.loads(first) == {"r": 16, "target_modules": sorted(modules), "lora_alpha": 32}
    config.write_text(json.dumps({"lora_alpha": 32, "target_modules": modules[::-1], "r": 16}))
    sort_target_modules(config)
    assert config.read_bytes() == first


def test_an_exported_model_carries_no_pickle_of_this_machine(tmp_path):
    """A full fine-tune's export (no adapter) leaves out training_args.bin, as the LoRA branch does."""
    from aloe.training.fit import export

    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "model.safetensors").write_bytes(b"weights")
    (saved / "training_args.bin").write_bytes(b"/root/.cache/aloe/checkpoints/sft-1234")
    out = tmp_path / "out"
    export(str(saved), "unused: no adapter to merge", out)
    assert sorted(p.name for p in out.iterdir()) == ["model.safetensors"]
