"""Whether the settings load, and the settings the other checks run with."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from bot.config import DEFAULT_PROMPTS_DIR, ConfigError, Settings, load_settings
from bot.doctor.report import Check
from bot.settings_list import unknown_settings

SETTING_NAME = re.compile(r"[A-Z][A-Z0-9_]+(?=[ :])")  # a problem starts with the setting's name


def settings_checks(environ: Mapping[str, str] | None) -> tuple[list[Check], Settings | None]:
    """The settings check(s), and the settings to run the other checks with.

    When some settings are wrong, the non-secret ones (database, prompts, model, command…)
    are still loaded when they are valid, so the checks that need only them still run; each
    secret is then used only if it is present and looks right.
    """
    try:
        settings = load_settings(environ)
    except ConfigError as error:
        checks = [_settings_problem(problem) for problem in error.problems]
        return [*checks, *_unknown_check(environ)], _without(environ, error.problems)
    mode = "Socket Mode" if settings.socket_mode else f"HTTP mode on port {settings.port}"
    detail = (
        f"All settings are present and valid ({mode}; model {settings.model}; "
        f"command {settings.command})."
    )
    return [Check("Settings", ok=True, detail=detail), *_unknown_check(environ)], settings


def _without(environ: Mapping[str, str] | None, problems: list[str]) -> Settings | None:
    """The settings with each one named in `problems` left at its default, so that one bad
    value (say PORT) does not stop the checks of the others (the tokens, the key)."""
    env = dict(os.environ if environ is None else environ)  # load_settings read .env already
    for problem in problems:
        named = SETTING_NAME.match(problem)
        if named:
            env.pop(named.group(0), None)
    try:
        return load_settings(env, need_slack=False, need_anthropic=False)
    except ConfigError:
        return None


def _unknown_check(environ: Mapping[str, str] | None) -> list[Check]:
    names = os.environ if environ is None else environ
    found = unknown_settings(names)
    if not found:
        return []
    return [
        Check(
            "Unknown settings",
            ok=True,
            warning=True,
            detail=" ".join(found),
            fix="Correct or remove them in .env (or the environment); README.md → Settings "
            "lists every setting.",
        )
    ]


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


def prompts_dir(settings: Settings | None, env: Mapping[str, str]) -> Path | None:
    """The prompts folder to check: the settings', or DRAFTBOT_PROMPTS_DIR if other settings
    did not load."""
    if settings is not None:
        return settings.prompts_dir
    folder = Path(env.get("DRAFTBOT_PROMPTS_DIR", "").strip() or DEFAULT_PROMPTS_DIR)
    return folder if folder.is_dir() else None
