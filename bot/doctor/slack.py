"""The Slack bot token (SLACK_BOT_TOKEN, SLACK_API_URL) and the scopes it was granted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.doctor.manifest import manifest_scopes
from bot.doctor.report import NETWORK_TIMEOUT, Check, describe, not_checked

TOKEN_CHECK = "Slack bot token"
SCOPES_CHECK = "Slack scopes"
SLACK_APPS = "api.slack.com/apps → your app"
# What an unreachable Slack raises (aiohttp's errors, the client's timeout, sockets).
NETWORK_ERRORS = (aiohttp.ClientError, TimeoutError, OSError)

SCOPE_PURPOSES = {
    "commands": "the slash command",
    "chat:write": "posting drafts and reports",
    "files:write": "very long drafts and report files",
    "canvases:write": "opening long drafts as canvases",
    "im:write": "opening a direct message for files",
    "users:read": "names in reports and recognising workspace admins",
    "usergroups:read": "user groups in DRAFTBOT_ALLOWED_USERS",
    "im:history": "messages people send to Draftbot directly",
    "channels:history": "reading threads in public channels",
    "groups:history": "reading threads in private channels",
    "mpim:history": "reading threads in group direct messages",
    "channels:read": "checking who can see a linked conversation or post in a channel",
    "groups:read": "checking who can see a linked private channel",
    "mpim:read": "checking who can see a linked group direct message",
    "im:read": "checking who can see a linked direct message",
}


def slack_client(settings: Settings, token: str | None = None) -> AsyncWebClient:
    # No retries: the doctor should answer quickly, and say what it saw.
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=int(NETWORK_TIMEOUT),
        retry_handlers=[],
    )


def slack_error_code(error: SlackApiError) -> str:
    return str(error.response.get("error") or "unknown_error")


def slack_unreachable(name: str, settings: Settings, error: BaseException) -> Check:
    return Check(
        name,
        ok=False,
        detail=f"Could not reach Slack at {settings.slack_api_url} ({describe(error)}).",
        fix="Check this machine's internet connection and firewall. If you set SLACK_API_URL, "
        "check it (normally https://slack.com/api/, or leave it unset).",
    )


async def slack_token_checks(settings: Settings | None) -> list[Check]:
    """auth.test with the bot token; the granted scopes come back in its headers."""
    if settings is None or not settings.slack_bot_token.startswith("xoxb-"):
        return [
            not_checked(TOKEN_CHECK, "SLACK_BOT_TOKEN is missing or malformed (see above)"),
            not_checked(SCOPES_CHECK, "needs a working bot token"),
        ]
    try:
        response = await slack_client(settings, settings.slack_bot_token).auth_test()
    except SlackApiError as error:
        return [
            _bot_token_failure(slack_error_code(error)),
            not_checked(SCOPES_CHECK, "needs a working bot token"),
        ]
    except NETWORK_ERRORS as error:
        return [
            slack_unreachable(TOKEN_CHECK, settings, error),
            not_checked(SCOPES_CHECK, "Slack could not be reached"),
        ]
    team = response.get("team") or response.get("team_id") or "?"
    user = response.get("user") or response.get("user_id") or "?"
    url = str(response.get("url") or "").removeprefix("https://").rstrip("/")
    where = f"{team} ({url})" if url else str(team)
    token_check = Check(TOKEN_CHECK, ok=True, detail=f"Connected to workspace {where} as @{user}.")
    return [token_check, _scopes_check(_header(response.headers, "x-oauth-scopes"))]


def _bot_token_failure(code: str) -> Check:
    copy_token = (
        f"Copy the Bot User OAuth Token (starts with xoxb-) from {SLACK_APPS} → "
        "OAuth & Permissions into SLACK_BOT_TOKEN"
    )
    if code in ("invalid_auth", "not_authed"):
        return Check(
            TOKEN_CHECK,
            ok=False,
            detail=f"Slack does not recognise SLACK_BOT_TOKEN ({code}).",
            fix=f"{copy_token}. If that page shows no token, click Install to Workspace first.",
        )
    if code in ("token_revoked", "token_expired", "account_inactive", "app_uninstalled"):
        return Check(
            TOKEN_CHECK,
            ok=False,
            detail=f"SLACK_BOT_TOKEN no longer works ({code}): the app was uninstalled from "
            "the workspace or its token was revoked.",
            fix=f"Reinstall the app: {SLACK_APPS} → OAuth & Permissions → Install to "
            "Workspace, then copy the new Bot User OAuth Token (xoxb-…) into SLACK_BOT_TOKEN.",
        )
    if code == "not_allowed_token_type":
        return Check(
            TOKEN_CHECK,
            ok=False,
            detail="SLACK_BOT_TOKEN is not a bot token (not_allowed_token_type).",
            fix=f"{copy_token}; the xapp- app-level token goes in SLACK_APP_TOKEN instead.",
        )
    if code == "ratelimited":
        return Check(
            TOKEN_CHECK,
            ok=False,
            detail="Slack is rate-limiting this app right now (ratelimited).",
            fix="Wait a minute and run draftbot doctor again.",
        )
    return Check(
        TOKEN_CHECK,
        ok=False,
        detail=f"Slack refused the bot token check with the error {code}.",
        fix=f"{copy_token}, and look the error up at https://docs.slack.dev/reference/methods/"
        "auth.test if it persists.",
    )


def _scopes_check(granted_header: str | None) -> Check:
    needed, source = manifest_scopes()
    if granted_header is None:
        return Check(
            SCOPES_CHECK,
            ok=True,
            warning=True,
            detail="Slack did not report the bot token's scopes (no x-oauth-scopes header), so "
            "they could not be compared with manifest.json.",
            fix=f"Check {SLACK_APPS} → OAuth & Permissions → Scopes lists: {', '.join(needed)}.",
        )
    granted = {scope.strip() for scope in granted_header.split(",") if scope.strip()}
    missing = [scope for scope in needed if scope not in granted]
    if not missing:
        return Check(
            SCOPES_CHECK,
            ok=True,
            detail=f"The bot token has all {len(needed)} scopes Draftbot needs "
            f"({', '.join(needed)}){source}.",
        )
    described = ", ".join(
        f"{scope} ({SCOPE_PURPOSES[scope]})" if scope in SCOPE_PURPOSES else scope
        for scope in missing
    )
    return Check(
        SCOPES_CHECK,
        ok=False,
        detail=f"The bot token is missing {len(missing)} scope{'s' if len(missing) > 1 else ''}"
        f" Draftbot needs: {described}.",
        fix=f"In {SLACK_APPS}, add them under OAuth & Permissions → Scopes, then reinstall the "
        "app (or recreate it from manifest.json), and copy the new bot token into "
        "SLACK_BOT_TOKEN if it changed.",
    )


def _header(headers: Mapping[str, Any] | None, wanted: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == wanted:
            return str(value)
    return None
