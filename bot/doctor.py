"""`draftbot doctor`: check the whole set-up and say, in plain words, what is wrong and how
to fix it.

Every check is independent: a failure in one never hides the others. Checks that cannot run
(because a setting is missing or an earlier check failed) are listed as warnings saying so.
Network calls use short timeouts, and no secret value ever appears in a `Check`.

    checks = asyncio.run(run_checks())
    print(render_checks(checks))
    sys.exit(0 if all(check.ok for check in checks) else 1)
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import anthropic
from anthropic.types import ModelInfo
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import (
    DEFAULT_PROMPTS_DIR,
    PROJECT_ROOT,
    ConfigError,
    Settings,
    load_settings,
)
from bot.prompts import HOUSE_STYLE_FILE, PromptKind, PromptLibrary, load_prompts
from bot.storage import POSTGRES_SCHEMES, open_store
from bot.storage.sqlite import Store

__all__ = ["Check", "render_checks", "run_checks"]

NETWORK_TIMEOUT = 10.0  # seconds, per request
GROUP_TIMEOUT = 45.0  # seconds, for a chain of requests (the model checks make several)
DEFAULT_ANTHROPIC_BASE_URL = "https://api.anthropic.com"
MANIFEST_PATH = PROJECT_ROOT / "manifest.json"
SLACK_APPS = "api.slack.com/apps → your app"

# The smallest system prompt that gets cached, by model family. Conservative: the docs say
# 1,024 for Sonnet 4.6 but it has been 2,048 in practice (see /work/shared/FACTS.md).
MIN_CACHEABLE_TOKENS = {"sonnet": 2048, "opus": 4096, "haiku": 4096}
DEFAULT_MIN_CACHEABLE_TOKENS = 4096

# Used only when manifest.json cannot be read (e.g. an installed copy without it).
FALLBACK_BOT_SCOPES = ("commands", "chat:write", "files:write", "im:write", "users:read")
SCOPE_PURPOSES = {
    "commands": "the slash command",
    "chat:write": "posting drafts and reports",
    "files:write": "very long drafts and report files",
    "im:write": "opening a direct message for files",
    "users:read": "names in reports and recognising workspace admins",
    "im:history": "messages people send to Draftbot directly",
    "channels:history": "reading threads in public channels",
    "groups:history": "reading threads in private channels",
    "mpim:history": "reading threads in group direct messages",
    "channels:read": "checking who can see a linked conversation or post in a channel",
    "groups:read": "checking who can see a linked private channel",
    "mpim:read": "checking who can see a linked group direct message",
    "im:read": "checking who can see a linked direct message",
}

SECRET_SETTINGS = (
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "ANTHROPIC_API_KEY",
)


@dataclass(frozen=True)
class Check:
    name: str  # short, e.g. "Slack bot token"
    ok: bool
    detail: str  # what was found, in plain words
    fix: str = ""  # when not ok (or a warning): what to do, concretely
    warning: bool = False  # ok but worth attention (doesn't fail the exit status)


def _not_checked(name: str, reason: str) -> Check:
    return Check(name, ok=True, warning=True, detail=f"Not checked: {reason}.")


# ---------------------------------------------------------------------------- entry points


async def run_checks(environ: Mapping[str, str] | None = None) -> list[Check]:
    """Run every check. `environ` None: read settings like the app does (`.env`, then the
    environment)."""
    checks, settings = _settings_checks(environ)
    env: Mapping[str, str] = os.environ if environ is None else environ  # .env now loaded
    prompts_dir = _prompts_dir(settings, env)
    groups = await asyncio.gather(
        _guard("Slack bot token", _slack_token_checks(settings)),
        _guard("Slack connection mode", _connection_checks(settings)),
        _guard("Anthropic API key and model", _model_and_prompt_checks(settings, prompts_dir)),
        _guard("Database", asyncio.to_thread(_database_checks, settings)),
    )
    for group in groups:
        checks.extend(group)
    secrets = [env.get(name, "").strip() for name in SECRET_SETTINGS]
    if settings is not None:
        secrets += [
            settings.slack_bot_token,
            settings.slack_app_token,
            settings.slack_signing_secret,
            settings.anthropic_api_key,
        ]
    return [_redact(check, secrets) for check in checks]


def render_checks(checks: list[Check]) -> str:
    """One line per check (✓ passed, ✗ failed, ! worth attention), indented fixes, a summary."""
    lines: list[str] = []
    for check in checks:
        mark = "✗" if not check.ok else "!" if check.warning else "✓"
        lines.append(f"{mark} {check.name}: {check.detail}")
        if check.fix and (not check.ok or check.warning):
            lines.append(f"    Fix: {check.fix}")
    total = len(checks)
    failed = sum(1 for check in checks if not check.ok)
    warnings = sum(1 for check in checks if check.ok and check.warning)
    lines.append("")
    if failed:
        lines.append(f"{failed} of {total} checks failed.")
    else:
        summary = f"All {total} check{'' if total == 1 else 's'} passed."
        if warnings:
            summary += f" {warnings} {'is' if warnings == 1 else 'are'} worth a look (marked !)."
        lines.append(summary)
    return "\n".join(lines)


async def _guard(name: str, work: Awaitable[list[Check]]) -> list[Check]:
    """Run one group of checks; anything unexpected becomes a failed check, not a crash."""
    try:
        return await asyncio.wait_for(work, GROUP_TIMEOUT)
    except TimeoutError:
        return [
            Check(
                name,
                ok=False,
                detail=f"No answer within {GROUP_TIMEOUT:.0f} seconds.",
                fix="Check this machine's network connection and firewall, then run "
                "draftbot doctor again.",
            )
        ]
    except Exception as error:
        return [
            Check(
                name,
                ok=False,
                detail=f"The check itself failed unexpectedly ({type(error).__name__}: {error}).",
                fix="Run draftbot doctor again; if this persists, report it with this output.",
            )
        ]


def _redact(check: Check, secrets: list[str]) -> Check:
    """Belt and braces: no secret value survives into the report, whatever an error said."""
    name, detail, fix = check.name, check.detail, check.fix
    for secret in sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True):
        name = name.replace(secret, "[hidden]")
        detail = detail.replace(secret, "[hidden]")
        fix = fix.replace(secret, "[hidden]")
    return replace(check, name=name, detail=detail, fix=fix)


# ---------------------------------------------------------------------------------- settings


def _settings_checks(environ: Mapping[str, str] | None) -> tuple[list[Check], Settings | None]:
    """The settings check(s), and the settings to run the other checks with.

    When some settings are wrong, the non-secret ones (database, prompts, model, command…)
    are still loaded when they are valid, so the checks that need only them still run; each
    secret is then used only if it is present and looks right.
    """
    try:
        settings = load_settings(environ)
    except ConfigError as error:
        checks = [_settings_problem(problem) for problem in error.problems]
        try:
            partial = load_settings(environ, need_slack=False, need_anthropic=False)
        except ConfigError:
            partial = None
        return checks, partial
    mode = "Socket Mode" if settings.socket_mode else f"HTTP mode on port {settings.port}"
    detail = (
        f"All settings are present and valid ({mode}; model {settings.model}; "
        f"command {settings.command})."
    )
    return [Check("Settings", ok=True, detail=detail)], settings


def _settings_problem(problem: str) -> Check:
    """ConfigError problems read "What is wrong. What to do."; split them that way."""
    first_word = problem.split(" ", 1)[0].rstrip(":")
    is_setting = first_word.replace("_", "").isupper() and first_word.isidentifier()
    name = f"Setting {first_word}" if is_setting else "Settings"
    what, separator, todo = problem.partition(". ")
    if separator and todo:
        return Check(name, ok=False, detail=what + ".", fix=todo)
    return Check(
        name,
        ok=False,
        detail=problem,
        fix="Correct it in .env (or the environment); .env.example describes every setting.",
    )


def _prompts_dir(settings: Settings | None, env: Mapping[str, str]) -> Path | None:
    if settings is not None:
        return settings.prompts_dir
    folder = Path(env.get("DRAFTBOT_PROMPTS_DIR", "").strip() or DEFAULT_PROMPTS_DIR)
    return folder if folder.is_dir() else None


# ------------------------------------------------------------------------------------- Slack


def _slack_client(settings: Settings, token: str | None = None) -> AsyncWebClient:
    # No retries: the doctor should answer quickly, and say what it saw.
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=int(NETWORK_TIMEOUT),
        retry_handlers=[],
    )


def _slack_unreachable(name: str, settings: Settings, error: BaseException) -> Check:
    return Check(
        name,
        ok=False,
        detail=f"Could not reach Slack at {settings.slack_api_url} ({_describe(error)}).",
        fix="Check this machine's internet connection and firewall. If you set SLACK_API_URL, "
        "check it (normally https://slack.com/api/, or leave it unset).",
    )


async def _slack_token_checks(settings: Settings | None) -> list[Check]:
    """auth.test with the bot token; the granted scopes come back in its headers."""
    if settings is None or not settings.slack_bot_token.startswith("xoxb-"):
        return [
            _not_checked("Slack bot token", "SLACK_BOT_TOKEN is missing or malformed (see above)"),
            _not_checked("Slack scopes", "needs a working bot token"),
        ]
    name = "Slack bot token"
    try:
        response = await _slack_client(settings, settings.slack_bot_token).auth_test()
    except SlackApiError as error:
        code = str(error.response.get("error") or "unknown_error")
        return [_bot_token_failure(code), _not_checked("Slack scopes", "needs a working bot token")]
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        return [
            _slack_unreachable(name, settings, error),
            _not_checked("Slack scopes", "Slack could not be reached"),
        ]
    team = response.get("team") or response.get("team_id") or "?"
    user = response.get("user") or response.get("user_id") or "?"
    url = str(response.get("url") or "").removeprefix("https://").rstrip("/")
    where = f"{team} ({url})" if url else str(team)
    token_check = Check(name, ok=True, detail=f"Connected to workspace {where} as @{user}.")
    scopes = _header(response.headers, "x-oauth-scopes")
    return [token_check, _scopes_check(scopes)]


def _bot_token_failure(code: str) -> Check:
    name = "Slack bot token"
    copy_token = (
        f"Copy the Bot User OAuth Token (starts with xoxb-) from {SLACK_APPS} → "
        "OAuth & Permissions into SLACK_BOT_TOKEN"
    )
    if code in ("invalid_auth", "not_authed"):
        return Check(
            name,
            ok=False,
            detail=f"Slack does not recognise SLACK_BOT_TOKEN ({code}).",
            fix=f"{copy_token}. If that page shows no token, click Install to Workspace first.",
        )
    if code in ("token_revoked", "token_expired", "account_inactive", "app_uninstalled"):
        return Check(
            name,
            ok=False,
            detail=f"SLACK_BOT_TOKEN no longer works ({code}): the app was uninstalled from "
            "the workspace or its token was revoked.",
            fix=f"Reinstall the app: {SLACK_APPS} → OAuth & Permissions → Install to "
            "Workspace, then copy the new Bot User OAuth Token (xoxb-…) into SLACK_BOT_TOKEN.",
        )
    if code == "not_allowed_token_type":
        return Check(
            name,
            ok=False,
            detail="SLACK_BOT_TOKEN is not a bot token (not_allowed_token_type).",
            fix=f"{copy_token}; the xapp- app-level token goes in SLACK_APP_TOKEN instead.",
        )
    if code == "ratelimited":
        return Check(
            name,
            ok=False,
            detail="Slack is rate-limiting this app right now (ratelimited).",
            fix="Wait a minute and run draftbot doctor again.",
        )
    return Check(
        name,
        ok=False,
        detail=f"Slack refused the bot token check with the error {code}.",
        fix=f"{copy_token}, and look the error up at https://docs.slack.dev/reference/methods/"
        "auth.test if it persists.",
    )


def _scopes_check(granted_header: str | None) -> Check:
    name = "Slack scopes"
    needed, source = _manifest_scopes()
    if granted_header is None:
        return Check(
            name,
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
            name,
            ok=True,
            detail=f"The bot token has all {len(needed)} scopes Draftbot needs "
            f"({', '.join(needed)}){source}.",
        )
    described = ", ".join(
        f"{scope} ({SCOPE_PURPOSES[scope]})" if scope in SCOPE_PURPOSES else scope
        for scope in missing
    )
    return Check(
        name,
        ok=False,
        detail=f"The bot token is missing {len(missing)} scope{'s' if len(missing) > 1 else ''}"
        f" Draftbot needs: {described}.",
        fix=f"In {SLACK_APPS}, add them under OAuth & Permissions → Scopes, then reinstall the "
        "app (or recreate it from manifest.json), and copy the new bot token into "
        "SLACK_BOT_TOKEN if it changed.",
    )


def _read_manifest() -> dict[str, Any] | None:
    try:
        data = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _manifest_scopes() -> tuple[list[str], str]:
    """The bot scopes in manifest.json (and a note when the built-in list had to do)."""
    manifest = _read_manifest()
    try:
        scopes = manifest["oauth_config"]["scopes"]["bot"] if manifest else None
    except (KeyError, TypeError):
        scopes = None
    if isinstance(scopes, list) and all(isinstance(s, str) for s in scopes):
        return list(scopes), ""
    return list(FALLBACK_BOT_SCOPES), " (manifest.json not found: used the built-in list)"


def _other_request_urls() -> str:
    """The other app-settings pages that hold a Request URL in HTTP mode."""
    manifest = _read_manifest() or {}
    settings = manifest.get("settings")
    if isinstance(settings, dict) and settings.get("event_subscriptions"):
        return "Interactivity & Shortcuts and Event Subscriptions"
    return "Interactivity & Shortcuts"


def _manifest_commands() -> list[str] | None:
    manifest = _read_manifest()
    try:
        entries = manifest["features"]["slash_commands"] if manifest else None
    except (KeyError, TypeError):
        return None
    if not isinstance(entries, list):
        return None
    return [str(e["command"]) for e in entries if isinstance(e, dict) and "command" in e]


async def _connection_checks(settings: Settings | None) -> list[Check]:
    """Socket Mode (the app-level token works) or HTTP mode (a signing secret, and a
    reminder of the app settings), then the slash command's name against manifest.json."""
    name = "Slack connection mode"
    if settings is None:
        return [_not_checked(name, "the settings above need fixing first")]
    checks: list[Check] = []
    if settings.slack_app_token:
        if not settings.slack_app_token.startswith("xapp-"):
            checks.append(_not_checked(name, "SLACK_APP_TOKEN is malformed (see above)"))
        else:
            checks.append(await _socket_mode_check(settings))
    elif settings.slack_signing_secret:
        checks.append(
            Check(
                name,
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
                f"(the same under {_other_request_urls()}). Or set SLACK_APP_TOKEN to use "
                "Socket Mode, which needs no public URL.",
            )
        )
    else:
        checks.append(_not_checked(name, "neither SLACK_APP_TOKEN nor SLACK_SIGNING_SECRET is set"))
    checks.append(_command_check(settings.command))
    return checks


