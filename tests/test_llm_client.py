import pytest

from aloe.errors import AloeError
from aloe.llm.base import ChatRequest
from aloe.llm.client import LLM
from aloe.params import LLMParams

ROLES = ("persona_writer", "user", "inducer", "responder", "judge")


def params(url: str, judge: str = "api") -> LLMParams:
    return LLMParams.model_validate({
        "backends": {"api": {"type": "openai", "model": "m", "base_url": url, "api_key_env": "ALOE_TEST_KEY",
                             "max_retries": 3},
                     "other": {"type": "openai", "model": "judge-model", "base_url": url,
                               "api_key_env": "ALOE_TEST_KEY"}},
        "roles": {r: ("other" if r == "judge" else "api") for r in ROLES} if judge == "other"
        else {r: "api" for r in ROLES},
    })


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
    assert llm.report()["user"]["calls"] == 12 and llm.report()["user"]["cache_hits"] == 5


def test_roles_use_their_own_backend_and_accounting(serve, cache):
    srv = serve(faults={"rates": {"server_error": 0.3}, "seed": 1})
    llm = LLM(params(srv.base_url, judge="other"), cache=cache, progress=False)
    assert llm.model_id("judge") != llm.model_id("user")
    llm.chat("judge", reqs(10))
    report = llm.report()
    assert set(report) == {"judge"}
    assert report["judge"]["retries"] > 0 and report["judge"]["errors"] == 0


def test_errors_are_not_cached(serve, cache):
    srv = serve(faults={"rates": {"server_error": 1.0}})
    llm = LLM(params(srv.base_url), cache=cache, progress=False)
    [res] = llm.chat("user", reqs(1))
    assert not res.ok and llm.report()["user"]["errors"] == 1
    assert len(cache) == 0


def test_missing_key_fails_at_construction(monkeypatch, cache):
    monkeypatch.delenv("ALOE_TEST_KEY")
    with pytest.raises(AloeError, match="ALOE_TEST_KEY"):
        LLM(params("http://127.0.0.1:9/v1"), roles=("judge",), cache=cache)
