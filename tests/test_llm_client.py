import pytest

from aloe.errors import AloeError
from aloe.llm.base import ChatRequest
from aloe.llm.client import LLM
from aloe.params import LLMParams

ROLES = ("persona_writer", "user", "inducer", "responder", "judge")


def params(url: str, judge: str = "api") -> LLMParams:
    return LLMParams.model_validate(
        {
            "backends": {
                "api": {
                    "type": "openai",
                    "model": "m",
                    "base_url": url,
                    "api_key_env": "ALOE_TEST_KEY",
                    "max_retries": 3,
                },
                "other": {"type": "openai", "model": "judge-model", "base_url": url, "api_key_env": "ALOE_TEST_KEY"},
            },
            "roles": {r: ("other" if r == "judge" else "api") for r in ROLES}
            if judge == "other"
            else {r: "api" for r in ROLES},
        }
    )


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv("ALOE_TEST_KEY", "k")


def reqs(n):
    return [ChatRequest.from_messages([{"role": "user", "content": f"q{i}"}], seed=i) for i in range(n)]


def test_second_run_is_served_from_cache(serve, cache):
    srv = serve()
    llm = LLM(params(srv.base_url), cache=cache, progress=False)
    first = llm.chat("user", reqs(5))
    seen = srv.server.requests_seen
    again = llm.chat("user", reqs(5) + reqs(7)[5:])
    assert srv.server.requests_seen == seen + 2
    assert [r.text for r in again[:5]] == [r.text for r in first]
    assert llm.report()["user"]["calls"] == 12 and llm.run_report()["user"]["cache_hits"] == 5


def test_the_workload_is_the_same_on_a_cold_and_a_warm_cache(serve, cache):
    """Metrics hold what the inputs determine: tokens of every call, cached or not."""
    srv = serve()
    cold = LLM(params(srv.base_url), cache=cache, progress=False)
    cold.chat("user", reqs(4))
    warm = LLM(params(srv.base_url), cache=cache, progress=False)
    warm.chat("user", reqs(4))
    assert warm.report() == cold.report() and warm.report()["user"]["completion_tokens"] == 4
    assert warm.run_report()["user"]["cache_hits"] == 4 and cold.run_report()["user"]["cache_hits"] == 0


def test_a_backend_without_logprobs_is_named_once(serve, cache, caplog):
    srv = serve(logprobs=False)
    llm = LLM(params(srv.base_url), cache=cache, progress=False)
    llm.chat("judge", [ChatRequest.from_messages([{"role": "user", "content": "q"}], top_logprobs=5)] * 2)
    llm.chat("judge", reqs(3))  # not asked for: nothing to say
    warnings = [r for r in caplog.records if "returns no log-probabilities" in r.message]
    assert len(warnings) == 1 and "llm.backends.api" in warnings[0].message
    assert llm.without_logprobs == {"api"}


def test_roles_use_their_own_backend_and_accounting(serve, cache):
    srv = serve(faults={"rates": {"server_error": 0.3}, "seed": 1})
    llm = LLM(params(srv.base_url, judge="other"), cache=cache, progress=False)
    assert llm.model_id("judge") != llm.model_id("user")
    llm.chat("judge", reqs(10))
    report = llm.run_report()
    assert set(report) == {"judge"}
    assert report["judge"]["retries"] > 0 and report["judge"]["errors"] == 0


def test_errors_are_not_cached(serve, cache):
    srv = serve(faults={"rates": {"server_error": 1.0}})
    llm = LLM(params(srv.base_url), cache=cache, progress=False)
    [res] = llm.chat("user", reqs(1))
    assert not res.ok and llm.run_report()["user"]["errors"] == 1
    assert len(cache) == 0


def test_missing_key_fails_at_construction(monkeypatch, cache):
    monkeypatch.delenv("ALOE_TEST_KEY")
    with pytest.raises(AloeError, match="ALOE_TEST_KEY"):
        LLM(params("http://127.0.0.1:9/v1"), roles=("judge",), cache=cache)
