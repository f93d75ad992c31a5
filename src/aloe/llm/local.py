"""Local transformers backend: batched, seeded per request, cuda when present.

Why the custom sampler: ``generate(do_sample=True)`` draws every row from one
global RNG, so a request's text would depend on which other requests shared its
batch. :class:`SeededSampler` gives each row its own ``torch.Generator`` seeded
from the request and picks the token itself; ``generate`` then runs greedily
over its choice. Batches are formed from the requests alone (sorted by prompt
length, then chunked), so the same inputs give the same outputs on a rerun.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig, LogitsProcessor

from aloe.llm.base import ChatRequest, ChatResult
from aloe.model_refs import check_hub_reachable, resolve
from aloe.params import TransformersBackendParams
from aloe.tokenizers import prepare_tokenizer


class SeededSampler(LogitsProcessor):
    """Temperature + top-p sampling with one RNG per batch row."""

    def __init__(self, requests: list[ChatRequest]):
        self.requests = requests
        self.generators = [torch.Generator().manual_seed(r.seed) for r in requests]

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        chosen = torch.empty(len(self.requests), dtype=torch.long)
        logits = scores.float().cpu()
        for i, (req, gen) in enumerate(zip(self.requests, self.generators, strict=True)):
            if req.temperature == 0:
                chosen[i] = int(torch.argmax(logits[i]))
                continue
            probs = torch.softmax(logits[i] / req.temperature, dim=-1)
            if req.top_p < 1.0:
                sorted_p, order = torch.sort(probs, descending=True)
                keep = torch.cumsum(sorted_p, 0) - sorted_p < req.top_p
                probs = torch.zeros_like(probs).scatter(0, order[keep], sorted_p[keep])
            chosen[i] = int(torch.multinomial(probs, 1, generator=gen))
        out = torch.full_like(scores, float("-inf"))
        out[torch.arange(len(chosen)), chosen.to(scores.device)] = 0.0
        return out


def fingerprint(model_dir: Path) -> str:
    """Hash of the weights and tokenizer files: the model's identity in cache keys."""
    h = hashlib.sha256()
    for f in sorted(model_dir.iterdir()):
        if f.suffix in (".safetensors", ".json", ".jinja", ".model", ".txt") and f.is_file():
            h.update(f.name.encode())
            with open(f, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 24), b""):
                    h.update(block)
    return h.hexdigest()[:16]


def resolve_device_dtype(cfg: TransformersBackendParams) -> tuple[str, torch.dtype]:
    """What ``auto`` means on this machine: cuda + bf16 when a GPU is present, else cpu + fp32."""
    device = cfg.device if cfg.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = {
        "auto": torch.bfloat16 if device == "cuda" else torch.float32,
        "float32": torch.float32,
        "bfloat16": torch.bfloat16,
        "float16": torch.float16,
    }[cfg.dtype]
    return device, dtype


