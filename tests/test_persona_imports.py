"""Imported persona pools: PersonaHub-style JSONL and FinePersonas-style Parquet read in
chunks with a field mapping, bad records named by file and line or row, the generation
pool built without reading a whole import, and the rules imported texts are held to."""

import json

import numpy as np
import pandas as pd
import pytest

from aloe.errors import AloeError
from aloe.params import ImportFile, PersonaFilterParams, PersonasParams, load_params
from aloe.personas.filtering import filter_candidates, source_counts
from aloe.personas.generation import starting_pool
from aloe.personas.imports import read_import

# PersonaHub's persona.jsonl: one object per line, the persona under "persona"
PERSONAHUB = [
    {"persona": "A Political Analyst specialized in El Salvador's political landscape and its post-war parties."},
    {"persona": "A maternal health advocate raising awareness about postpartum complications in rural areas."},
    {"persona": "A retired merchant navy engineer who restores diesel engines and teaches apprentices in Gdansk."},
]
# FinePersonas: Parquet with id, persona, labels (a JSON list as a string) and an embedding we never read
FINEPERSONAS = pd.DataFrame(
    {
        "id": ["<urn:1>", "<urn:2>", "<urn:3>"],
        "persona": ["A high school chemistry teacher.", "A data journalist.", None],
        "labels": ['["Education", "Science"]', '["Journalism"]', "[]"],
        "model_name_embeddings": ["Alibaba-NLP/gte-large-en-v1.5"] * 3,
        "embedding": [[0.1] * 4] * 3,
    }
)


