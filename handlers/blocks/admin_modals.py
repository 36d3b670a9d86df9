"""Admins' forms: a channel's preset (`/draft admin channel #support`), and who may use
Draftbot (`/draft admin access`)."""

from __future__ import annotations

import json
from typing import Any

from bot import wording
from bot.access_overrides import RULES, RuleInForce
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


# ---------------------------------------------------------------- who may use Draftbot

ACCESS_CALLBACK = "admin_access_rules"
_ON_OFF = {"on": wording.ACCESS_ON, "off": wording.ACCESS_OFF}


def _source_hint(found: RuleInForce, setting_value: str) -> dict[str, str]:
    setting = RULES[found.rule]
    if not found.overridden:
        return _text(wording.ACCESS_FROM_SETTING.format(setting=setting))
    when = (found.set_at or "")[:16].replace("T", " ")
    return _text(
        wording.ACCESS_FROM_OVERRIDE.format(
            who=found.set_by, when=when, setting=setting, setting_value=setting_value or "-"
        )
    )


def access_form(
    in_force: list[RuleInForce], settings: dict[str, str], response_url: str | None
) -> View:
    """The rules in force, each with where it comes from (the setting, or an override)."""
    rules = {found.rule: found for found in in_force}
    ids = rules["allowed_users"].value.split(",") if rules["allowed_users"].value else []
    users = [i for i in ids if not i.startswith("S")]
    groups = [i for i in ids if i.startswith("S")]

    def hint(rule: str) -> dict[str, str]:
        return _source_hint(rules[rule], settings[rule])

    def listed(rule: str) -> list[str]:
        return rules[rule].value.split(",") if rules[rule].value else []

    def people_input() -> dict[str, Any]:
        element: dict[str, Any] = {"type": "multi_users_select", "action_id": VALUE}
        if users:
            element["initial_users"] = users
        return _input_block(
            "allowed_users", wording.ACCESS_FORM_USERS, element, hint("allowed_users")
        )

    def groups_input() -> dict[str, Any]:
        element: dict[str, Any] = {"type": "plain_text_input", "action_id": VALUE}
        if groups:
            element["initial_value"] = ", ".join(groups)
        return _input_block("allowed_groups", wording.ACCESS_FORM_GROUPS, element, None)

    def channels_input(rule: str, label: str) -> dict[str, Any]:
        element: dict[str, Any] = {
            "type": "multi_conversations_select",
            "action_id": VALUE,
            "filter": {"include": ["public", "private"], "exclude_bot_users": True},
        }
        if listed(rule):
            element["initial_conversations"] = listed(rule)
        return _input_block(rule, label, element, hint(rule))

    def switch(rule: str, label: str) -> dict[str, Any]:
        options = [_option(text, value) for value, text in _ON_OFF.items()]
        initial = next(o for o in options if o["value"] == rules[rule].value)
        element = {"type": "radio_buttons", "action_id": VALUE, "options": options}
        block = _input_block(rule, label, {**element, "initial_option": initial}, hint(rule))
        block["optional"] = False
        return block

    blocks = [
        context(wording.ACCESS_FORM_INTRO),
        people_input(),
        groups_input(),
        channels_input("allowed_channels", wording.ACCESS_FORM_CHANNELS),
        channels_input("blocked_channels", wording.ACCESS_FORM_BLOCKED),
        switch("dms", wording.ACCESS_FORM_DMS),
        switch("guests", wording.ACCESS_FORM_GUESTS),
    ]
    return {
        "type": "modal",
        "callback_id": ACCESS_CALLBACK,
        "title": _text(wording.ACCESS_FORM_TITLE),
        "submit": _text(wording.PRESET_FORM_SUBMIT),
        "close": _text(wording.LABEL_CANCEL),
        "private_metadata": json.dumps({"response_url": response_url}),
        "blocks": blocks,
    }


def _input_block(
    block_id: str, label: str, element: dict[str, Any], hint: dict[str, str] | None
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": _text(label),
        "element": element,
        "optional": True,
    }
    if hint is not None:
        block["hint"] = hint
    return block


def submitted_access(view: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """(rule → text, the user-group words typed: ids or @handles, to be looked up)."""
    values = view["state"]["values"]

    def state(block_id: str) -> dict[str, Any]:
        return values.get(block_id, {}).get(VALUE, {}) or {}

    texts = {
        "allowed_users": ",".join(state("allowed_users").get("selected_users") or []),
        "allowed_channels": ",".join(state("allowed_channels").get("selected_conversations") or []),
        "blocked_channels": ",".join(state("blocked_channels").get("selected_conversations") or []),
        "dms": submitted(view, "dms") or "on",
        "guests": submitted(view, "guests") or "off",
    }
    groups = submitted(view, "allowed_groups").replace(",", " ").split()
    return texts, groups
