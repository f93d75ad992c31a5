import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from aloe.errors import AloeError
from aloe.files import atomic_path, iter_jsonl, read_jsonl, write_json
from conftest import REPO


def test_atomic_path_leaves_old_output_on_failure(tmp_path):
    target = tmp_path / "out.json"
    write_json(target, {"v": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert target.read_text().strip().startswith("{")
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_atomic_path_replaces_a_directory(tmp_path):
    target = tmp_path / "model"
    for version in ("a", "b"):
        with atomic_path(target) as tmp:
            tmp.mkdir()
            (tmp / "weights").write_text(version)
    assert (target / "weights").read_text() == "b"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_read_jsonl_names_file_and_line(tmp_path):
    path = tmp_path / "seeds.jsonl"
    path.write_text('"one"\n\n{"text": "two"}\n{"text": "three"\n')
    with pytest.raises(AloeError, match=r"seeds\.jsonl:4: not valid JSON"):
        read_jsonl(path)
    path.write_text('"one"\n\n{"text": "two"}\n')
    assert read_jsonl(path) == [(1, "one"), (3, {"text": "two"})]


def test_read_jsonl_names_the_line_of_a_byte_that_is_not_utf8(tmp_path):
    path = tmp_path / "profiles.jsonl"
    path.write_bytes(b'"one"\n"caf\xe9"\n')  # Latin-1, as a spreadsheet export writes it
    with pytest.raises(AloeError, match=r"profiles\.jsonl:2: not UTF-8 text"):
        read_jsonl(path)
    path.write_bytes(b'"one"\r\n\r\n"caf\xc3\xa9"')  # Windows line ends, no newline at the end
    assert read_jsonl(path) == [(1, "one"), (3, "caf\u00e9")]
    with pytest.raises(AloeError, match=r"missing\.jsonl: file not found"):
        iter_jsonl(tmp_path / "missing.jsonl")  # at the call, before any line is asked for


def test_atomic_path_removes_what_a_killed_writer_left_and_keeps_a_live_writers(tmp_path):
    """A writer killed with SIGKILL leaves its temporary sibling; the next write of the same
    output removes it, and keeps the sibling of a writer still at work (another process)."""
    target = tmp_path / "out.json"
    killed = subprocess.run([sys.executable, "-c", WRITER, str(target), "kill"], capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert len(list(tmp_path.glob(".out.json.*.tmp"))) == 1
    live = subprocess.Popen([sys.executable, "-c", WRITER, str(target), "wait"], stdout=subprocess.PIPE, text=True)
    try:
        live_tmp = live.stdout.readline().strip()  # its temporary path, once it holds the lock
        write_json(target, {"v": 1})
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([Path(live_tmp).parent.name, "out.json"])
    finally:
        live.kill()
        live.wait()
    write_json(target, {"v": 2})
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


WRITER = """
import os, signal, sys, time
from aloe.files import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    tmp.write_text("half")
    if sys.argv[2] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    print(tmp, flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize(
    ("record", "path"),
    [
        ("aloe.evaluation.report.EvalReport", "metrics/aloe/sft.json"),
        ("aloe.conversations.stats.TreeReport", "metrics/trees.json"),
    ],
)
def test_a_committed_report_reads_back_and_a_missing_field_names_the_file(tmp_path, record, path):
    """The stage's committed file reads back whole (to the byte); one field short, it is an error
    naming the file and the stage to rerun."""
    import importlib

    module, name = record.rsplit(".", 1)
    cls = getattr(importlib.import_module(module), name)
    committed = json.loads((REPO / path).read_text())
    assert cls.read(str(REPO / path)).to_json() == committed
    short = tmp_path / "short.json"
    short.write_text(json.dumps({k: v for k, v in committed.items() if k != "calls"}))
    with pytest.raises(AloeError, match=r"short.json: not written by the \w+ stage \(missing calls\); rerun"):
        cls.read(str(short))
