"""Conversations with the simulated user that GRPO trains on, played by the policy being trained.

An episode is one training persona talking to the policy: the user simulator (the role that
grows the trees, told the hidden persona, through the LLM layer) speaks, the policy replies,
the simulator answers that reply, for ``grpo.turns`` turns; then, where ``persona_recovery``
is a reward, the user asks what the policy has learned about them (:mod:`aloe.roles.recovery`).

Each trained turn is one row of the GRPO dataset (:func:`episode_rows`): its prompt is the
conversation so far, the policy writes ``num_generations`` replies to it, each is rewarded,
and the conversation goes on from the first (the replies are independent samples, so the first
is a random one). So the simulator's words are only ever in a prompt, never in a completion:
no token of theirs is trained on, and no ``env_mask`` is needed. Turns no reward applies to
are played with one sample and not trained. Rows come in order (episode, turn, persona), so a
turn's conversation is complete when its row is generated.

The conversations are kept per episode as (user message, chosen reply) turns and written into
every checkpoint (:class:`EpisodeCheckpoint`): a resumed run continues them, and re-playing a
turn after a resume overwrites that turn and the ones after it. The simulator's calls go
through the response cache, so a resumed run pays for none twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import TrainerCallback
from transformers.trainer_utils import get_last_checkpoint
from trl.models.utils import unwrap_model_for_generation

from aloe.llm.client import LLM
from aloe.personas.rows import Persona
from aloe.roles.recovery import recovery_messages
from aloe.roles.simulator import SimulatorAsk, UserSimulator

STATE_FILE = "episodes.json"


@dataclass(frozen=True)
class Row:
    persona_id: str
    episode: int
    turn: int  # 0-based; == turns for the recovery question

    @property
    def key(self) -> str:
        return f"{self.persona_id}/{self.episode}/{self.turn}"

    @classmethod
    def parse(cls, key: str) -> Row:
        persona_id, episode, turn = key.rsplit("/", 2)
        return cls(persona_id, int(episode), int(turn))


def episode_rows(personas: list[Persona], episodes: int, turns: int, reply_turns: bool, recovery: bool) -> list[dict]:
    """The GRPO dataset: one row per trained turn, in the order the conversations need."""
    trained = [*(range(turns) if reply_turns else ()), *((turns,) if recovery else ())]
    return [{"prompt": Row(p.persona_id, e, t).key} for e in range(episodes) for t in trained for p in personas]


class Episodes:
    """The rollout GRPOTrainer calls (``rollout_func``): plays each row's conversation up to its
    turn, then samples ``num_generations`` completions for it."""

    def __init__(self, llm: LLM, personas: list[Persona], turns: int, user, seed: int, reference: bool):
        self.llm, self.turns, self.seed = llm, turns, seed
        self.personas = {p.persona_id: p for p in personas}
        self.user = user  # UserSimulator
        self.reference = reference  # also write the start policy's reply (judge_pairwise)
        self.played: dict[str, list[dict]] = {}  # episode -> [{"user": ..., "reply": ...}] per turn
        self.recovered: dict[str, str] = {}  # episode -> the first of its answers to the recovery question
        self.stopped: dict[str, str] = {}  # episode -> why the simulator stopped it
        self.sampled: dict[str, list[dict]] = {}  # row -> its completions, each with its rewards

    def __call__(self, prompts: list[str], trainer) -> dict:
        """trl hands over each prompt ``num_generations`` times in a row (one process); the
        completions come back in the prompts' order, played turn by turn."""
        rows = [Row.parse(p) for p in prompts[:: trainer.num_generations]]
        groups: list = [None] * len(rows)  # per row: its fields, one entry per completion
        for turn in sorted({r.turn for r in rows}):
            wave = [i for i, r in enumerate(rows) if r.turn == turn]
            self.advance([rows[i] for i in wave], turn, trainer)
            chats = [self.chat(rows[i], turn) for i in wave]
            samples = generate(trainer, chats, trainer.num_generations)
            references = generate(trainer, chats, 1, start_policy=True) if self.reference else None
            for n, (i, group) in enumerate(zip(wave, samples, strict=True)):
                r, kind = rows[i], self.kind(rows[i])
                if kind != "stopped":
                    self.sampled[r.key] = [{"text": text, "rewards": {}} for _, _, text in group]
                if kind == "reply":  # the conversation goes on from the first sample
                    self.played[self.episode(r)][turn]["reply"] = group[0][2]
                elif kind == "recovery":
                    self.recovered[self.episode(r)] = group[0][2]
                persona = self.personas[r.persona_id]
                shared = {
                    "kind": kind,
                    "profile": persona.profile,
                    "personality": persona.personality,
                    "user_message": chats[n][-1]["content"],
                    "reference_reply": references[n][0][2] if references else None,
                    "row": r.key,
                }
                groups[i] = [
                    {"prompt_ids": p, "completion_ids": c, "sample": j, **shared} for j, (p, c, _) in enumerate(group)
                ]
        completions = [c for group in groups for c in group]
        return {"logprobs": None, **{k: [c[k] for c in completions] for k in completions[0]}}

    def note(self, name: str, rows: list[str], samples: list[int], values: list[float | None]) -> None:
        """Reward ``name`` of each completion (its row and its index in the row's group, as
        the rollout handed them over), kept beside its text for the episode records."""
        for key, j, value in zip(rows, samples, values, strict=True):
            if key in self.sampled:  # a stopped episode's row is not kept
                self.sampled[key][j]["rewards"][name] = value

    def episode(self, row: Row) -> str:
        return f"{row.persona_id}/{row.episode}"

    def live(self, row: Row) -> bool:
        return self.episode(row) not in self.stopped

    def kind(self, row: Row) -> str:
        """What a row's completions are: a reply, the recovery answer, or nothing to reward."""
        if not self.live(row):
            return "stopped"
        return "recovery" if row.turn == self.turns else "reply"

    def chat(self, row: Row, turn: int) -> list[dict]:
        """The policy's chat at ``turn`` of the row's episode: the turns before it, then the user's
        message (the recovery question after the last turn, or where the simulator stopped)."""
        played = self.played.get(self.episode(row), [])
        history = []
        for t in played[: min(turn, len(played))]:
            history += [{"role": "user", "content": t["user"]}, {"role": "assistant", "content": t["reply"]}]
        if turn == self.turns or turn >= len(played):
            return recovery_messages(history)
        return [*history, {"role": "user", "content": played[turn]["user"]}]

    def advance(self, wave: list[Row], turn: int, trainer) -> None:
        """Play every episode of ``wave`` up to ``turn``: the user's messages through the
        simulator, and the replies of turns not trained with one sample of the policy. A turn
        played again (a resumed run) is played anew from there."""
        for r in wave:
            played = self.played.setdefault(self.episode(r), [])
            del played[turn + 1 :]
            if turn < len(played):
                played[turn]["reply"] = None
        for k in range(min(turn, self.turns - 1) + 1):
            self.ask_user([r for r in wave if self.live(r) and len(self.played[self.episode(r)]) == k], k)
            unreplied = [
                r for r in wave if k < turn and self.live(r) and self.played[self.episode(r)][k]["reply"] is None
            ]
            replies = generate(trainer, [self.chat(r, k) for r in unreplied], 1)
            for r, [(_, _, text)] in zip(unreplied, replies, strict=True):
                self.played[self.episode(r)][k]["reply"] = text

    def ask_user(self, rows: list[Row], turn: int) -> None:
        items = [
            SimulatorAsk(tuple(self.simulator_chat(r, turn)), (self.seed, r.persona_id, r.episode, turn, "user"))
            for r in rows
        ]
        for r, answer in zip(rows, self.user.ask(self.llm, items), strict=True):
            if answer.value is None:
                self.stopped[self.episode(r)] = f"turn {turn + 1}: the user simulator gave no usable message"
            else:
                self.played[self.episode(r)].append({"user": answer.value, "reply": None})

    def simulator_chat(self, row: Row, turn: int) -> list[dict]:
        persona = self.personas[row.persona_id]
        chat = UserSimulator.opening(persona.profile, persona.personality)
        for played in self.played[self.episode(row)][:turn]:
            chat = UserSimulator.follow_up(chat, played["user"], played["reply"])
        return chat

    def state(self) -> dict:
        return {"played": self.played, "recovered": self.recovered, "stopped": self.stopped, "sampled": self.sampled}

    def restore(self, state: dict) -> None:
        self.played, self.recovered, self.stopped = state["played"], state["recovered"], state["stopped"]
        self.sampled = state.get("sampled", {})  # a checkpoint from before samples were kept

    def records(self) -> list[dict]:
        """One line per episode played: its turns (the user's message, the reply the
        conversation went on from and, on a trained turn, every sampled reply with each of its
        rewards), its answer to the recovery question (and its samples), why it stopped early."""
        out = []
        for name, turns in sorted(self.played.items()):
            persona_id = name.rsplit("/", 1)[0]
            samples = [self.sampled.get(f"{name}/{k}") for k in range(self.turns + 1)]
            out.append(
                {
                    "episode": name,
                    "persona_id": persona_id,
                    "turns": [{**t, "samples": samples[k]} for k, t in enumerate(turns)],
                    "recovery_answer": self.recovered.get(name),
                    "recovery_samples": samples[self.turns],
                    "stopped": self.stopped.get(name),
                }
            )
        return out


