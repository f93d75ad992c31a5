from aloe.llm.base import ChatRequest, ChatResult
from aloe.llm.cache import ResponseCache


def req(**kw) -> ChatRequest:
    return ChatRequest.from_messages([{"role": "user", "content": "hi"}], **kw)


def test_key_covers_model_and_every_request_field():
    base = req(seed=1)
    keys = {base.cache_key("m1"), base.cache_key("m2"), req(seed=2).cache_key("m1"),
            req(seed=1, temperature=0.0).cache_key("m1"), req(seed=1, top_logprobs=5).cache_key("m1")}
    assert len(keys) == 5
    assert req(seed=1).cache_key("m1") == base.cache_key("m1")


def test_roundtrip_survives_reopen_and_skips_errors(tmp_path):
    path = tmp_path / "c.sqlite"
    c = ResponseCache(path)
    good = ChatResult(text="hello", prompt_tokens=3, completion_tokens=1, first_token_logprobs={"1": -0.1})
    bad = ChatResult(text="", finish_reason="error", error="500")
    c.put_many("m", [("k1", good), ("k2", bad)])
    c.close()
    c = ResponseCache(path)
    found = c.get_many(["k1", "k2", "k3"])
    assert set(found) == {"k1"}
    assert found["k1"].text == "hello" and found["k1"].cached and found["k1"].first_token_logprobs == {"1": -0.1}
    assert len(c) == 1


def test_cache_dir_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("ALOE_CACHE_DIR", str(tmp_path / "x"))
    c = ResponseCache()
    assert c.path == tmp_path / "x" / "responses.sqlite" and c.path.exists()
