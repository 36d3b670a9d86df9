"""Canvases in the fake Slack: ``canvases.create``, ``canvases.access.set`` and
``conversations.canvases.create``, as the real Web API answers them.

* Both create methods need ``canvases:write`` (checked with the other scopes in
  ``FakeSlack._needed_scopes``) and store the canvas's Markdown, title, channel and who may
  read or write it, so tests can read what Draftbot put there (``fake.canvases()``).
* ``fake.canvas_plan``: ``"paid"`` (the default) allows everything; ``"free"`` refuses
  standalone canvases with ``free_teams_cannot_create_standalone_canvases`` (free plans may
  have one canvas tab per channel: ``canvases.create`` with ``channel_id``, or
  ``conversations.canvases.create``; a second gets ``free_team_canvas_tab_already_exists``);
  ``"disabled"`` (an admin turned canvases off) answers ``canvas_disabled_user_team`` to all.
* A channel the bot is not in (``fake.channels_without_bot``) answers ``not_in_channel``; a
  channel that already has a channel canvas, ``channel_canvas_already_exists``.
* ``canvases.access.set`` takes ``user_ids`` or ``channel_ids``, not both
  (``invalid_arguments``), and an ``access_level`` of read, write or owner.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

CANVAS_PLANS = ("paid", "free", "disabled")
ACCESS_LEVELS = ("read", "write", "owner")


class CanvasesMixin:
    """Mixed into FakeSlack: uses its lock, id counter, bot and channels."""

    _lock: threading.RLock
    _next_id: Callable[[str], str]
    channels_without_bot: set[str]
    bot_user_id: str
    team_id: str
    team_domain: str

    def _init_canvases(self) -> None:
        self._canvases: dict[str, dict[str, Any]] = {}
        self.canvas_plan = "paid"

    def canvases(self) -> list[dict[str, Any]]:
        """Every canvas created, oldest first: id, title, markdown, channel_id (tabbed in,
        or None for a standalone one), kind ("standalone" | "channel"), access (user or
        channel id -> level)."""
        with self._lock:
            return [dict(c, access=dict(c["access"])) for c in self._canvases.values()]

    def canvas_url(self, canvas_id: str) -> str:
        return f"https://{self.team_domain}.slack.com/docs/{self.team_id}/{canvas_id}"

    # ------------------------------------------------------------ the Web API

    def _api_canvases_create(self, args: dict[str, Any]) -> dict[str, Any]:
        if self.canvas_plan == "disabled":
            return {"ok": False, "error": "canvas_disabled_user_team"}
        channel_id = str(args.get("channel_id") or "") or None
        if channel_id is None and self.canvas_plan == "free":
            return {"ok": False, "error": "free_teams_cannot_create_standalone_canvases"}
        if channel_id is not None:
            refused = self._channel_refusal(channel_id, "free_team_canvas_tab_already_exists")
            if refused:
                return refused
        return self._create(args, channel_id, "standalone" if channel_id is None else "tab")

    def _api_conversations_canvases_create(self, args: dict[str, Any]) -> dict[str, Any]:
        if self.canvas_plan == "disabled":
            return {"ok": False, "error": "canvas_disabled_user_team"}
        channel_id = str(args.get("channel_id") or "")
        if not channel_id:
            return {"ok": False, "error": "invalid_arguments"}
        if channel_id.startswith("D"):
            return {"ok": False, "error": "channel_canvas_creation_failed"}
        refused = self._channel_refusal(channel_id, "channel_canvas_already_exists")
        return refused or self._create(args, channel_id, "channel")

    def _api_canvases_access_set(self, args: dict[str, Any]) -> dict[str, Any]:
        canvas = self._canvases.get(str(args.get("canvas_id") or ""))
        if canvas is None:
            return {"ok": False, "error": "canvas_not_found"}
        level = str(args.get("access_level") or "")
        user_ids = _ids(args.get("user_ids"))
        channel_ids = _ids(args.get("channel_ids"))
        if level not in ACCESS_LEVELS or bool(user_ids) == bool(channel_ids):
            return {"ok": False, "error": "invalid_arguments"}
        for target in [*user_ids, *channel_ids]:
            canvas["access"][target] = level
        return {"ok": True}

    # ------------------------------------------------------------ helpers

    def _channel_refusal(self, channel_id: str, exists_error: str) -> dict[str, Any] | None:
        if channel_id in self.channels_without_bot:
            return {"ok": False, "error": "not_in_channel"}
        if any(c["channel_id"] == channel_id for c in self._canvases.values()):
            return {"ok": False, "error": exists_error}
        return None

    def _create(self, args: dict[str, Any], channel_id: str | None, kind: str) -> dict[str, Any]:
        content = args.get("document_content")
        markdown = ""
        if content is not None:
            if not isinstance(content, dict) or content.get("type") != "markdown":
                return {"ok": False, "error": "invalid_arguments"}
            markdown = str(content.get("markdown") or "")
        canvas_id = self._next_id("F")
        access = {self.bot_user_id: "owner"}
        if channel_id is not None:
            access[channel_id] = "write"
        self._canvases[canvas_id] = {
            "id": canvas_id,
            "title": str(args.get("title") or ""),
            "markdown": markdown,
            "channel_id": channel_id,
            "kind": kind,
            "access": access,
        }
        return {"ok": True, "canvas_id": canvas_id}


def _ids(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value if v]
    return [v for v in str(value or "").split(",") if v]
