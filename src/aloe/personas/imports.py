"""Imported persona pools (``personas.import_files``), read in chunks.

Public sets hold hundreds of thousands to millions of personas (PersonaHub's 200k
release; FinePersonas' 21M), usually with fields we do not use. The reader never
holds a whole file: it yields chunks of the mapped fields only, JSONL line by line,
Parquet by record batches of the needed columns. A bad record stops the import
with its file and line (JSONL) or row (Parquet), before any LLM call.

Accepted records: a JSON string (the paper's released format) or an object whose
``text`` field (``persona`` for PersonaHub and FinePersonas) is a non-empty string;
``labels`` (FinePersonas' topic labels) is kept beside the text, as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from aloe.errors import AloeError
from aloe.files import iter_jsonl
from aloe.params import ImportFile

CHUNK = 50_000  # records per chunk: ~20 MB of persona text


@dataclass
class ImportChunk:
    """Consecutive records of one file: their texts, 1-based lines (rows), labels."""

    texts: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    labels: list[str | None] = field(default_factory=list)

    def add(self, text: str, line: int, labels: str | None) -> None:
        self.texts.append(text)
        self.lines.append(line)
        self.labels.append(labels)


def read_import(spec: ImportFile, chunk: int = CHUNK) -> Iterator[ImportChunk]:
    """Chunks of ``spec``'s records, in file order; an empty file is an error."""
    path = Path(spec.path)
    if not path.is_file():
        raise AloeError(f"{path}: file not found")
    parquet = spec.format == "parquet" or (spec.format == "auto" and path.suffix in (".parquet", ".pq"))
    records = _parquet_records(path, spec) if parquet else _jsonl_records(path, spec)
    out, seen = ImportChunk(), 0
    for text, line, labels in records:
        out.add(text, line, labels)
        seen += 1
        if len(out.texts) == chunk:
            yield out
            out = ImportChunk()
    if out.texts:
        yield out
    if not seen:
        raise AloeError(f"{path}: no persona texts (the file is empty)")


def _text(value, where: str, spec: ImportFile) -> str:
    if not isinstance(value, str) or not value.strip():
        raise AloeError(f"{where}: field {spec.text!r} must be a non-empty string, got {value!r:.80}")
    return value.strip()


def _labels(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _jsonl_records(path: Path, spec: ImportFile) -> Iterator[tuple[str, int, str | None]]:
    for line, value in iter_jsonl(path):
        where = f"{path}:{line}"
        if isinstance(value, str):  # the paper's format
            yield _text(value, where, spec), line, None
        elif isinstance(value, dict):
            labels = _labels(value.get(spec.labels)) if spec.labels else None
            yield _text(value.get(spec.text), where, spec), line, labels
        else:
            raise AloeError(f"{where}: expected a JSON string or an object with {spec.text!r}")


def _parquet_records(path: Path, spec: ImportFile) -> Iterator[tuple[str, int, str | None]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(path)
    except pa.ArrowInvalid as e:
        raise AloeError(f"{path}: not a Parquet file ({e}); set format: jsonl for JSON Lines") from None
    columns = [spec.text, *([spec.labels] if spec.labels else [])]
    missing = [c for c in columns if c not in file.schema_arrow.names]
    if missing:
        raise AloeError(f"{path}: no column {missing[0]!r} (columns: {', '.join(file.schema_arrow.names)})")
    row = 0
    for batch in file.iter_batches(batch_size=CHUNK, columns=columns):
        texts = batch.column(spec.text).to_pylist()
        labels = batch.column(spec.labels).to_pylist() if spec.labels else [None] * len(texts)
        for text, label in zip(texts, labels, strict=True):
            row += 1
            yield _text(text, f"{path}: row {row}", spec), row, _labels(label)