async def _socket_mode_check(settings: Settings) -> Check:
    name = "Slack connection mode"
    new_token = (
        f"Create an app-level token: {SLACK_APPS} → Basic Information → App-Level Tokens → "
        "Generate Token and Scopes, with the connections:write scope, and put the xapp-… "
        "token in SLACK_APP_TOKEN"
    )
    try:
        await _slack_client(settings).apps_connections_open(app_token=settings.slack_app_token)
    except SlackApiError as error:
        code = str(error.response.get("error") or "unknown_error")
        if code in ("invalid_auth", "not_authed", "token_revoked", "token_expired"):
            return Check(
                name,
                ok=False,
                detail=f"Socket Mode: Slack does not accept SLACK_APP_TOKEN ({code}).",
                fix=f"{new_token}. Also check that Socket Mode is on ({SLACK_APPS} → Socket Mode).",
            )
        if code == "not_allowed_token_type":
            return Check(
                name,
                ok=False,
                detail="Socket Mode: SLACK_APP_TOKEN is not an app-level token "
                "(not_allowed_token_type).",
                fix=f"{new_token}. The xoxb- bot token belongs in SLACK_BOT_TOKEN.",
            )
        if code == "missing_scope":
            return Check(
                name,
                ok=False,
                detail="Socket Mode: SLACK_APP_TOKEN lacks the connections:write scope.",
                fix=f"{new_token}.",
            )
        return Check(
            name,
            ok=False,
            detail=f"Socket Mode: Slack refused to open a connection ({code}).",
            fix=f"Check that Socket Mode is on ({SLACK_APPS} → Socket Mode). If it is: "
            f"{new_token}.",
        )
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        return _slack_unreachable(name, settings, error)
    return Check(name, ok=True, detail="Socket Mode: Slack accepted the app-level token.")


