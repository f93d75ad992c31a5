"""Atomic writes, line-numbered JSON Lines reading, and typed records read from JSON files.

Every stage output goes through ``atomic_path``: work happens in a temporary
sibling and is renamed into place only on success, so a killed stage never
leaves a half-written file or directory for DVC or a reader to pick up.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

from aloe.errors import AloeError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``.

    The writer holds a lock in its temporary directory until it is done, so a later write
    of ``path`` can tell a killed writer's leftover (removed) from a live writer's (kept)."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(final)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    target = tmp / final.name
    try:
        with _writer_lock(tmp):
            yield target
            if final.is_dir() and not final.is_symlink():
                shutil.rmtree(final)
            os.replace(target, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


LOCK = ".writer.lock"


@contextlib.contextmanager
def _writer_lock(tmp: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``tmp/.writer.lock`` (the file appears only once it is held,
    so nobody can take a live writer's directory for a leftover in between). On a filesystem
    without locks the write goes on unlocked, and its leftover is never removed."""
    partial = tmp / f"{LOCK}.partial"
    with open(partial, "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX)
        except OSError:
            pass
        else:
            partial.rename(tmp / LOCK)
        yield


def _remove_leftovers(final: Path) -> None:
    """Remove the temporary siblings of ``final`` whose writer is gone.

    SIGKILL (and SIGTERM, which Python does not turn into an exception) skip the
    ``finally`` above, so every kill of a stage while it writes would leave its
    half-written output beside the real one: a half-exported model is gigabytes. The
    kernel drops a dead writer's lock, on this host or (NFS) another; a pid could not
    say that across hosts, containers or a reused pid.
    """
    name = re.compile(rf"\.{re.escape(final.name)}\.[a-z0-9_]+\.tmp")  # mkdtemp's names, no other output's
    for tmp in final.parent.glob(f".{glob.escape(final.name)}.*.tmp"):
        if name.fullmatch(tmp.name) and _abandoned(tmp):
            shutil.rmtree(tmp, ignore_errors=True)


def _abandoned(tmp: Path) -> bool:
    """True once nobody holds ``tmp``'s lock; a directory without one (a writer before this
    lock existed, or another program's) is never taken."""
    try:
        with open(tmp / LOCK) as f:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
    except OSError:  # no lock file, a live writer holds it, or not ours to read
        return False


def write_json(path: str | os.PathLike, obj: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=False, ensure_ascii=False) + "\n")


def write_jsonl(path: str | os.PathLike, records: Iterable[dict]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")


def iter_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, Any]]:
    """``(line_number, value)`` for every non-blank line (lines end at ``\\n``; ``\\r\\n`` is
    read too), read as it goes (a persona import of millions of lines never sits in
    memory); a bad line is named by file:line, an undecodable byte too. A missing file is
    an error at the call, not at the first line."""
    path = Path(path)
    if not path.exists():
        raise AloeError(f"{path}: file not found")
    return _jsonl_lines(path)


def _jsonl_lines(path: Path) -> Iterator[tuple[int, Any]]:
    with open(path, "rb") as f:
        for lineno, data in enumerate(f, start=1):
            try:
                line = data.decode("utf-8")
            except UnicodeDecodeError as e:
                raise AloeError(f"{path}:{lineno}: not UTF-8 text ({e.reason}); JSONL must be plain UTF-8") from None
            if not line.strip():
                continue
            try:
                yield lineno, json.loads(line)
            except json.JSONDecodeError as e:
                raise AloeError(f"{path}:{lineno}: not valid JSON ({e.msg})") from None


def read_jsonl(path: str | os.PathLike) -> list[tuple[int, Any]]:
    """Every line of :func:`iter_jsonl` at once."""
    return list(iter_jsonl(path))


def read_json(path: str | os.PathLike, producer: str) -> Any:
    """The JSON value in ``path``; a missing or broken file is an error naming it and, for a
    missing one, the ``producer`` that writes it."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise AloeError(f"{path}: file not found (run {producer} first)") from None
    except json.JSONDecodeError as e:
        raise AloeError(f"{path}:{e.lineno}: not valid JSON ({e.msg})") from None


def read_record(cls, path: str | os.PathLike, producer: str, record: Any = None):
    """A dataclass ``cls`` from the JSON object in ``path`` (or from ``record``, read from there):
    a field the file lacks is an error naming the file and the ``producer`` to rerun, never a
    ``KeyError`` modules away. Keys the dataclass does not declare are left out."""
    record = read_json(path, producer) if record is None else record
    missing = [f.name for f in fields(cls) if f.name not in record] if isinstance(record, dict) else ["all"]
    if missing:
        raise AloeError(f"{path}: not written by {producer} (missing {', '.join(missing)}); rerun {producer}")
    return cls(**{f.name: record[f.name] for f in fields(cls)})
