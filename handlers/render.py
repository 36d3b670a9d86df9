"""Block Kit for everything Draftbot shows in Slack: pure functions from drafts to payloads."""

from __future__ import annotations

import re
from typing import Any

from bot import wording
from bot.budgets import BudgetStatus
from bot.drafting import Draft
from bot.prompts import PromptKind, PromptLibrary
from bot.refinements import REFINEMENTS, TONES

# Slack limits (../shared/FACTS.md): a `markdown` block's text is limited to 12,000
# characters cumulative per message; section text to 3,000.
MARKDOWN_LIMIT = 12_000
SECTION_LIMIT = 3_000
EDIT_LIMIT = 3_000  # a plain_text_input holds at most 3,000 characters
_FENCE = re.compile(r"^\s*(```|~~~)")

Payload = dict[str, Any]

# A word joiner after "@" keeps the text readable but stops Slack from notifying anyone.
_WORD_JOINER = "\u2060"
_BROADCAST_TOKEN = re.compile(r"<!(channel|here|everyone)(?:\|[^>]*)?>", re.IGNORECASE)
_SUBTEAM_TOKEN = re.compile(r"<!subteam\^[A-Z0-9]+(?:\|@?([^>]*))?>", re.IGNORECASE)
_BROADCAST_WORD = re.compile(r"(?<![\w@])@(channel|here|everyone)\b", re.IGNORECASE)


def neutralize_mentions(text: str) -> str:
    """Make `<!here>`, `<!channel>`, `<!everyone>`, `@here`… and user-group mentions inert."""
    text = _BROADCAST_TOKEN.sub(lambda m: f"@{_WORD_JOINER}{m.group(1).lower()}", text)
    text = _SUBTEAM_TOKEN.sub(lambda m: f"@{_WORD_JOINER}{m.group(1) or 'group'}", text)
    return _BROADCAST_WORD.sub(lambda m: f"@{_WORD_JOINER}{m.group(1)}", text)


def split_markdown(text: str, limit: int = MARKDOWN_LIMIT) -> list[str]:
    """Split Markdown into parts of at most `limit` characters.

    Splits between lines, preferring a blank line outside code, and closes/reopens a code
    fence that spans a split so every part renders (and copies) correctly on its own.
    """
    if len(text) <= limit:
        return [text]
    reserve = 16  # room for a closing fence and its newline
    parts: list[str] = []
    lines: list[str] = []  # the part being built
    breaks: list[int] = []  # indexes in `lines` just after a blank line outside any fence
    size = 0
    fence: str | None = None  # the opening line of the fence we are inside, if any

    def flush() -> None:
        nonlocal lines, breaks, size
        cut = (
            breaks[-1] if fence is None and breaks and breaks[-1] > len(lines) // 2 else len(lines)
        )
        head, tail = lines[:cut], lines[cut:]
        body = "".join(head).rstrip("\n")
        if fence is not None and not tail:
            body += "\n```"
        parts.append(body)
        lines = ([fence] if fence is not None and not tail else []) + tail
        breaks = []
        size = sum(len(line) for line in lines)

    for raw in _hard_wrap(text.splitlines(keepends=True), limit - reserve - 80):
        if size + len(raw) > limit - reserve and lines:
            flush()
        line = raw if raw.endswith("\n") else raw + "\n"
        lines.append(line)
        size += len(line)
        if _FENCE.match(raw):
            fence = None if fence is not None else line
        elif fence is None and not raw.strip():
            breaks.append(len(lines))
    if lines:
        parts.append("".join(lines).rstrip("\n"))
    return [part for part in parts if part.strip()]


def _hard_wrap(lines: list[str], width: int) -> list[str]:
    wrapped: list[str] = []
    for line in lines:
        while len(line) > width:
            wrapped.append(line[:width] + "\n")
            line = line[width:]
        wrapped.append(line)
    return wrapped


def working_text(kind: PromptKind) -> str:
    return wording.WORKING.format(kind=kind.name)


def needs_details_text(kind: PromptKind, command: str) -> str:
    return wording.NEEDS_DETAILS.format(kind=kind.name, command=command, example=kind.example)


def help_message(library: PromptLibrary, command: str) -> Payload:
    lines = [wording.HELP_INTRO.format(command=command), ""]
    lines += [
        wording.HELP_KIND_LINE.format(
            name=kind.name, description=kind.description, command=command, example=kind.example
        )
        for kind in library.kinds
    ]
    lines += ["", wording.HELP_OUTRO.format(command=command)]
    text = "\n".join(lines)
    return {
        "response_type": "ephemeral",
        "text": text,
        "blocks": [_section(chunk) for chunk in split_markdown(text, SECTION_LIMIT)],
    }


def draft_messages(draft: Draft) -> list[Payload]:
    """One or more private messages showing the draft, with notes on the last one."""
    if draft.refused:
        return [notice(wording.REFUSED)]
    if not draft.text:
        return [notice(wording.EMPTY_DRAFT)]
    parts = split_markdown(neutralize_mentions(draft.text))
    messages: list[Payload] = [
        {"text": part, "blocks": [{"type": "markdown", "text": part}]} for part in parts
    ]
    messages[-1]["blocks"] += _draft_notes(draft)
    if draft.draft_id:
        messages[-1]["blocks"].append(preview_actions(draft))
    return messages


