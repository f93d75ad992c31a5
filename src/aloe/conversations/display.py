"""Terminal display of one conversation tree (``aloe tree show``); prompts are rendered in aloe.prompts."""

from __future__ import annotations

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from aloe.conversations.records import ConversationTree


def render_tree(record: ConversationTree) -> Group:
    head = Table.grid(padding=(0, 1))
    head.add_row(Text("profile", style="bold"), record.profile)
    head.add_row(Text("personality", style="bold"), record.personality)
    if record.status:
        head.add_row(Text("status", style="bold"), f"{record.status} {record.failure or ''}")
    parts = [Panel(head, title=f"tree {'' if record.id is None else record.id}", border_style="cyan")]
    for k, turn in enumerate(record.conversations, start=1):
        body = Table.grid(padding=(0, 1))
        body.add_row(Text("user", style="bold green"), turn.user)
        if turn.inferred_profile is not None:
            body.add_row(
                Text("inferred", style="dim"),
                Text(f"{turn.inferred_profile} | {turn.inferred_personality or ''}", style="dim"),
            )
        for side, reply in (("preferred", turn.assistant.preferred), ("rejected", turn.assistant.rejected)):
            reply = " / ".join(reply) if isinstance(reply, list) else reply
            tag = f"{side}{' (hinted)' if turn.hinted == side else ''}{' ->' if turn.chosen == side else ''}"
            body.add_row(Text(tag, style="bold yellow" if side == "preferred" else "bold red"), reply)
        judge = turn.judge
        if judge:
            ba = judge.order_ba.reading.verdict if judge.order_ba else "not asked"
            verdicts = f"ab={judge.order_ab.reading.verdict} ba={ba}"
            body.add_row(
                Text("judge", style="bold"),
                f"{verdicts} agree={judge.agree}{' (tie: no pair)' if turn.tie else ''}",
            )
        parts.append(Panel(body, title=f"turn {k}", border_style="dim"))
    return Group(*parts)
