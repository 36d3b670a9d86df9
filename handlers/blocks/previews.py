"""The private preview of a draft, its buttons and notes, and the draft as posted."""

from __future__ import annotations

from bot import wording
from bot.budgets import BudgetStatus
from bot.drafting import Draft
from bot.llm import DEADLINE_STOP_REASON
from bot.prompts import PromptKind, PromptLibrary
from bot.refinements import REFINEMENTS, TONES
from bot.slack_ids import PLAIN_INPUT_LIMIT, SECTION_LIMIT
from bot.style_check import AvoidRule, StyleHit, check_style
from handlers.blocks.checks import check_notes, checked, post_confirm
from handlers.blocks.message import Block, Outgoing, context, notice, section
from handlers.blocks.text import escape, safe_draft, split_markdown
from handlers.blocks.versions import version_blocks

ACTIONS_BLOCK_ID = "draft_actions"


def draft_preview(
    draft: Draft, notes: tuple[Block, ...] = (), avoid: tuple[AvoidRule, ...] = ()
) -> Outgoing:
    """The draft with its notes and buttons; refusals and empty drafts as plain notices.
    `avoid`: the words the style avoids; any found are flagged, with a Fix style button."""
    if draft.refused:
        return notice(wording.REFUSED)
    if not draft.text:
        return notice(wording.EMPTY_DRAFT)
    kind = draft.request.kind
    hits = check_style(draft.text, avoid)
    check = checked(draft)  # check before you post (bot/fact_check.py)
    actions = preview_actions(draft, fix_style=bool(hits), placeholders=check.placeholders)
    return Outgoing(
        text="",
        body=safe_draft(draft.text, typed=draft.request.text),
        blocks=(
            *notes,
            *style_notes(hits),
            *check_notes(check),
            *version_blocks(draft),
            *_draft_notes(draft),
        ),
        actions=actions if draft.draft_id else None,
        file_name=f"{kind.name}-draft.md",
        file_title=f"Your {kind.name} draft",
    )


def preview_actions(
    draft: Draft, *, fix_style: bool = False, placeholders: tuple[str, ...] = ()
) -> Block:
    """The buttons under a private preview. Values carry only the draft id; Post asks for a
    confirm while `placeholders` remain."""
    draft_id = draft.draft_id or ""

    def button(action: str, label: str, style: str | None = None) -> Block:
        element: Block = {
            "type": "button",
            "action_id": f"draft_{action}",
            "text": {"type": "plain_text", "text": label},
            "value": draft_id,
        }
        if style:
            element["style"] = style
        return element

    elements = [button("post", wording.LABEL_POST, "primary")]
    if confirm := post_confirm(placeholders):
        elements[0]["confirm"] = confirm
    if draft.truncated:
        elements.append(button("continue", REFINEMENTS["continue"].label))
    if fix_style:
        elements.append(button("fix_style", REFINEMENTS["fix_style"].label))
    elements += [
        button(name, REFINEMENTS[name].label) for name in ("regenerate", "shorter", "longer")
    ]
    elements.append(
        {
            "type": "static_select",
            "action_id": "draft_tone",
            "placeholder": {"type": "plain_text", "text": wording.LABEL_CHANGE_TONE},
            "options": [
                {
                    "text": {"type": "plain_text", "text": REFINEMENTS[tone].label},
                    "value": f"{tone}:{draft_id}",
                }
                for tone in TONES
            ],
        }
    )
    shown = safe_draft(draft.text, draft.request.text)  # as the preview, Edit and canvas show it
    if len(shown) <= PLAIN_INPUT_LIMIT:
        elements.append(button("edit", wording.LABEL_EDIT))
    if draft.request.kind.canvas_ok or len(split_markdown(shown)) > 1:
        elements.append(button("canvas", wording.LABEL_OPEN_CANVAS))
    elements.append(button("discard", wording.LABEL_DISCARD, "danger"))
    return {"type": "actions", "block_id": ACTIONS_BLOCK_ID, "elements": elements}


def working_preview(text: str, status: str, typed: str = "") -> Outgoing:
    """The draft with a "Making it shorter…" line and no buttons, while the model works."""
    first = split_markdown(safe_draft(text, typed))[0]
    return Outgoing(text=status, body=first, blocks=(context(f"_{status}_"),))