def _command_check(command: str) -> Check:
    name = "Slash command"
    defined = _manifest_commands()
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


# ------------------------------------------------------------------- Anthropic and prompts


@dataclass(frozen=True)
class _ModelResult:
    check: Check
    info: ModelInfo | None
    key_works: bool  # False: other models cannot be checked either


async def _model_and_prompt_checks(
    settings: Settings | None, prompts_dir: Path | None
) -> list[Check]:
    """Key and model(s), then the prompt files, their limits and their cache sizes."""
    library, prompt_check = _prompt_files_check(prompts_dir)
    limits_name, caching_name = "Prompt length limits", "Prompt caching"
    if settings is None or not settings.anthropic_api_key:
        reason = "ANTHROPIC_API_KEY is missing (see above)"
        return [
            _not_checked("Anthropic API key and model", reason),
            prompt_check,
            _not_checked(limits_name, "needs a working Anthropic key"),
            _not_checked(caching_name, "needs a working Anthropic key"),
        ]
    async with anthropic.AsyncAnthropic(
        api_key=settings.anthropic_api_key,
        base_url=settings.anthropic_base_url or DEFAULT_ANTHROPIC_BASE_URL,
        max_retries=0,
        timeout=NETWORK_TIMEOUT,
    ) as client:
        model_checks, infos = await _model_checks(client, settings, library)
        if library is None:
            reason = "the prompt files need fixing first"
            later = [_not_checked(limits_name, reason), _not_checked(caching_name, reason)]
        elif not infos:
            reason = "needs the Anthropic key and model checks above to pass"
            later = [_not_checked(limits_name, reason), _not_checked(caching_name, reason)]
        else:
            later = [
                _limits_check(library, settings, infos),
                await _caching_check(client, library, settings, set(infos), prompts_dir),
            ]
    return [*model_checks, prompt_check, *later]


