"""The OpenAI backend against a real HTTP server on loopback, with injected faults."""

import time

import pytest

from aloe.errors import AloeError
from aloe.llm.base import ChatRequest
from aloe.llm.remote import OpenAIBackend
from aloe.llm.server import echo_generate
from aloe.params import OpenAIBackendParams

KEY_ENV = "ALOE_TEST_OPENAI_KEY"


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, "test-key-not-secret")


def backend(url: str, **kw) -> OpenAIBackend:
    cfg = dict(type="openai", model="m", base_url=url, api_key_env=KEY_ENV, timeout_s=2.0, max_retries=4)
    return OpenAIBackend(OpenAIBackendParams(**{**cfg, **kw}), "test")


def reqs(n: int, **kw) -> list[ChatRequest]:
    return [ChatRequest.from_messages([{"role": "user", "content": f"question {i}"}], seed=i, **kw) for i in range(n)]


def test_plain_roundtrip_with_logprobs(serve):
    srv = serve()
    [res] = backend(srv.base_url).generate(reqs(1, top_logprobs=3))
    assert res.ok and res.text == "echo: question 0" and res.logprobs == [{"token": "echo", "top": [["echo", 0.0]]}]
    [plain] = backend(srv.base_url).generate(reqs(1))
    assert plain.logprobs is None  # not asked for, not sent


def test_logprobs_of_every_position_come_back_in_order(serve):
    from scripted import tokens_result

    srv = serve(
        generate=lambda requests: [tokens_result(["Score", ":", " 4"], {2: {" 4": 0.9, " 3": 0.1}}) for _ in requests]
    )
    [res] = backend(srv.base_url).generate(reqs(1, top_logprobs=2))
    assert [p["token"] for p in res.logprobs] == ["Score", ":", " 4"]
    assert [t for t, _ in res.logprobs[2]["top"]] == [" 4", " 3"]


def test_a_prefill_is_sent_for_continuation_only_where_the_server_continues(serve):
    """continue_prefill: the request carries vLLM's continue_final_message; otherwise the
    backend says it does not continue, so callers send no prefill and read a free answer."""
    srv = serve()
    prefilled = [
        ChatRequest.from_messages([{"role": "user", "content": "rate it"}, {"role": "assistant", "content": "Score:"}])
    ]
    plain = backend(srv.base_url)
    assert not plain.continues_prefill
    plain.generate(prefilled)
    assert srv.server.prefills_continued == 0
    continuing = backend(srv.base_url, continue_prefill=True)
    assert continuing.continues_prefill and continuing.model_id != plain.model_id  # asked otherwise: not one judge
    continuing.generate(reqs(1))  # nothing to continue: no flag
    assert srv.server.prefills_continued == 0
    continuing.generate(prefilled)
    assert srv.server.prefills_continued == 1


def test_requests_whose_client_gave_up_are_not_generated(serve):
    """Clients that time out and retry must not leave work behind: queued requests of
    disconnected clients are dropped (as vLLM aborts them), else the queue outgrows the
    timeout and every request times out."""
    batches = []

    def slow(requests):
        batches.append(len(requests))
        time.sleep(1.5)
        return echo_generate(requests)

    srv = serve(generate=slow, max_batch=1, batch_window_s=0.0)
    results = backend(srv.base_url, timeout_s=0.5, max_retries=0).generate(reqs(3))
    assert all(not r.ok for r in results)
    time.sleep(2.0)  # the batcher finishes the batch it started, then reaches the queued two
    assert batches == [1] and srv.server.abandoned == 2


def test_the_served_model_is_part_of_the_identity(serve):
    """A server restarted with other weights under the same name must not replay old answers."""
    first = serve(model_name="m", root="/models/llama-3-8b")
    second = serve(model_name="m", root="/models/llama-3-8b-finetuned")
    again = serve(model_name="m", root="/models/llama-3-8b")
    ids = [backend(s.base_url).model_id.replace(s.base_url, "URL") for s in (first, second, again)]
    assert ids[0] != ids[1] and ids[0] == ids[2]


