"""The local backend on the real embedded model."""

import pytest

from aloe.llm.base import ChatRequest
from aloe.llm.local import TransformersBackend
from aloe.params import TransformersBackendParams
from conftest import REPO

QUESTIONS = [
    "What should I cook tonight?",
    "Name a good book.",
    "How do I relax after work?",
    "Any tips for a first marathon? I am nervous and I have never run more than ten kilometres.",
]


@pytest.fixture(scope="module")
def backend(base_model_dir):
    return TransformersBackend(TransformersBackendParams(type="transformers", model=str(base_model_dir), batch_size=4))


def requests(seed_offset=0, **kw):
    return [
        ChatRequest.from_messages([{"role": "user", "content": q}], max_tokens=24, seed=i + seed_offset, **kw)
        for i, q in enumerate(QUESTIONS)
    ]


def test_batched_equals_one_at_a_time(backend):
    batched = backend.generate(requests())
    alone = [backend.generate([r])[0] for r in requests()]
    assert [r.text for r in batched] == [r.text for r in alone]
    assert all(r.text for r in batched)


def test_seed_controls_sampling(backend):
    a = backend.generate(requests())
    b = backend.generate(requests())
    c = backend.generate(requests(seed_offset=100))
    assert [r.text for r in a] == [r.text for r in b]
    assert [r.text for r in a] != [r.text for r in c]


def test_max_tokens_and_accounting(backend):
    [res] = backend.generate(
        [
            ChatRequest.from_messages(
                [{"role": "user", "content": "Count to one hundred."}], max_tokens=5, temperature=0.0
            )
        ]
    )
    assert res.completion_tokens <= 5 and res.prompt_tokens > 5
    assert res.finish_reason in ("length", "stop")


def test_logprobs_at_every_position_match_the_greedy_tokens(backend):
    msg = [{"role": "user", "content": "Reply with a single digit from 1 to 5."}]
    [res] = backend.generate([ChatRequest.from_messages(msg, max_tokens=6, temperature=0.0, top_logprobs=10)])
    assert len(res.logprobs) == res.completion_tokens - (res.finish_reason == "stop")
    for position in res.logprobs:  # greedy: the generated token is the likeliest one there
        best = max(position["top"], key=lambda t: t[1])
        assert position["token"] == best[0] and len(position["top"]) == 10
        assert all(lp <= 0 for _, lp in position["top"])
    assert "".join(p["token"] for p in res.logprobs).strip() == res.text


def identity(model_dir, **cfg) -> str:
    return TransformersBackend(TransformersBackendParams(type="transformers", model=str(model_dir), **cfg)).model_id


def test_model_id_changes_with_the_weights(base_model_dir, tmp_path):
    import shutil

    from safetensors.torch import load_file, save_file

    copy = tmp_path / "m"
    shutil.copytree(base_model_dir, copy)
    before = identity(copy)
    assert identity(copy) == before  # unchanged weights: the same key, so the cache hits
    weights = load_file(copy / "model.safetensors")
    name = next(iter(weights))
    weights[name] = weights[name] + 1e-3
    save_file(weights, copy / "model.safetensors", metadata={"format": "pt"})
    assert identity(copy) != before


def test_model_id_holds_the_resolved_device_dtype_and_library_versions(base_model_dir, monkeypatch):
    from aloe.llm import local

    auto = identity(base_model_dir)
    assert ":cpu:float32:" in auto  # "auto" resolved, on this CPU machine
    assert identity(base_model_dir, dtype="float32") == auto  # the same thing, spelled out: the same key
    assert identity(base_model_dir, dtype="bfloat16") != auto
    monkeypatch.setattr(local.transformers, "__version__", "99.0")
    assert identity(base_model_dir) != auto
    monkeypatch.undo()
    monkeypatch.setattr(local.torch, "__version__", "99.0")
    assert identity(base_model_dir) != auto


def test_a_hub_id_is_keyed_with_its_revision():
    a = identity("HuggingFaceTB/SmolLM2-135M-Instruct")
    b = identity("HuggingFaceTB/SmolLM2-135M-Instruct", revision="abc123")
    assert a != b and "@main" in a and "@abc123" in b


def test_a_missing_local_model_is_a_clear_error_naming_the_stage(tmp_path, monkeypatch):
    from aloe.errors import AloeError

    monkeypatch.chdir(REPO)
    with pytest.raises(AloeError, match=r"models/nope does not exist: no stage in dvc.yaml makes it"):
        identity("models/nope")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dvc.yaml").write_text((REPO / "dvc.yaml").read_text())
    with pytest.raises(AloeError, match=r"models/sft does not exist: run `dvc repro sft` or `dvc pull models/sft`"):
        identity("models/sft")


def test_a_prefill_is_continued_not_answered(backend):
    """A trailing assistant message (reask.build_request's prefill) is the start of the answer:
    the prompt is the ordinary one with the prefill's tokens appended, no new turn opened."""
    from aloe.llm.reask import build_request
    from aloe.params import Decoding

    msg = [{"role": "user", "content": "Rate this reply from 1 to 5."}]
    decoding = Decoding(temperature=0.0, max_tokens=4, max_attempts=1, retry_temperature=0.7)
    plain, prefilled = (build_request(decoding, msg, 7, 0, p) for p in ("", "Score:"))
    [res] = backend.generate([prefilled])
    assert res.ok and res.completion_tokens > 0
    plain, prefilled = backend._prompt(plain), backend._prompt(prefilled)
    assert prefilled[: len(plain)] == plain
    assert backend._tokenizer.decode(prefilled[len(plain) :]) == "Score:"


def test_aloe_chat_talks_through_the_response_cache(base_model_dir, tmp_path, monkeypatch):
    """`aloe chat` asks the chat role through the LLM layer: each turn is one cached call, so
    the same conversation replays from the cache."""
    from click.testing import CliRunner

    from aloe.cli import main
    from aloe.llm.cache import ResponseCache

    monkeypatch.setenv("ALOE_CACHE_DIR", str(tmp_path / "cache"))
    args = ["chat", "--model", str(base_model_dir), "--max-tokens", "8"]
    first = CliRunner().invoke(main, args, input="Hi there\nWhat do you like?\n\n")
    assert first.exit_code == 0 and first.output.count("bot> ") == 2, first.output
    assert len(ResponseCache(tmp_path / "cache" / "responses.sqlite")) == 2
    again = CliRunner().invoke(main, args, input="Hi there\nWhat do you like?\n\n")

    def replies(output: str) -> list[str]:
        return [line.split("bot> ", 1)[1] for line in output.splitlines() if "bot> " in line]

    assert replies(again.output) == replies(first.output)
    assert "Loading weights" in first.output and "Loading weights" not in again.output  # never generated
    assert len(ResponseCache(tmp_path / "cache" / "responses.sqlite")) == 2
