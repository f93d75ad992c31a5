"""The local backend on the real embedded model."""

import pytest

from aloe.llm.base import ChatRequest
from aloe.llm.local import TransformersBackend
from aloe.params import TransformersBackendParams

QUESTIONS = ["What should I cook tonight?", "Name a good book.", "How do I relax after work?",
             "Any tips for a first marathon? I am nervous and I have never run more than ten kilometres."]


@pytest.fixture(scope="module")
def backend(base_model_dir):
    return TransformersBackend(TransformersBackendParams(type="transformers", model=str(base_model_dir), batch_size=4))


def requests(seed_offset=0, **kw):
    return [ChatRequest.from_messages([{"role": "user", "content": q}], max_tokens=24, seed=i + seed_offset, **kw)
            for i, q in enumerate(QUESTIONS)]


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
    [res] = backend.generate([ChatRequest.from_messages([{"role": "user", "content": "Count to one hundred."}],
                                                         max_tokens=5, temperature=0.0)])
    assert res.completion_tokens <= 5 and res.prompt_tokens > 5
    assert res.finish_reason in ("length", "stop")


def test_first_token_logprobs(backend):
    msg = [{"role": "user", "content": "Reply with a single digit from 1 to 5."}]
    [res] = backend.generate([ChatRequest.from_messages(msg, max_tokens=1, temperature=0.0, top_logprobs=10)])
    lp = res.first_token_logprobs
    assert len(lp) >= 5 and all(v <= 0 for v in lp.values())
    assert max(lp, key=lp.get) == res.text or res.text.startswith(max(lp, key=lp.get).strip())


def test_model_id_changes_with_weights(base_model_dir, tmp_path):
    import shutil

    copy = tmp_path / "m"
    shutil.copytree(base_model_dir, copy)
    a = TransformersBackend(TransformersBackendParams(type="transformers", model=str(copy)))
    with open(copy / "chat_template.jinja", "a") as f:
        f.write(" ")
    b = TransformersBackend(TransformersBackendParams(type="transformers", model=str(copy)))
    assert a.model_id != b.model_id