async def _model_checks(
    client: anthropic.AsyncAnthropic, settings: Settings, library: PromptLibrary | None
) -> tuple[list[Check], dict[str, ModelInfo]]:
    """DRAFTBOT_MODEL first (it proves the key), then each other model a prompt file names."""
    first = await _retrieve_model(
        client, settings, settings.model, "Anthropic API key and model", "DRAFTBOT_MODEL"
    )
    checks, infos = [first.check], {}
    if first.info is not None:
        infos[settings.model] = first.info
    others: dict[str, list[str]] = {}
    for kind in library.kinds if library else ():
        if kind.model and kind.model != settings.model:
            others.setdefault(kind.model, []).append(kind.name)
    for model, kinds in others.items():
        name = f"Model {model}"
        if not first.key_works:
            checks.append(_not_checked(name, "needs a working Anthropic key"))
            continue
        source = (
            f"the `model:` line in the front matter of the {', '.join(kinds)} prompt "
            f"file{'s' if len(kinds) > 1 else ''}"
        )
        result = await _retrieve_model(client, settings, model, name, source)
        checks.append(
            replace(result.check, detail=f"{result.check.detail} Used by: {', '.join(kinds)}.")
        )
        if result.info is not None:
            infos[model] = result.info
    return checks, infos


async def _retrieve_model(
    client: anthropic.AsyncAnthropic, settings: Settings, model: str, name: str, source: str
) -> _ModelResult:
    try:
        info = await client.models.retrieve(model)
    except anthropic.AuthenticationError:
        check = Check(
            name,
            ok=False,
            detail="Anthropic rejected ANTHROPIC_API_KEY (401 authentication error).",
            fix="The key is wrong or revoked: create a new one at console.anthropic.com → API "
            "Keys and put it in ANTHROPIC_API_KEY.",
        )
        return _ModelResult(check, None, key_works=False)
    except anthropic.PermissionDeniedError:
        check = Check(
            name,
            ok=False,
            detail=f"ANTHROPIC_API_KEY is not allowed to use {model} (403 permission error).",
            fix="Check the key's workspace and permissions at console.anthropic.com → API Keys, "
            "or create a new key there.",
        )
        return _ModelResult(check, None, key_works=False)
    except anthropic.NotFoundError:
        check = Check(
            name,
            ok=False,
            detail=f"The key works, but Anthropic has no model called {model!r} (404).",
            fix=f"Model id not found: check {source} (for example claude-sonnet-4-6).",
        )
        return _ModelResult(check, None, key_works=True)
    except anthropic.APIConnectionError as error:
        where = settings.anthropic_base_url or DEFAULT_ANTHROPIC_BASE_URL
        timed_out = isinstance(error, anthropic.APITimeoutError)
        check = Check(
            name,
            ok=False,
            detail=f"Anthropic is unreachable at {where} "
            f"({'no answer within 10 seconds' if timed_out else 'could not connect'}).",
            fix="Check this machine's internet connection, firewall and proxy settings. If you "
            "set ANTHROPIC_BASE_URL, check it (normally leave it unset).",
        )
        return _ModelResult(check, None, key_works=False)
    except anthropic.APIStatusError as error:
        busy = error.status_code in (429, 529) or error.status_code >= 500
        check = Check(
            name,
            ok=False,
            detail=f"Anthropic answered with an error ({error.status_code}) when asked about "
            f"{model}.",
            fix="Anthropic is busy or having trouble: try again in a few minutes "
            "(status.anthropic.com)."
            if busy
            else "Check ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL, then try again.",
        )
        return _ModelResult(check, None, key_works=False)
    limit = f" allows up to {info.max_tokens:,} output tokens" if info.max_tokens else " works"
    check = Check(
        name, ok=True, detail=f"Key accepted; model {model} ({info.display_name}){limit}."
    )
    return _ModelResult(check, info, key_works=True)


