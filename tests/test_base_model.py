import json
import shutil

import pytest
from transformers import AutoModelForCausalLM, AutoTokenizer

from aloe.base_model import materialise
from aloe.errors import AloeError


def test_embedded_base_model_is_a_plain_hf_dir_that_generates(base_model_dir):
    names = {p.name for p in base_model_dir.iterdir()}
    assert "model.safetensors" in names and "tokenizer.json" in names
    assert "quantization_config" not in json.loads((base_model_dir / "config.json").read_text())
    tok = AutoTokenizer.from_pretrained(base_model_dir)
    model = AutoModelForCausalLM.from_pretrained(base_model_dir)
    ids = tok.apply_chat_template(
        [{"role": "user", "content": "Say hello."}], add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    out = model.generate(**ids, max_new_tokens=8, do_sample=False)
    text = tok.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)
    assert text.strip()


def test_the_embedded_model_is_dequantised_once_and_copied_after(base_model_dir, tmp_path, monkeypatch):
    import aloe.base_model

    def refuse():
        raise AssertionError("dequantised again")

    monkeypatch.setattr(aloe.base_model, "load_embedded", refuse)
    materialise("embedded", None, tmp_path / "again")
    for made in base_model_dir.iterdir():
        assert (tmp_path / "again" / made.name).read_bytes() == made.read_bytes(), made.name


def test_local_dir_source_roundtrips(base_model_dir, tmp_path):
    materialise(str(base_model_dir), None, tmp_path / "copy")
    assert AutoTokenizer.from_pretrained(tmp_path / "copy").chat_template


def test_model_without_chat_template_is_refused(base_model_dir, tmp_path):
    src = tmp_path / "nochat"
    shutil.copytree(base_model_dir, src)
    (src / "chat_template.jinja").unlink()
    cfg = json.loads((src / "tokenizer_config.json").read_text())
    cfg.pop("chat_template", None)
    (src / "tokenizer_config.json").write_text(json.dumps(cfg))
    with pytest.raises(AloeError, match="no chat template"):
        materialise(str(src), None, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_unknown_source_is_a_clear_error(tmp_path):
    with pytest.raises(AloeError, match="base_model.source"):
        materialise("not-a-model", None, tmp_path / "out")
