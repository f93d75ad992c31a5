"""Parsing role outputs and flattening conversations into DPO/SFT rows."""

from pathlib import Path

import pytest

from aloe.conversations.pairs import Artifacts, flatten, load_conversations, validation_ids
from aloe.conversations.records import ConversationTree
from aloe.errors import AloeError
from aloe.roles.clean import clean_message
from aloe.roles.inducer import parse_inducer

PAPER_FILE = Path(__file__).parent / "data" / "paper_conversations.jsonl"


def test_clean_message_strips_actions_and_speakers():
    assert clean_message('A: *waves* "Hey there, long day!"') == "Hey there, long day!"
    assert clean_message("*smiles*") is None


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Profile: She is a nurse.\nPersonality: None", ("She is a nurse.", "None")),
        ("**Profile** - a nurse in Leeds\n**Personalities**: chatty, warm", ("a nurse in Leeds", "chatty, warm")),
        ("profile:\npersonality:", ("None", "None")),
        ("Profile: a nurse in Leeds.", ("a nurse in Leeds.", "None")),
        ("I think she is a nurse.", None),
    ],
)
def test_parse_inducer(text, expected):
    assert parse_inducer(text) == expected


def test_paper_file_flattens_to_exact_prompts():
    records = load_conversations(PAPER_FILE)
    dpo, sft, dropped = flatten(records[0])
    u1 = {"role": "user", "content": "Long shift today, my feet are killing me!"}
    # turn 1 continued with the *rejected* reply, so turn 2's prompt carries it
    a1 = {"role": "assistant", "content": "I'm sorry to hear that. Rest is important."}
    u2 = {"role": "user", "content": "Ha, thanks. Thinking of a spa day on Sunday."}
    assert [r.prompt for r in dpo] == [[u1], [u1, a1, u2]]
    assert dpo[0].chosen == [
        {"role": "assistant", "content": "Oof, twelve hours on a ward? Put those feet up, you earned it!"}
    ]
    assert dpo[0].rejected == [a1]
    assert dpo[1].chosen == [{"role": "assistant", "content": "Yes! A spa day sounds perfect, treat yourself."}]
    assert dpo[1].rejected == [{"role": "assistant", "content": "Spa days are relaxing."}]
    assert dropped == {"ties": 0, "identical": 1, "below_min_margin": 0}  # 2nd rejected equals preferred
    assert [r.prompt for r in sft] == [[u1], [u1, a1, u2]]
    assert sft[1].completion == dpo[1].chosen
    assert all(r.prompt[-1]["role"] == "user" for r in dpo + sft)
    assert {r.conversation_id for r in dpo} == {dpo[0].conversation_id}


def test_ties_are_dropped_and_history_still_follows_the_branch():
    rec = {
        "conversations": [
            {"user": "u1", "assistant": {"preferred": "p1", "rejected": "r1"}, "chosen": "preferred", "tie": True},
            {"user": "u2", "assistant": {"preferred": "p2", "rejected": "r2"}, "chosen": "rejected"},
        ],
        "id": "x",
    }
    dpo, sft, dropped = flatten(ConversationTree.from_json(rec))
    assert dropped["ties"] == 1 and len(dpo) == 1 and len(sft) == 1
    assert [m["content"] for m in dpo[0].prompt] == ["u1", "p1", "u2"]


def test_malformed_conversation_names_file_and_line(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text(PAPER_FILE.read_text() + '{"profile": "x", "conversations": [{"user": "hi"}]}\n')
    with pytest.raises(AloeError, match=r"c\.jsonl:3: turn 1 needs"):
        load_conversations(path)


def test_validation_split_is_by_conversation_and_deterministic():
    ids = [f"conv-{i}" for i in range(400)]
    held = validation_ids(ids, 0.25, seed=0)
    assert held == validation_ids(list(reversed(ids)), 0.25, seed=0)
    assert 60 < len(held) < 140
    assert held != validation_ids(ids, 0.25, seed=1)


def test_small_runs_hold_out_one_conversation_and_train_on_the_rest():
    assert len(validation_ids(["a", "b", "c"], 0.01, seed=0)) == 1
    assert len(validation_ids(["a", "b"], 0.99, seed=0)) == 1  # never everything
    assert validation_ids(["a"], 0.99, seed=0) == set()
    assert validation_ids(["a", "b"], 0.0, seed=0) == set()


def test_the_released_training_bugs_repeat_the_first_user_message_and_cut_rejected_to_a_character():
    """pairs.repeat_first_user / pairs.rejected_one_character (the faithful preset): off, the rows
    are as the file says (the test above); on, the SFT prompt's user turns are all the first
    message, and DPO trains against random.choice(rejected): one character of a string, one
    reply of a list, the same on every run."""
    record = load_conversations(PAPER_FILE)[0]
    on = Artifacts(repeat_first_user=True, rejected_one_character=True, seed=0)
    dpo, sft, _ = flatten(record, artifacts=on)
    u1 = "Long shift today, my feet are killing me!"
    assert [m["content"] for m in sft[1].prompt if m["role"] == "user"] == [u1, u1]
    assert sft[1].prompt[1]["content"] == "I'm sorry to hear that. Rest is important."  # assistant turns stay
    assert dpo[1].prompt[-1]["content"] == "Ha, thanks. Thinking of a spa day on Sunday."  # DPO prompts stay
    first = "I'm sorry to hear that. Rest is important."  # a string: one character of it
    assert len(dpo[0].rejected[0]["content"]) == 1 and dpo[0].rejected[0]["content"] in first
    listed = ["Spa days are relaxing.", "Yes! A spa day sounds perfect, treat yourself."]  # a list: one whole reply
    assert len(dpo) == 2 and dpo[1].rejected[0]["content"] == listed[0]  # (the seed picked the other one)
    cut = [r.rejected[0]["content"] for r in dpo]
    assert cut == [r.rejected[0]["content"] for r in flatten(record, artifacts=on)[0]]
