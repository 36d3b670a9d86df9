"""How Slack reaches Draftbot: Socket Mode (SLACK_APP_TOKEN) or HTTP mode
(SLACK_SIGNING_SECRET, PORT), and the slash command's name (DRAFTBOT_COMMAND)."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.doctor.manifest import manifest_commands, other_request_urls
from bot.doctor.report import Check, not_checked
from bot.doctor.slack import (
    NETWORK_ERRORS,
    SLACK_APPS,
    slack_client,
    slack_error_code,
    slack_unreachable,
)

MODE_CHECK = "Slack connection mode"


async def connection_checks(settings: Settings | None) -> list[Check]:
    """Socket Mode (the app-level token works) or HTTP mode (a signing secret, and a
    reminder of the app settings), then the slash command's name against manifest.json."""
    if settings is None:
        return [not_checked(MODE_CHECK, "the settings above need fixing first")]
    checks: list[Check] = []
    if settings.slack_app_token:
        if not settings.slack_app_token.startswith("xapp-"):
            checks.append(not_checked(MODE_CHECK, "SLACK_APP_TOKEN is malformed (see above)"))
        else:
            checks.append(await _socket_mode_check(settings))
    elif settings.slack_signing_secret:
        checks.append(
            Check(
                MODE_CHECK,
                ok=True,
                detail=f"HTTP mode: SLACK_SIGNING_SECRET is set; Draftbot listens on port "
                f"{settings.port} and Slack must send requests to /slack/events.",
            )
        )
        checks.append(
            Check(
                "Slack Request URL",
                ok=True,
                warning=True,
                detail="In HTTP mode Slack must be able to reach this server, which the doctor "
                "cannot test from here.",
                fix=f"In {SLACK_APPS}: turn Socket Mode off, and under Slash Commands → "
                f"{settings.command} set the Request URL to https://YOUR-HOST/slack/events "
                f"(the same under {other_request_urls()}). Or set SLACK_APP_TOKEN to use "
                "Socket Mode, which needs no public URL.",
            )
        )
    else:
        checks.append(
            not_checked(MODE_CHECK, "neither SLACK_APP_TOKEN nor SLACK_SIGNING_SECRET is set")
        )
    checks.append(_command_check(settings.command))
    return checks


async def _socket_mode_check(settings: Settings) -> Check:
    new_token = (
        f"Create an app-level token: {SLACK_APPS} → Basic Information → App-Level Tokens → "
        "Generate Token and Scopes, with the connections:write scope, and put the xapp-… "
        "token in SLACK_APP_TOKEN"
    )
    try:
        await slack_client(settings).apps_connections_open(app_token=settings.slack_app_token)
    except SlackApiError as error:
        code = slack_error_code(error)
        if code in ("invalid_auth", "not_authed", "token_revoked", "token_expired"):
            return Check(
                MODE_CHECK,
                ok=False,
                detail=f"Socket Mode: Slack does not accept SLACK_APP_TOKEN ({code}).",
                fix=f"{new_token}. Also check that Socket Mode is on ({SLACK_APPS} → Socket Mode).",
            )
        if code == "not_allowed_token_type":
            return Check(
                MODE_CHECK,
                ok=False,
                detail="Socket Mode: SLACK_APP_TOKEN is not an app-level token "
                "(not_allowed_token_type).",
                fix=f"{new_token}. The xoxb- bot token belongs in SLACK_BOT_TOKEN.",
            )
        if code == "missing_scope":
            return Check(
                MODE_CHECK,
                ok=False,
                detail="Socket Mode: SLACK_APP_TOKEN lacks the connections:write scope.",
                fix=f"{new_token}.",
            )
        return Check(
            MODE_CHECK,
            ok=False,
            detail=f"Socket Mode: Slack refused to open a connection ({code}).",
            fix=f"Check that Socket Mode is on ({SLACK_APPS} → Socket Mode). If it is: "
            f"{new_token}.",
        )
    except NETWORK_ERRORS as error:
        return slack_unreachable(MODE_CHECK, settings, error)
    return Check(MODE_CHECK, ok=True, detail="Socket Mode: Slack accepted the app-level token.")


def _command_check(command: str) -> Check:
    name = "Slash command"
    defined = manifest_commands()
    if defined is None:
        return Check(
            name,
            ok=True,
            warning=True,
            detail=f"DRAFTBOT_COMMAND is {command}; manifest.json could not be read to "
            "compare it with the app's slash command.",
            fix=f"Check that {SLACK_APPS} → Slash Commands lists {command}.",
        )
    if command in defined:
        return Check(name, ok=True, detail=f"{command} matches the slash command in manifest.json.")
    listed = ", ".join(defined) or "no slash command"
    return Check(
        name,
        ok=True,
        warning=True,
        detail=f"DRAFTBOT_COMMAND is {command} but manifest.json defines {listed}: Slack only "
        "sends the commands the app defines.",
        fix=f"Update manifest.json's slash command to {command} and paste it under {SLACK_APPS} "
        f"→ App Manifest (or add {command} under Slash Commands in the app config), or set "
        f"DRAFTBOT_COMMAND back to {defined[0] if defined else 'the command you use'}.",
    )
