"""Admins' forms: a channel's preset (`/draft admin channel #support`)."""

from __future__ import annotations

import json
from typing import Any

from bot import wording
from bot.channel_settings import INSTRUCTIONS_LIMIT, TONES, ChannelPreset
from bot.prompts import PromptLibrary
from handlers.blocks.message import context
from handlers.blocks.modals import VALUE, View, submitted
from handlers.blocks.text import escape

PRESET_CALLBACK = "admin_channel_preset"
DEFAULT = "-"  # the options' value for "Draftbot's default" (Slack wants a non-empty value)


def _text(value: str) -> dict[str, str]:
    return {"type": "plain_text", "text": value}


def _option(label: str, value: str) -> dict[str, Any]:
    return {"text": _text(label), "value": value}


def _select(block_id: str, label: str, choices: list[tuple[str, str]], current: str | None) -> Any:
    options = [_option(wording.PRESET_FORM_DEFAULT, DEFAULT), *(_option(*c) for c in choices)]
    initial = next((o for o in options if o["value"] == current), options[0])
    return {
        "type": "input",
        "block_id": block_id,
        "label": _text(label),
        "element": {
            "type": "static_select",
            "action_id": VALUE,
            "options": options,
            "initial_option": initial,
        },
    }


def channel_label(channel_id: str, name: str | None) -> str:
    """How the form and its answers name the channel: #name, else Slack's mention."""
    return f"#{escape(name)}" if name else f"<#{channel_id}>"


def preset_form(
    preset: ChannelPreset, library: PromptLibrary, models: list[str], response_url: str | None
) -> View:
    """The channel's current values, each field Draftbot's default when it has none."""
    instructions: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": VALUE,
        "multiline": True,
        "max_length": INSTRUCTIONS_LIMIT,
    }
    if preset.instructions:
        instructions["initial_value"] = preset.instructions
    yes, no = _option(wording.PRESET_YES, "yes"), _option(wording.PRESET_NO, "no")
    channel = channel_label(preset.channel_id, preset.channel_name)
    blocks = [
        context(wording.PRESET_FORM_INTRO.format(channel=channel)),
        {
            "type": "input",
            "block_id": "enabled",
            "label": _text(wording.PRESET_FORM_ENABLED),
            "element": {
                "type": "radio_buttons",
                "action_id": VALUE,
                "options": [yes, no],
                "initial_option": yes if preset.enabled else no,
            },
        },
        {
            "type": "input",
            "block_id": "instructions",
            "label": _text(wording.PRESET_FORM_INSTRUCTIONS),
            "element": instructions,
            "optional": True,
            "hint": _text(wording.PRESET_FORM_INSTRUCTIONS_HINT.format(limit=INSTRUCTIONS_LIMIT)),
        },
        _select(
            "default_kind",
            wording.PRESET_FORM_KIND,
            [(kind.name.capitalize(), kind.name) for kind in library.kinds],
            preset.default_kind,
        ),
        _select("model", wording.PRESET_FORM_MODEL, [(m, m) for m in models], preset.model),
        _select("tone", wording.PRESET_FORM_TONE, [(t, t) for t in TONES], preset.tone),
    ]
    meta = {
        "channel_id": preset.channel_id,
        "channel_name": preset.channel_name,
        "response_url": response_url,
    }
    return {
        "type": "modal",
        "callback_id": PRESET_CALLBACK,
        "title": _text(wording.PRESET_FORM_TITLE),
        "submit": _text(wording.PRESET_FORM_SUBMIT),
        "close": _text(wording.LABEL_CANCEL),
        "private_metadata": json.dumps(meta),
        "blocks": blocks,
    }


def submitted_preset(view: dict[str, Any], actor: str) -> ChannelPreset:
    """The preset a submitted form describes (not yet checked: `preset_problems`)."""
    meta = json.loads(view.get("private_metadata") or "{}")

    def choice(block_id: str) -> str | None:
        answer = submitted(view, block_id)
        return None if answer in ("", DEFAULT) else answer

    return ChannelPreset(
        channel_id=str(meta["channel_id"]),
        channel_name=meta.get("channel_name"),
        instructions=submitted(view, "instructions"),
        default_kind=choice("default_kind"),
        model=choice("model"),
        tone=choice("tone"),
        enabled=submitted(view, "enabled") != "no",
        updated_by=actor,
    )
