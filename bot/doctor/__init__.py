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
import os
from collections.abc import Mapping
from pathlib import Path

from bot.config import Settings
from bot.doctor.access import ACCESS_CHECK, access_checks
from bot.doctor.admin_settings import PRESETS_CHECK, admin_settings_checks
from bot.doctor.caching import CACHING_CHECK, caching_check, min_cacheable_tokens
from bot.doctor.connection import MODE_CHECK, connection_checks
from bot.doctor.database import DATABASE_CHECK, database_checks
from bot.doctor.models import KEY_CHECK, anthropic_client, model_checks
from bot.doctor.prompts import LIMITS_CHECK, limits_check, prompt_files_check
from bot.doctor.report import Check, guard, not_checked, redact, render_checks
from bot.doctor.settings import prompts_dir, settings_checks
from bot.doctor.slack import TOKEN_CHECK, slack_token_checks

__all__ = ["Check", "min_cacheable_tokens", "render_checks", "run_checks"]

SECRET_SETTINGS = (
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "ANTHROPIC_API_KEY",
)


async def run_checks(environ: Mapping[str, str] | None = None) -> list[Check]:
    """Run every check. `environ` None: read settings like the app does (`.env`, then the
    environment)."""
    checks, settings = settings_checks(environ)
    env: Mapping[str, str] = os.environ if environ is None else environ  # .env now loaded
    groups = await asyncio.gather(
        guard(TOKEN_CHECK, slack_token_checks(settings)),
        guard(ACCESS_CHECK, access_checks(settings)),
        guard(MODE_CHECK, connection_checks(settings)),
        guard(KEY_CHECK, _anthropic_checks(settings, prompts_dir(settings, env))),
        guard(DATABASE_CHECK, asyncio.to_thread(database_checks, settings)),
        guard(PRESETS_CHECK, asyncio.to_thread(admin_settings_checks, settings)),
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
    return [redact(check, secrets) for check in checks]


async def _anthropic_checks(settings: Settings | None, folder: Path | None) -> list[Check]:
    """Key and model(s), then the prompt files, their limits and their cache sizes."""
    library, prompt_check = prompt_files_check(folder)
    if settings is None or not settings.anthropic_api_key:
        return [
            not_checked(KEY_CHECK, "ANTHROPIC_API_KEY is missing (see above)"),
            prompt_check,
            *_not_measured("needs a working Anthropic key"),
        ]
    async with anthropic_client(settings) as client:
        models, infos = await model_checks(client, settings, library)
        if library is None:
            later = _not_measured("the prompt files need fixing first")
        elif not infos:
            later = _not_measured("needs the Anthropic key and model checks above to pass")
        else:
            later = [
                limits_check(library, settings, infos),
                await caching_check(client, library, settings, set(infos)),
            ]
    return [*models, prompt_check, *later]


def _not_measured(reason: str) -> list[Check]:
    return [not_checked(LIMITS_CHECK, reason), not_checked(CACHING_CHECK, reason)]