def preview_actions(draft: Draft) -> Payload:
    """The buttons under a private preview. Values carry only the draft id."""
    draft_id = draft.draft_id or ""

    def button(action: str, label: str, style: str | None = None) -> Payload:
        element: Payload = {
            "type": "button",
            "action_id": f"draft_{action}",
            "text": {"type": "plain_text", "text": label},
            "value": draft_id,
        }
        if style:
            element["style"] = style
        return element

    elements = [button("post", "Post to channel", "primary")]
    if draft.stop_reason in ("max_tokens", "model_context_window_exceeded"):
        elements.append(button("continue", REFINEMENTS["continue"].label))
    elements += [
        button(name, REFINEMENTS[name].label) for name in ("regenerate", "shorter", "longer")
    ]
    elements.append(
        {
            "type": "static_select",
            "action_id": "draft_tone",
            "placeholder": {"type": "plain_text", "text": "Change tone"},
            "options": [
                {
                    "text": {"type": "plain_text", "text": REFINEMENTS[tone].label},
                    "value": f"{tone}:{draft_id}",
                }
                for tone in TONES
            ],
        }
    )
    # Edit posts on submit, so it needs a channel (drafts from the Messages tab pick one
    # with Post to channel instead).
    if len(draft.text) <= EDIT_LIMIT and draft.request.channel_id:
        elements.append(button("edit", "Edit"))
    elements.append(button("discard", "Discard", "danger"))
    return {"type": "actions", "block_id": "draft_actions", "elements": elements}


def working_preview(text: str, working: str) -> Payload:
    """The draft with a "Making it shorter…" line and no buttons, while the model works."""
    parts = split_markdown(neutralize_mentions(text))
    return {
        "text": working,
        "blocks": [
            {"type": "markdown", "text": parts[0]},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"_{working}_"}]},
        ],
    }


def posted_messages(text: str, author_id: str) -> list[Payload]:
    """The draft as posted in the channel, attributed to the person who asked for it."""
    parts = split_markdown(neutralize_mentions(text))
    messages: list[Payload] = [
        {"text": part, "blocks": [{"type": "markdown", "text": part}]} for part in parts
    ]
    messages[-1]["blocks"].append(
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": wording.POST_ATTRIBUTION.format(user=author_id)}
            ],
        }
    )
    return messages


def draft_file_preview(draft: Draft, preview_chars: int = 2_000) -> Payload:
    """Shown privately when the draft went out as a file because it is too long for messages."""
    preview = neutralize_mentions(draft.text[:preview_chars]).rstrip() + "…"
    return {
        "text": wording.SENT_AS_FILE,
        "blocks": [
            _section(wording.SENT_AS_FILE),
            {"type": "markdown", "text": preview},
            *_draft_notes(draft),
        ],
    }


def _draft_notes(draft: Draft) -> list[Payload]:
    blocks: list[Payload] = []
    kind = draft.request.kind
    if draft.stop_reason == "max_tokens":
        blocks.append(
            _section(
                ":warning: " + wording.TRUNCATED.format(kind=kind.name, max_tokens=kind.max_tokens)
            )
        )
    elif draft.stop_reason == "model_context_window_exceeded":
        blocks.append(_section(":warning: " + wording.CONTEXT_FULL))
    footer = wording.DRAFT_FOOTER.format(kind=kind.name, seconds=draft.latency_ms / 1000)
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": footer}]})
    return blocks


def failure_message(user_message: str, reference: str | None) -> Payload:
    message = notice(user_message)
    if reference:
        message["blocks"].append(
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": wording.REFERENCE.format(reference=reference)}
                ],
            }
        )
    return message


def notice(text: str) -> Payload:
    return {"text": text, "blocks": [_section(text)]}


def _section(text: str) -> Payload:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_LIMIT]}}


def admin_contact(admin_user_ids: frozenset[str]) -> str:
    """How to name the admins in a message: mentions if we know them."""
    if not admin_user_ids:
        return "your Draftbot admin"
    return " or ".join(f"<@{user_id}>" for user_id in sorted(admin_user_ids))


def usage_message(status: BudgetStatus) -> Payload:
    lines = [
        wording.USAGE_SUMMARY.format(
            month=status.month.start.strftime("%B %Y"),
            drafts=f"{status.drafts:,}",
            spent=status.spent.display(),
        )
    ]
    if status.limit is not None and status.remaining is not None:
        lines.append(
            wording.USAGE_BUDGET_LEFT.format(
                limit=status.limit.display(),
                remaining=status.remaining.display(),
                resets_on=status.resets_on,
            )
        )
    else:
        lines.append(wording.USAGE_NO_BUDGET)
    text = "\n".join(lines)
    return {"response_type": "ephemeral", "text": text, "blocks": [_section(text)]}


def budget_notice(status: BudgetStatus) -> Payload:
    return _section(
        wording.BUDGET_NOTICE.format(
            percent=f"{status.used_fraction:.0%}",
            spent=status.spent.display(),
            limit=status.limit.display() if status.limit else "-",
            resets_on=status.resets_on,
        )
    )


def budget_admin_alert(status: BudgetStatus, name: str) -> str:
    """Names the person in plain text, so the alert does not notify them."""
    return wording.BUDGET_ADMIN_ALERT.format(
        user=f"{name} ({status.user_id})",
        percent=f"{status.used_fraction:.0%}",
        spent=status.spent.display(),
        limit=status.limit.display() if status.limit else "-",
        month=status.month.start.strftime("%B %Y"),
    )