def _prompt_files_check(prompts_dir: Path | None) -> tuple[PromptLibrary | None, Check]:
    name = "Prompt files"
    if prompts_dir is None:
        return None, _not_checked(name, "DRAFTBOT_PROMPTS_DIR is not a folder (see above)")
    try:
        library = load_prompts(prompts_dir)
    except Exception as error:  # PromptError, or an unreadable file
        return None, Check(
            name,
            ok=False,
            detail=f"The prompts in {prompts_dir} do not load: {error}",
            fix="Fix the file named above; README.md → 'Adding a kind of draft' shows the "
            "front matter every prompt file needs.",
        )
    kinds = ", ".join(
        f"{kind.name} (default)" if kind.is_default else kind.name for kind in library.kinds
    )
    detail = f"{len(library.kinds)} kinds load from {prompts_dir}: {kinds}."
    return library, Check(name, ok=True, detail=detail)


def _kind_model(kind: PromptKind, settings: Settings) -> str:
    return kind.model or settings.model


def _limits_check(
    library: PromptLibrary, settings: Settings, infos: Mapping[str, ModelInfo]
) -> Check:
    """Each kind's `max_tokens` must fit its model's maximum output."""
    name = "Prompt length limits"
    fits: list[str] = []
    too_big: list[str] = []
    fixes: list[str] = []
    unchecked: list[str] = []
    for kind in library.kinds:
        model = _kind_model(kind, settings)
        info = infos.get(model)
        if info is None or not info.max_tokens:
            unchecked.append(kind.name)
        elif kind.max_tokens > info.max_tokens:
            too_big.append(
                f"{kind.name} asks for max_tokens {kind.max_tokens:,} but {model} allows at most "
                f"{info.max_tokens:,}"
            )
            fixes.append(f"{kind.name}: at most {info.max_tokens:,}")
        else:
            fits.append(f"{kind.name} {kind.max_tokens:,} (≤ {info.max_tokens:,})")
    skipped = f" Not checked: {', '.join(unchecked)} (model unknown)." if unchecked else ""
    if too_big:
        return Check(
            name,
            ok=False,
            detail=f"{'; '.join(too_big)}: every draft of that kind would fail.{skipped}",
            fix=f"Lower `max_tokens:` in the front matter of the prompt file ({'; '.join(fixes)}) "
            "in " + str(settings.prompts_dir) + ", or give that kind a model that allows more.",
        )
    if not fits:
        return _not_checked(name, "no kind's model is known")
    return Check(name, ok=True, detail=f"Every kind fits its model: {', '.join(fits)}.{skipped}")


