from pathlib import Path

from click.testing import CliRunner

from aloe.cli import main

PAPER_FILE = Path(__file__).parent / "data" / "paper_conversations.jsonl"


def test_tree_show_prints_both_replies_and_the_branch():
    result = CliRunner().invoke(main, ["tree", "show", str(PAPER_FILE), "-n", "0"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Long shift today" in result.output and "Rest is important" in result.output
    assert "rejected ->" in result.output  # turn 1 continued with the rejected reply
    assert "turn 2" in result.output


def test_tree_show_out_of_range_is_a_clear_error():
    result = CliRunner().invoke(main, ["tree", "show", str(PAPER_FILE), "-n", "9"])
    assert result.exit_code != 0 and "has 2 trees" in result.output


def test_check_params_names_the_bad_key(tmp_path):
    (tmp_path / "p.yaml").write_text("sft: {epocs: 2}\n")
    result = CliRunner().invoke(main, ["check-params", str(tmp_path / "p.yaml")])
    assert result.exit_code != 0 and "sft: " in result.output and "epocs: not a field of trl.SFTConfig" in result.output
