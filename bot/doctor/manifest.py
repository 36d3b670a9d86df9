"""What manifest.json (the Slack app's definition) asks for, read afresh on every call."""

from __future__ import annotations

import json
from typing import Any

from bot.config import default_path

MANIFEST_PATH = default_path("manifest.json")  # Socket Mode; HTTP mode's is manifest.http.json

# Used only when manifest.json cannot be read (deleted, or not valid JSON).
FALLBACK_BOT_SCOPES = (
    "commands",
    "chat:write",
    "files:write",
    "files:read",
    "im:write",
    "users:read",
)


def _manifest_value(*keys: str) -> Any:
    """The value at `keys` in manifest.json; None if the file or any level is missing."""
    try:
        value: Any = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def manifest_scopes() -> tuple[list[str], str]:
    """The bot scopes in manifest.json (and a note when the built-in list had to do)."""
    scopes = _manifest_value("oauth_config", "scopes", "bot")
    if isinstance(scopes, list) and all(isinstance(s, str) for s in scopes):
        return list(scopes), ""
    return list(FALLBACK_BOT_SCOPES), " (manifest.json not found: used the built-in list)"


def other_request_urls() -> str:
    """The other app-settings pages that hold a Request URL in HTTP mode."""
    if _manifest_value("settings", "event_subscriptions"):
        return "Interactivity & Shortcuts and Event Subscriptions"
    return "Interactivity & Shortcuts"


def manifest_commands() -> list[str] | None:
    entries = _manifest_value("features", "slash_commands")
    if not isinstance(entries, list):
        return None
    return [str(e["command"]) for e in entries if isinstance(e, dict) and "command" in e]