def min_cacheable_tokens(model: str) -> int:
    """The smallest cacheable prefix for `model`, by family (conservative)."""
    lowered = model.lower()
    for family, minimum in MIN_CACHEABLE_TOKENS.items():
        if family in lowered:
            return minimum
    return DEFAULT_MIN_CACHEABLE_TOKENS


async def _caching_check(
    client: anthropic.AsyncAnthropic,
    library: PromptLibrary,
    settings: Settings,
    known_models: set[str],
    prompts_dir: Path | None,
) -> Check:
    """Measure each kind's whole system prompt, and the shared house style alone (the first
    cache breakpoint), against the model's minimum cacheable prefix."""
    name = "Prompt caching"
    kinds = [kind for kind in library.kinds if _kind_model(kind, settings) in known_models]
    models = sorted({_kind_model(kind, settings) for kind in kinds})
    if not kinds:
        return _not_checked(name, "no kind's model is known")

    async def measure(model: str, system: list[dict[str, Any]]) -> int:
        counted = await client.messages.count_tokens(
            model=model,
            system=system,  # type: ignore[arg-type]
            messages=[{"role": "user", "content": "x"}],
        )
        return counted.input_tokens

    try:
        kind_sizes = await asyncio.gather(
            *(
                measure(
                    _kind_model(kind, settings), library.system_blocks(kind, settings.cache_ttl)
                )
                for kind in kinds
            )
        )
        house_sizes = await asyncio.gather(
            *(
                measure(model, library.system_blocks(kinds[0], settings.cache_ttl)[:1])
                for model in models
            )
        )
    except anthropic.APIError as error:
        return Check(
            name,
            ok=False,
            detail=f"Could not count the prompts' tokens ({_describe(error)}).",
            fix="Run draftbot doctor again in a minute; if it keeps failing, check the Anthropic "
            "checks above.",
        )

    house_path = (prompts_dir or settings.prompts_dir) / HOUSE_STYLE_FILE
    measured: list[str] = []
    too_short: list[str] = []
    for model, house in zip(models, house_sizes, strict=True):
        minimum = min_cacheable_tokens(model)
        sizes = [
            f"{kind.name} {size:,}"
            for kind, size in zip(kinds, kind_sizes, strict=True)
            if _kind_model(kind, settings) == model
        ]
        measured.append(
            f"{model} (minimum {minimum:,}): house style alone {house:,}, {', '.join(sizes)}"
        )
    for kind, size in zip(kinds, kind_sizes, strict=True):
        minimum = min_cacheable_tokens(_kind_model(kind, settings))
        if size < minimum:
            too_short.append(
                f"caching silently never happens for {kind.name}: its system prompt is "
                f"{size:,} tokens, below the {minimum:,}-token minimum"
            )
    short_house = [
        (model, house)
        for model, house in zip(models, house_sizes, strict=True)
        if house < min_cacheable_tokens(model)
    ]
    numbers = f"Measured tokens: {'; '.join(measured)}."
    if too_short:
        return Check(
            name,
            ok=False,
            detail=f"{'; '.join(too_short)}. {numbers}",
            fix=f"Lengthen {house_path} or the kind's file (with some margin above the minimum); "
            "until then every request pays full price for its system prompt.",
        )
    if short_house:
        model, house = short_house[0]
        return Check(
            name,
            ok=True,
            warning=True,
            detail=f"Every kind's system prompt is cached, but the shared house style alone is "
            f"{house:,} tokens, below the {min_cacheable_tokens(model):,}-token minimum for "
            f"{model}, so kinds do not share one cached copy of it. {numbers}",
            fix=f"Lengthen {house_path} if you want kinds to share its cache.",
        )
    return Check(name, ok=True, detail=f"Every system prompt is long enough to cache. {numbers}")