def write_jsonl(path, rows) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.fixture
def imports(tmp_path, monkeypatch):
    """A project folder to run in, with its data/imports/ (the only place params accept)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data/imports").mkdir(parents=True)
    return tmp_path / "data/imports"


def test_personahub_jsonl_is_read_in_chunks_with_its_field_and_lines(imports):
    path = imports / "personahub.jsonl"
    write_jsonl(path, [{**PERSONAHUB[0], "labels": ["Politics"]}, PERSONAHUB[1]])
    with open(path, "a") as f:
        f.write("\n" + json.dumps("I am 40 and I fix bicycles in Lyon, where I grew up.") + "\n")  # the paper's format
    spec = ImportFile(path=f"data/imports/{path.name}", text="persona", labels="labels")
    chunks = list(read_import(spec, chunk=2))
    assert [len(c.texts) for c in chunks] == [2, 1]
    assert chunks[0].texts[0] == PERSONAHUB[0]["persona"] and chunks[1].lines == [4]  # the blank line counted
    assert chunks[0].labels == ['["Politics"]', None] and chunks[1].labels == [None]


def test_a_bad_record_is_named_by_line_and_only_once_it_is_reached(imports):
    path = imports / "personahub.jsonl"
    write_jsonl(path, [PERSONAHUB[0], PERSONAHUB[1], {"description": "no persona field"}])
    chunks = read_import(ImportFile(path=f"data/imports/{path.name}", text="persona"), chunk=2)
    assert len(next(chunks).texts) == 2  # streamed: the first chunk comes before line 3 is read
    with pytest.raises(AloeError, match=r"personahub.jsonl:3: field 'persona' must be a non-empty string"):
        next(chunks)
    path.write_text(json.dumps(PERSONAHUB[0]) + "\n{not json\n")
    with pytest.raises(AloeError, match=r"personahub.jsonl:2: not valid JSON"):
        list(read_import(ImportFile(path=f"data/imports/{path.name}", text="persona")))
    path.write_text("\n")
    with pytest.raises(AloeError, match="no persona texts"):
        list(read_import(ImportFile(path=f"data/imports/{path.name}", text="persona")))
    path.write_bytes(json.dumps(PERSONAHUB[0]).encode() + b"\n" + '"Zoë"'.encode("latin-1") + b"\n")
    with pytest.raises(AloeError, match=r"personahub.jsonl:2: not UTF-8 text"):
        list(read_import(ImportFile(path=f"data/imports/{path.name}", text="persona")))
    with pytest.raises(AloeError, match=r"personahub.jsonl: not a Parquet file"):
        list(read_import(ImportFile(path=f"data/imports/{path.name}", text="persona", format="parquet")))


def test_finepersonas_parquet_keeps_labels_and_names_a_bad_row(imports):
    path = imports / "finepersonas.parquet"
    FINEPERSONAS.iloc[:2].to_parquet(path)
    spec = ImportFile(path=f"data/imports/{path.name}", text="persona", labels="labels")
    (chunk,) = read_import(spec)
    assert chunk.texts == ["A high school chemistry teacher.", "A data journalist."]
    assert chunk.lines == [1, 2] and json.loads(chunk.labels[0]) == ["Education", "Science"]
    FINEPERSONAS.to_parquet(path)
    with pytest.raises(AloeError, match=r"finepersonas.parquet: row 3: field 'persona'"):
        list(read_import(spec))
    with pytest.raises(AloeError, match=r"no column 'text' \(columns: id, persona, labels"):
        list(read_import(ImportFile(path=f"data/imports/{path.name}")))


def test_an_import_outside_the_declared_folder_or_unknown_field_is_a_params_error(tmp_path):
    spec = PersonasParams.model_validate({"import_files": {"profile": "data/imports/a.jsonl"}}).import_files
    assert spec.profile == ImportFile(path="data/imports/a.jsonl") and spec.personality is None
    params = tmp_path / "params.yaml"
    for outside in ("/data/personahub.jsonl", "data/imports/../seeds/profiles.jsonl", "data/imports"):
        params.write_text(f"personas:\n  import_files:\n    profile: {outside}\n")
        with pytest.raises(AloeError, match=r"personas.import_files.profile.path: .*not under data/imports/"):
            load_params(params)
    params.write_text("personas:\n  import_files:\n    profile: {path: data/imports/a.jsonl, field: persona}\n")
    with pytest.raises(AloeError, match=r"personas.import_files.profile.field: unknown key"):
        load_params(params)


class OneHot:
    """Texts named "t<k>" embed as the k-th unit vector: equal names are duplicates."""

    def encode(self, texts):
        out = np.zeros((len(texts), 64), dtype=np.float32)
        out[np.arange(len(texts)), [int(t[1:]) for t in texts]] = 1.0
        return out


def test_the_generation_pool_stops_reading_the_import_once_it_is_full():
    def chunks():
        yield ["t0", "t1", "t1"]  # seeds, one duplicate
        yield ["t2", "t3"]
        raise AssertionError("read past the chunk that filled the pool")

    pool, emb = starting_pool(chunks(), OneHot(), threshold=0.6, target=4)
    assert pool == ["t0", "t1", "t2", "t3"] and emb.shape == (4, 64)
    pool, _ = starting_pool(iter([["t0", "t0"], ["t5", "t0"]]), OneHot(), threshold=0.6, target=10)
    assert pool == ["t0", "t5"]  # below target: every chunk read, duplicates across chunks dropped


def test_imported_texts_skip_the_content_rules_only(embedder):
    """PersonaHub's one-line third-person personas carry no person words; as imports they pass
    the content rules, but not the shape rules; generated, the same text is rejected."""
    hub = PERSONAHUB[0]["persona"]
    rows = [
        ("import", hub),
        ("generated", hub.replace("Political", "Senior political")),
        ("import", "A data journalist."),  # too short for a profile
        ("import", "| Name: Ana | Job: nurse | Town: Porto | Hobby: chess and long runs on the beach |"),
    ]
    frame = pd.DataFrame(
        [dict(kind="profile", text=t, status="ok", position=i, source=s) for i, (s, t) in enumerate(rows)]
    )
    reasons = filter_candidates(frame, PersonaFilterParams(), embedder)["reason"].tolist()
    assert pd.isna(reasons[0]) and reasons[1:] == ["rule:no_person", "rule:length", "rule:markup"]
    strict = filter_candidates(frame, PersonaFilterParams(import_rules="all"), embedder)
    assert strict["reason"].tolist()[0] == "rule:no_person"
    counts = source_counts(strict, "profile")
    assert counts["import"] == {
        "candidates": 3,
        "accepted": 0,
        "rejected": {"rule:length": 1, "rule:markup": 1, "rule:no_person": 1},
    }
    assert counts["generated"]["rejected"] == {"rule:no_person": 1}


@pytest.fixture(scope="module")
def embedder(tmp_path_factory):
    from aloe.personas.embeddings import Embedder

    with pytest.MonkeyPatch.context() as env:  # this module's own embedding cache
        env.setenv("ALOE_CACHE_DIR", str(tmp_path_factory.mktemp("emb-cache")))
        yield Embedder()