class TransformersBackend:
    def __init__(self, cfg: TransformersBackendParams, name: str = "local"):
        self.cfg = cfg
        self.name = name
        self.chunk_size = cfg.batch_size * 4
        self.continues_prefill = True  # see _prompt
        self.ref = resolve(cfg.model, f"llm.backends.{name}.model")
        self.device, self.dtype = resolve_device_dtype(cfg)
        # Everything that changes the tokens this backend produces is in its identity,
        # hence in every cache key: a changed weight, device, dtype or library misses the cache.
        weights = fingerprint(self.ref.path) if self.ref.local else f"{cfg.model}@{cfg.revision or 'main'}"
        self.model_id = (
            f"transformers:{weights}:{self.device}:{str(self.dtype).removeprefix('torch.')}"
            f":rp{cfg.repetition_penalty}:torch-{torch.__version__}"
            f":transformers-{transformers.__version__}"
        )
        self._model = None
        self._tokenizer = None

    def _load(self) -> None:
        """Load lazily: a stage whose calls are all cached never loads weights."""
        if not self.ref.local:
            check_hub_reachable(self.ref, f"llm.backends.{self.name}.model", self.cfg.revision)
        self._tokenizer = prepare_tokenizer(
            AutoTokenizer.from_pretrained(self.cfg.model, revision=self.cfg.revision, padding_side="left"),
            f"llm.backends.{self.name}.model: {self.cfg.model}",
        )
        self._model = (
            AutoModelForCausalLM.from_pretrained(self.cfg.model, revision=self.cfg.revision, dtype=self.dtype)
            .to(self.device)
            .eval()
        )

    def generate(self, requests: list[ChatRequest]) -> list[ChatResult]:
        if not requests:
            return []
        if self._model is None:
            self._load()
        prompts = [self._prompt(r) for r in requests]
        order = sorted(range(len(requests)), key=lambda i: (len(prompts[i]), i))
        results: list[ChatResult | None] = [None] * len(requests)
        bs = self.cfg.batch_size
        for start in range(0, len(order), bs):
            idx = order[start : start + bs]
            batch = self._generate_batch([requests[i] for i in idx], [prompts[i] for i in idx])
            for i, res in zip(idx, batch, strict=True):
                results[i] = res
        return results  # type: ignore[return-value]

    def _prompt(self, request: ChatRequest) -> list[int]:
        """The request's token ids. A trailing assistant message is a prefill: the model
        continues it rather than starting a new turn."""
        prefill = request.messages[-1][0] == "assistant"
        ids = self._tokenizer.apply_chat_template(
            request.message_dicts(),
            tokenize=True,
            add_generation_prompt=not prefill,
            continue_final_message=prefill,
        )
        return ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids

    @torch.inference_mode()
    def _generate_batch(self, requests: list[ChatRequest], prompts: list[list[int]]) -> list[ChatResult]:
        tok, model = self._tokenizer, self._model
        batch = tok.pad({"input_ids": prompts}, return_tensors="pt").to(model.device)
        eos = model.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [tok.eos_token_id])
        config = GenerationConfig(
            max_new_tokens=max(r.max_tokens for r in requests),
            do_sample=False,
            repetition_penalty=self.cfg.repetition_penalty,
            eos_token_id=sorted(eos_ids),
            pad_token_id=tok.pad_token_id,
            return_dict_in_generate=True,
            output_logits=any(r.top_logprobs for r in requests),
        )
        out = model.generate(**batch, generation_config=config, logits_processor=[SeededSampler(requests)])
        new_tokens = out.sequences[:, batch["input_ids"].shape[1] :].tolist()
        results = []
        for row, (req, prompt, toks) in enumerate(zip(requests, prompts, new_tokens, strict=True)):
            toks = toks[: req.max_tokens]
            stop = next((k for k, t in enumerate(toks) if t in eos_ids), None)
            text_toks = toks if stop is None else toks[:stop]
            results.append(
                ChatResult(
                    text=tok.decode(text_toks, skip_special_tokens=True).strip(),
                    finish_reason="length" if stop is None else "stop",
                    prompt_tokens=len(prompt),
                    completion_tokens=len(text_toks) + (0 if stop is None else 1),
                    logprobs=self._top_logprobs(out.logits, row, text_toks, req.top_logprobs)
                    if req.top_logprobs
                    else None,
                )
            )
        return results

    def _top_logprobs(self, logits: tuple, row: int, generated: list[int], k: int) -> list[dict]:
        """The k likeliest tokens at every generated position, as the OpenAI API reports them."""
        decode = self._tokenizer.decode
        positions = []
        for pos, token in enumerate(generated):
            top = torch.topk(torch.log_softmax(logits[pos][row].float(), dim=-1), k)
            positions.append(
                {
                    "token": decode([token]),
                    "top": [
                        [decode([t]), round(v, 6)]
                        for v, t in zip(top.values.tolist(), top.indices.tolist(), strict=True)
                    ],
                }
            )
        return positions

    def close(self) -> None:
        self._model = None
        self._tokenizer = None