def posted_draft(text: str, author_id: str, typed: str = "") -> Outgoing:
    """The draft as posted in the channel, attributed to the person who asked for it, as
    safe as the preview they saw (`typed`: their request, whose mentions stay live)."""
    attribution = wording.POST_ATTRIBUTION.format(user=author_id)
    return Outgoing(text=attribution, body=safe_draft(text, typed), blocks=(context(attribution),))


def with_warning(out: Outgoing, text: str) -> Outgoing:
    """The preview the person had, with a line saying what went wrong just now."""
    return out.with_blocks(section(f":warning: {text}"))


def style_notes(hits: tuple[StyleHit, ...]) -> list[Block]:
    """One line per style (company, house) naming what the draft contains."""
    lines: list[Block] = []
    for source, style in (("company", wording.STYLE_COMPANY), ("house", wording.STYLE_HOUSE)):
        found = [f"'{escape(hit.found)}'" for hit in hits if hit.rule.source == source]
        if found:
            words = found[0] if len(found) == 1 else f"{', '.join(found[:-1])} and {found[-1]}"
            lines.append(section(wording.STYLE_FLAG.format(words=words, style=style)))
    return lines


def _draft_notes(draft: Draft) -> list[Block]:
    blocks: list[Block] = []
    kind = draft.request.kind
    if draft.stop_reason == "max_tokens":
        truncated = wording.TRUNCATED.format(kind=kind.name, max_tokens=kind.max_tokens)
        blocks.append(section(f":warning: {truncated}"))
    elif draft.stop_reason == "model_context_window_exceeded":
        blocks.append(section(f":warning: {wording.CONTEXT_FULL}"))
    elif draft.stop_reason == DEADLINE_STOP_REASON:
        blocks.append(section(f":warning: {wording.CUT_OFF_SLOW}"))
    footer = wording.DRAFT_FOOTER.format(kind=kind.name, seconds=draft.latency_ms / 1000)
    blocks.append(context(footer))
    return blocks


def transcript_note(recent: int, total: int, left_out: int) -> Block:
    return context(wording.TRANSCRIPT_TRIMMED.format(recent=recent, total=total, left_out=left_out))


def file_note(text: str) -> Block:
    """A file cut short or not read; the names in it are already free of markup."""
    return context(f":page_facing_up: {text}")


def budget_notice(status: BudgetStatus) -> Block:
    return section(
        wording.BUDGET_NOTICE.format(
            percent=f"{status.used_fraction:.0%}",
            spent=status.spent.display(),
            limit=status.limit.display() if status.limit else "-",
            resets_on=status.resets_on,
        )
    )


def failure(user_message: str, reference: str | None = None) -> Outgoing:
    out = notice(user_message)
    if reference:
        out = out.with_blocks(context(wording.REFERENCE.format(reference=reference)))
    return out


def working_text(kind: PromptKind) -> str:
    return wording.WORKING.format(noun=kind.noun) if kind.noun else wording.WORKING_ANY


def needs_details_text(kind: PromptKind, command: str) -> str:
    noun = kind.noun or wording.NEEDS_DETAILS_NOUN
    return wording.NEEDS_DETAILS.format(noun=noun, command=command, example=kind.example)


def kind_lines(library: PromptLibrary, command: str) -> str:
    return "\n".join(
        wording.HELP_KIND_LINE.format(
            name=kind.name, description=kind.description, command=command, example=kind.example
        )
        for kind in library.kinds
    )


def help_message(library: PromptLibrary, command: str) -> Outgoing:
    text = "\n".join(
        [
            wording.HELP_INTRO.format(command=command),
            "",
            kind_lines(library, command),
            "",
            wording.HELP_OUTRO.format(command=command),
        ]
    )
    return Outgoing(
        text=text, blocks=tuple(section(part) for part in split_markdown(text, SECTION_LIMIT))
    )


def admin_contact(admin_user_ids: frozenset[str]) -> str:
    """How to name the admins in a message: mentions if we know them."""
    if not admin_user_ids:
        return wording.ADMIN_CONTACT_UNKNOWN
    return " or ".join(f"<@{user_id}>" for user_id in sorted(admin_user_ids))
