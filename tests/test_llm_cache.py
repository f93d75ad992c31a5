"""The response cache and the SQLite store under it: keys, transactions, two writers."""

import sqlite3
import subprocess
import sys
import textwrap

import pytest

from aloe.llm.base import ChatRequest, ChatResult
from aloe.llm.cache import ResponseCache
from aloe.store import KeyValueStore


def req(**kw) -> ChatRequest:
    return ChatRequest.from_messages([{"role": "user", "content": "hi"}], **kw)


def test_key_covers_model_and_every_request_field():
    base = req(seed=1)
    keys = {
        base.cache_key("m1"),
        base.cache_key("m2"),
        req(seed=2).cache_key("m1"),
        req(seed=1, temperature=0.0).cache_key("m1"),
        req(seed=1, top_logprobs=5).cache_key("m1"),
        req(seed=1, max_tokens=3).cache_key("m1"),
        req(seed=1, top_p=0.9).cache_key("m1"),
    }
    assert len(keys) == 7
    assert req(seed=1).cache_key("m1") == base.cache_key("m1")


def test_roundtrip_survives_reopen_and_skips_errors(tmp_path):
    path = tmp_path / "c.sqlite"
    c = ResponseCache(path)
    logprobs = [{"token": "4", "top": [["4", -0.1], [" 4", -2.5]]}]
    good = ChatResult(text="4", prompt_tokens=3, completion_tokens=1, logprobs=logprobs)
    bad = ChatResult(text="", finish_reason="error", error="500")
    c.put_many([("k1", good), ("k2", bad)])
    c.close()
    c = ResponseCache(path)
    found = c.get_many(["k1", "k2", "k3"])
    assert set(found) == {"k1"} and found["k1"].cached and found["k1"].logprobs == logprobs
    assert len(c) == 1


def test_cache_dir_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("ALOE_CACHE_DIR", str(tmp_path / "x"))
    c = ResponseCache()
    assert c.path == tmp_path / "x" / "responses.sqlite" and c.path.exists()


def test_a_failing_chunk_writes_nothing(tmp_path):
    store = KeyValueStore(tmp_path / "s.sqlite", "t")
    store.put_many([("a", "1")])
    with pytest.raises(sqlite3.ProgrammingError):
        store.put_many([("b", "2"), ("c", object())])  # the second row cannot be stored
    assert store.get_many(["a", "b", "c"]) == {"a": "1"}  # "b" was rolled back with it


WRITER = textwrap.dedent("""
    import sys
    from aloe.store import KeyValueStore
    path, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = KeyValueStore(path, "t")
    for start in range(0, n, 20):
        store.put_many((f"{name}-{i}", "x" * 2000) for i in range(start, start + 20))
        other = "b" if name == "a" else "a"
        store.get_many([f"{other}-{i}" for i in range(n)])  # read the other writer's rows meanwhile
    print(len(store.get_many([f"{name}-{i}" for i in range(n)])))
""")


def test_two_processes_write_and_read_one_store_at_once(tmp_path):
    """Two `dvc exp` workers sharing $ALOE_CACHE_DIR: nothing lost, no 'database is locked'."""
    path, n = tmp_path / "shared.sqlite", 1000
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), name, str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0 and "locked" not in err, err[-2000:]
        assert out.strip() == str(n)
    store = KeyValueStore(path, "t")
    assert len(store) == 2 * n
