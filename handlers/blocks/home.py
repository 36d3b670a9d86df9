"""The App Home tab: how to use Draftbot, your month so far, and a button for the form."""

from __future__ import annotations

from typing import Any

from bot import wording
from bot.budgets import BudgetStatus
from bot.prompts import PromptLibrary
from bot.slack_ids import SECTION_LIMIT
from handlers.blocks.message import context, section
from handlers.blocks.previews import kind_lines
from handlers.blocks.reports import usage_text
from handlers.blocks.text import split_markdown

OPEN_FORM_ACTION = "home_open_form"


def home_view(library: PromptLibrary, command: str, status: BudgetStatus) -> dict[str, Any]:
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
        {"type": "divider"},
        section(wording.HOME_KINDS_HEADING),
        *(section(part) for part in split_markdown(kind_lines(library, command), SECTION_LIMIT)),
        context(wording.HOME_TIPS.format(command=command)),
    ]
    return {"type": "home", "blocks": blocks}
