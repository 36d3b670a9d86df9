"""The App Home tab: how to use Draftbot, your month so far, and a button for the form."""

from __future__ import annotations

from typing import Any

from bot import wording
from bot.audit import change_text
from bot.budgets import BudgetStatus
from bot.prompts import PromptLibrary
from bot.slack_ids import SECTION_LIMIT, channel_argument, is_user_id
from handlers.blocks.history import history_blocks
from handlers.blocks.message import context, section
from handlers.blocks.previews import kind_lines
from handlers.blocks.reports import usage_text
from handlers.blocks.text import escape, split_markdown

OPEN_FORM_ACTION = "home_open_form"


def home_view(
    library: PromptLibrary,
    command: str,
    status: BudgetStatus,
    admin_changes: list[dict[str, Any]] | None = None,
    drafts: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """`admin_changes`: the newest changes admins made, shown to admins only; `drafts`: the
    person's recent drafts (None: they could not be read, so the section is left out)."""
    intro = section(wording.HOME_INTRO.format(command=command))
    intro["accessory"] = {
        "type": "button",
        "action_id": OPEN_FORM_ACTION,
        "style": "primary",
        "text": {"type": "plain_text", "text": wording.LABEL_OPEN_FORM},
    }
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": wording.HOME_HEADER}},
        intro,
        section(usage_text(status)),
        *([{"type": "divider"}, *history_blocks(drafts, command)] if drafts is not None else []),
        {"type": "divider"},
        section(wording.HOME_KINDS_HEADING),
        *(section(part) for part in split_markdown(kind_lines(library, command), SECTION_LIMIT)),
        context(wording.HOME_TIPS.format(command=command)),
    ]
    if admin_changes is not None:
        blocks += [{"type": "divider"}, section(_changes_text(admin_changes))]
    return {"type": "home", "blocks": blocks}


def _changes_text(changes: list[dict[str, Any]]) -> str:
    if not changes:
        return f"{wording.HOME_ADMIN_CHANGES}\n{wording.HOME_NO_ADMIN_CHANGES}"
    lines = [
        wording.HOME_ADMIN_CHANGE.format(
            when=row["changed_at"][:16].replace("T", " "),
            actor=f"<@{row['actor']}>" if is_user_id(row["actor"]) else escape(row["actor"]),
            setting=escape(row["setting"]),
            subject=_who_or_where(row["subject"]),
            change=change_text(row["setting"], row["old_value"], row["new_value"]),
        )
        for row in changes
    ]
    return "\n".join([wording.HOME_ADMIN_CHANGES, *lines])


def _who_or_where(subject: str) -> str:
    """A person's or a channel's id as Slack shows it (a mention), anything else as text."""
    if is_user_id(subject):
        return f"<@{subject}>"
    if channel_argument(subject) is not None:
        return f"<#{subject}>"
    return escape(subject)