def test_a_server_that_does_not_list_the_model_still_works(serve, caplog):
    srv = serve(model_name="something-else")
    b = backend(srv.base_url)
    assert b.model_id.endswith(":m:unlisted") and "does not list 'm'" in caplog.text


def test_rate_limit_honours_retry_after(serve):
    srv = serve(faults={"rates": {"rate_limit": 1.0}, "retry_after_s": 0.4})
    b = backend(srv.base_url, max_retries=2)
    t0 = time.perf_counter()
    [res] = b.generate(reqs(1))
    elapsed = time.perf_counter() - t0
    assert not res.ok and "RateLimitError" in res.error
    assert b.http_attempts == 3
    assert elapsed >= 0.8  # two waits of retry-after, not the client's default backoff


def test_every_fault_kind_recovers(serve):
    rates = {"rate_limit": 0.08, "server_error": 0.08, "timeout": 0.04, "truncated": 0.08, "malformed": 0.08}
    srv = serve(faults={"rates": rates, "seed": 3, "stall_s": 4.0})
    b = backend(srv.base_url, timeout_s=1.0, max_retries=6, concurrency=8)
    results = b.generate(reqs(60))
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    assert [r.text for r in results] == [f"echo: question {i}" for i in range(60)]
    counts = srv.server.faults.counts
    assert all(counts.get(k, 0) > 0 for k in rates), counts
    assert b.http_attempts > 60


def test_a_fault_kind_stops_at_its_limit(serve):
    srv = serve(faults={"rates": {"timeout": 1.0}, "limits": {"timeout": 2}, "stall_s": 1.5})
    b = backend(srv.base_url, timeout_s=1.0, max_retries=3, concurrency=1)
    results = b.generate(reqs(3))
    assert [r.text for r in results] == [f"echo: question {i}" for i in range(3)]
    assert srv.server.faults.counts == {"timeout": 2, "ok": 3}  # two stalls, then every call answered


def test_persistent_500_becomes_a_per_request_error(serve):
    srv = serve(faults={"rates": {"server_error": 1.0}})
    [res] = backend(srv.base_url, max_retries=1).generate(reqs(1))
    assert res.finish_reason == "error" and "500" in res.error


def test_concurrency_is_bounded(serve):
    srv = serve(faults={"latency_s": 0.1})
    b = backend(srv.base_url, concurrency=4)
    t0 = time.perf_counter()
    b.generate(reqs(16))
    assert time.perf_counter() - t0 >= 0.4  # 16 requests / 4 at a time x 0.1 s


def test_missing_key_is_a_clear_error(monkeypatch):
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(AloeError, match=f"environment variable {KEY_ENV} is not set"):
        backend("http://127.0.0.1:9/v1")


def test_unreachable_endpoint_fails_within_retry_budget():
    b = backend("http://127.0.0.1:9/v1", max_retries=1)
    t0 = time.perf_counter()
    with pytest.raises(AloeError, match="cannot reach http://127.0.0.1:9/v1"):
        b.generate(reqs(2))
    assert time.perf_counter() - t0 < 10


def test_served_local_model_matches_local_backend(serve, base_model_dir):
    """`aloe serve` semantics: micro-batched HTTP answers equal direct local generation."""
    from aloe.llm.local import TransformersBackend
    from aloe.params import TransformersBackendParams

    local = TransformersBackend(TransformersBackendParams(type="transformers", model=str(base_model_dir)))
    srv = serve(generate=local.generate, batch_window_s=0.05)
    requests = reqs(4, max_tokens=16)
    remote = backend(srv.base_url, timeout_s=60).generate(requests)
    assert [r.text for r in remote] == [r.text for r in local.generate(requests)]
    assert all(r.completion_tokens > 0 for r in remote)
