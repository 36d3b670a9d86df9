"""The Anthropic key and models: ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL, DRAFTBOT_MODEL and
each `model:` a prompt file names."""

from __future__ import annotations

from dataclasses import dataclass, replace

import anthropic
from anthropic.types import ModelInfo

from bot.config import Settings
from bot.doctor.report import NETWORK_TIMEOUT, Check, not_checked
from bot.prompts import PromptLibrary

KEY_CHECK = "Anthropic API key and model"
DEFAULT_ANTHROPIC_BASE_URL = "https://api.anthropic.com"


def anthropic_client(settings: Settings) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(
        api_key=settings.anthropic_api_key,
        base_url=_base_url(settings),
        max_retries=0,
        timeout=NETWORK_TIMEOUT,
    )


def _base_url(settings: Settings) -> str:
    return settings.anthropic_base_url or DEFAULT_ANTHROPIC_BASE_URL


@dataclass(frozen=True)
class _ModelResult:
    check: Check
    info: ModelInfo | None
    key_works: bool  # False: other models cannot be checked either


async def model_checks(
    client: anthropic.AsyncAnthropic, settings: Settings, library: PromptLibrary | None
) -> tuple[list[Check], dict[str, ModelInfo]]:
    """DRAFTBOT_MODEL first (it proves the key), then each other model a prompt file names."""
    first = await _retrieve_model(client, settings, settings.model, KEY_CHECK, "DRAFTBOT_MODEL")
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
            checks.append(not_checked(name, "needs a working Anthropic key"))
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
    except (anthropic.APIConnectionError, anthropic.APIStatusError) as error:
        check = _model_failure(name, error, settings, model, source)
        # Of these errors, only a missing model shows that the key works.
        return _ModelResult(check, None, key_works=isinstance(error, anthropic.NotFoundError))
    limit = f" allows up to {info.max_tokens:,} output tokens" if info.max_tokens else " works"
    check = Check(
        name, ok=True, detail=f"Key accepted; model {model} ({info.display_name}){limit}."
    )
    return _ModelResult(check, info, key_works=True)


def _model_failure(
    name: str,
    error: anthropic.APIConnectionError | anthropic.APIStatusError,
    settings: Settings,
    model: str,
    source: str,
) -> Check:
    if isinstance(error, anthropic.AuthenticationError):
        return Check(
            name,
            ok=False,
            detail="Anthropic rejected ANTHROPIC_API_KEY (401 authentication error).",
            fix="The key is wrong or revoked: create a new one at console.anthropic.com → API "
            "Keys and put it in ANTHROPIC_API_KEY.",
        )
    if isinstance(error, anthropic.PermissionDeniedError):
        return Check(
            name,
            ok=False,
            detail=f"ANTHROPIC_API_KEY is not allowed to use {model} (403 permission error).",
            fix="Check the key's workspace and permissions at console.anthropic.com → API Keys, "
            "or create a new key there.",
        )
    if isinstance(error, anthropic.NotFoundError):
        return Check(
            name,
            ok=False,
            detail=f"The key works, but Anthropic has no model called {model!r} (404).",
            fix=f"Model id not found: check {source} (for example claude-sonnet-4-6).",
        )
    if isinstance(error, anthropic.APIConnectionError):
        waited = f"no answer within {NETWORK_TIMEOUT:.0f} seconds"
        why = waited if isinstance(error, anthropic.APITimeoutError) else "could not connect"
        return Check(
            name,
            ok=False,
            detail=f"Anthropic is unreachable at {_base_url(settings)} ({why}).",
            fix="Check this machine's internet connection, firewall and proxy settings. If you "
            "set ANTHROPIC_BASE_URL, check it (normally leave it unset).",
        )
    busy = error.status_code in (429, 529) or error.status_code >= 500
    return Check(
        name,
        ok=False,
        detail=f"Anthropic answered with an error ({error.status_code}) when asked about {model}.",
        fix="Anthropic is busy or having trouble: try again in a few minutes "
        "(status.anthropic.com)."
        if busy
        else "Check ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL, then try again.",
    )
