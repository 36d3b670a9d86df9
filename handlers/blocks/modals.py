"""Modals: the draft form, the Edit form, and "where should this go?" for Messages-tab drafts."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from typing import Any

from bot import wording
from bot.files import display_name
from bot.prompts import PromptLibrary
from bot.slack_ids import OPTION_LABEL_LIMIT, PLAIN_INPUT_LIMIT, PRIVATE_METADATA_LIMIT
from handlers.blocks.message import context, section

FORM_CALLBACK = "draft_form"
EDIT_CALLBACK = "draft_edit_modal"
CHANNEL_CALLBACK = "draft_choose_channel"
VALUE = "value"  # every input's action_id

View = dict[str, Any]


def _text(value: str) -> dict[str, str]:
    return {"type": "plain_text", "text": value}


def _options(pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    return [{"text": _text(label), "value": value} for label, value in pairs]


def _input(block_id: str, label: str, element: dict[str, Any], **extra: Any) -> dict[str, Any]:
    element = {"action_id": VALUE, **element}
    return {
        "type": "input",
        "block_id": block_id,
        "label": _text(label),
        "element": element,
        **extra,
    }


def _channel_input(label: str, *, optional: bool) -> dict[str, Any]:
    return _input("channel", label, {"type": "conversations_select"}, optional=optional)


def _modal(
    callback_id: str, title: str, submit: str, meta: dict[str, Any], blocks: list[Any]
) -> View:
    # ensure_ascii=False: a non-Latin character counts once, not as a 6-character escape.
    private_metadata = json.dumps(meta, ensure_ascii=False)
    if len(private_metadata) > PRIVATE_METADATA_LIMIT:  # a bug: never send what Slack refuses
        raise ValueError(f"{callback_id} metadata is {len(private_metadata)} characters")
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": _text(title),
        "submit": _text(submit),
        "close": _text(wording.LABEL_CANCEL),
        "private_metadata": private_metadata,
        "blocks": blocks,
    }


def draft_form(
    library: PromptLibrary,
    *,
    channel_id: str | None,
    response_url: str | None,
    ask_for_channel: bool = False,
    files: Sequence[tuple[str, str]] = (),
    kind: str | None = None,
) -> View:
    """What to draft, the details, and optional audience, tone and length; `files` (id,
    name) are listed at the top and drafted from (their ids ride in the metadata). `kind`
    chosen at first: the channel preset's default kind (else the library's default)."""
    kinds = [
        {
            "text": _text(kind.name.capitalize()),
            # Cut at a word, not mid-phrase, to fit Slack's limit.
            "description": _text(
                textwrap.shorten(kind.description, OPTION_LABEL_LIMIT, placeholder="…")
            ),
            "value": kind.name,
        }
        for kind in library.kinds
    ]
    chosen = kind if kind in {option["value"] for option in kinds} else library.default_kind.name
    default = next(option for option in kinds if option["value"] == chosen)
    select = {"type": "static_select"}
    blocks: list[dict[str, Any]] = [
        _input("kind", wording.FORM_KIND, {**select, "options": kinds, "initial_option": default}),
        _input(
            "details",
            wording.FORM_DETAILS,
            {
                "type": "plain_text_input",
                "multiline": True,
                "max_length": PLAIN_INPUT_LIMIT,
                "placeholder": _text(wording.FORM_DETAILS_PLACEHOLDER),
            },
            hint=_text(wording.FORM_DETAILS_HINT),
        ),
        _input(
            "audience",
            wording.FORM_AUDIENCE,
            {"type": "plain_text_input", "placeholder": _text(wording.FORM_AUDIENCE_PLACEHOLDER)},
            optional=True,
        ),
        _input(
            "tone",
            wording.FORM_TONE,
            {**select, "options": _options([(t, t) for t in wording.FORM_TONES])},
            optional=True,
        ),
        _input(
            "length",
            wording.FORM_LENGTH,
            {**select, "options": _options([(n, n) for n in wording.FORM_LENGTHS])},
            optional=True,
        ),
    ]
    if ask_for_channel:
        blocks.append(_channel_input(wording.FORM_WHERE, optional=True))
    meta: dict[str, Any] = {"channel_id": channel_id, "response_url": response_url}
    if files:
        names = ", ".join(display_name(name) for _, name in files)
        blocks.insert(0, context(wording.FORM_FILES.format(names=names)))
        meta["file_ids"] = [file_id for file_id, _ in files]
    return _modal(FORM_CALLBACK, wording.FORM_TITLE, wording.FORM_SUBMIT, meta, blocks)


def edit_modal(
    draft_id: str,
    text: str,
    response_url: str | None,
    *,
    ask_for_channel: bool,
    warning: str | None = None,
    posting_anyway: str = "",
    channel: str | None = None,
) -> View:
    """The draft in a text box; drafts with no channel yet also ask where to post.
    `warning` (mrkdwn) above the box, with `posting_anyway`: a short key of the placeholders
    the person was told of (handlers/blocks/checks.placeholders_key; their texts could pass
    Slack's metadata limit), which a second Post then accepts."""
    blocks: list[dict[str, Any]] = [
        _input(
            "text",
            wording.EDIT_LABEL,
            {
                "type": "plain_text_input",
                "multiline": True,
                "max_length": PLAIN_INPUT_LIMIT,
                "initial_value": text,
            },
        )
    ]
    if warning:
        blocks.insert(0, section(warning))
    if ask_for_channel:
        blocks.append(_channel_input(wording.EDIT_WHERE, optional=False))
        if channel:
            blocks[-1]["element"]["initial_conversation"] = channel
    meta: dict[str, Any] = {"draft_id": draft_id, "response_url": response_url}
    if posting_anyway:
        meta["posting_anyway"] = posting_anyway
    submit = wording.POST_CONFIRM_YES if posting_anyway else wording.LABEL_POST
    return _modal(EDIT_CALLBACK, wording.EDIT_TITLE, submit, meta, blocks)


def choose_channel_modal(draft_id: str, response_url: str | None) -> View:
    """For drafts written in the Messages tab: where should this go?"""
    meta = {"draft_id": draft_id, "response_url": response_url}
    blocks = [_channel_input(wording.CHOOSE_CHANNEL, optional=False)]
    return _modal(
        CHANNEL_CALLBACK,
        wording.CHOOSE_CHANNEL_TITLE,
        wording.CHOOSE_CHANNEL_SUBMIT,
        meta,
        blocks,
    )


def submitted(view: dict[str, Any], block_id: str) -> str:
    """The answer in one input of a submitted modal ("" when left empty)."""
    value = view["state"]["values"].get(block_id, {}).get(VALUE, {}) or {}
    selected = value.get("selected_option") or {}
    answer = value.get("value") or selected.get("value") or value.get("selected_conversation")
    return str(answer or "").strip()


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    meta = json.loads(view.get("private_metadata") or "{}")
    return meta if isinstance(meta, dict) else {}


def form_request_text(kind: str, view: dict[str, Any]) -> str:
    """The form's answers as one request, in the words a person would type."""
    lines = [f"{kind} {submitted(view, 'details')}"]
    for label, block in (("Audience", "audience"), ("Tone", "tone"), ("Length", "length")):
        if answer := submitted(view, block):
            lines.append(f"{label}: {answer}")
    return "\n".join(lines)