def generate(trainer, chats: list[list[dict]], n: int, start_policy: bool = False) -> list[list[tuple]]:
    """``n`` sampled completions per chat from the policy (greedy from the start policy, the
    LoRA adapter off): per chat, (prompt ids, completion ids up to and with the first EOS, text)."""
    if not chats:
        return []
    tokenizer = trainer.processing_class
    texts = [tokenizer.apply_chat_template(c, add_generation_prompt=True, tokenize=False) for c in chats]
    prompts = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
    repeated = [p for p in prompts for _ in range(n)]
    width = max(map(len, repeated))
    pad = tokenizer.pad_token_id
    ids = torch.tensor([[pad] * (width - len(p)) + p for p in repeated])
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in repeated])
    config = trainer.generation_config
    with unwrap_model_for_generation(trainer.model_wrapped, trainer.accelerator) as model, torch.no_grad():
        if start_policy:
            with model.disable_adapter():
                out = model.generate(input_ids=ids, attention_mask=mask, generation_config=config, do_sample=False)
        else:
            out = model.generate(input_ids=ids, attention_mask=mask, generation_config=config)
    eos = set(trainer.eos_token_ids)
    samples = []
    for row, p in zip(out[:, width:].tolist(), repeated, strict=True):
        end = next((i + 1 for i, t in enumerate(row) if t in eos), len(row))
        completion = row[:end]
        samples.append((p, completion, tokenizer.decode(completion, skip_special_tokens=True).strip()))
    return [samples[i * n : (i + 1) * n] for i in range(len(chats))]


class EpisodeCheckpoint(TrainerCallback):
    """Writes the conversations into every checkpoint; a resumed run reads them back from the
    checkpoint it resumes (the last one, as :func:`aloe.training.fit.resume_point` picks)."""

    def __init__(self, episodes: Episodes):
        self.episodes = episodes

    def on_save(self, args, state, control, **kw):
        if state.is_world_process_zero:
            path = Path(args.output_dir) / f"checkpoint-{state.global_step}" / STATE_FILE
            path.write_text(json.dumps(self.episodes.state()))

    def on_train_begin(self, args, state, control, **kw):
        last = get_last_checkpoint(args.output_dir) if Path(args.output_dir).is_dir() else None
        if last and (Path(last) / STATE_FILE).exists():
            self.episodes.restore(json.loads((Path(last) / STATE_FILE).read_text()))