# ---------------------------------------------------------------------------------- database


def _database_checks(settings: Settings | None) -> list[Check]:
    name = "Database"
    if settings is not None and settings.database_url.startswith(POSTGRES_SCHEMES):
        return _check_postgres(name, settings.database_url)
    if settings is None or not settings.database_path:
        return [_not_checked(name, "DATABASE_URL needs fixing first (see above)")]
    path = Path(settings.database_path)
    shown = str(path) if path.is_absolute() else f"{path} (that is {path.resolve()})"
    fix = (
        "Check the path and permissions in DATABASE_URL: its folder must exist or be creatable, "
        "and be writable by the user running Draftbot (sqlite:////absolute/path/draftbot.db)."
    )
    if path.is_dir():
        return [
            Check(
                name,
                ok=False,
                detail=f"DATABASE_URL points at a folder, {shown}, not a database file.",
                fix="Add a file name to the path in DATABASE_URL, e.g. "
                f"sqlite:///{(path / 'draftbot.db').as_posix()}.",
            )
        ]
    existed = path.exists()
    try:
        store = Store(settings.database_path)
    except (OSError, sqlite3.Error) as error:
        return [Check(name, ok=False, detail=f"Cannot open {shown}: {error}.", fix=fix)]
    try:
        rows = store.check_writable()
    except sqlite3.Error as error:
        return [Check(name, ok=False, detail=f"{shown} is not writable: {error}.", fix=fix)]
    finally:
        store.close()
    new = " (created just now: it did not exist yet)" if not existed else ""
    detail = f"{shown} is writable{new}; the usage log has {rows:,} row{'s' if rows != 1 else ''}."
    return [Check(name, ok=True, detail=detail)]


def _check_postgres(name: str, url: str) -> list[Check]:
    parts = urlsplit(url)
    database = parts.path.lstrip("/") or "?"
    shown = f"PostgreSQL database {database} on {parts.hostname}:{parts.port or 5432}"
    try:
        store = open_store(url)
    except Exception as error:  # psycopg's errors: connection refused, auth, missing database
        return [
            Check(
                name,
                ok=False,
                detail=f"Cannot open the {shown}: {type(error).__name__}.",
                fix="Check DATABASE_URL (host, port, database name, user and password) and that "
                "the server accepts connections from this machine.",
            )
        ]
    try:
        rows = store.check_writable()
    finally:
        store.close()
    return [
        Check(name, ok=True, detail=f"The {shown} is writable; the usage log has {rows:,} rows.")
    ]


# ----------------------------------------------------------------------------------- helpers


def _header(headers: Mapping[str, Any] | None, wanted: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == wanted:
            return str(value)
    return None


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
