"""One list of settings (bot/settings_list.py) behind the code, the README and .env.example:
these fail when any of them drifts from it, the way sqlite-utils tests its documentation."""

from __future__ import annotations

import re
from pathlib import Path

from bot.settings_list import (
    NAMES,
    OTHER_VARIABLES,
    README_END,
    README_START,
    SETTINGS,
    env_example,
    readme_table,
    unknown_settings,
)

ROOT = Path(__file__).resolve().parent.parent
FIX = "run `python -m bot.settings_list --write`"


def test_every_variable_the_code_reads_is_declared_and_nothing_else() -> None:
    # bot/access.py parses the access settings for bot/config.py.
    source = "".join((ROOT / "bot" / name).read_text() for name in ("config.py", "access.py"))
    # env.get("X"), env["X"] and helpers called as _seconds(env, "X", …)
    read = set(re.findall(r'(?:env\.get\(|env\[|\(env, )"([A-Z][A-Z0-9_]+)"', source))
    assert read - OTHER_VARIABLES == NAMES, "declare each setting in bot/settings_list.py"
    assert len(SETTINGS) == len(NAMES), "a setting is declared twice"


def test_the_readme_table_is_generated_from_the_list() -> None:
    readme = (ROOT / "README.md").read_text()
    between = readme.split(README_START, 1)[1].split(README_END, 1)[0]
    assert between.strip() == readme_table(), FIX


def test_env_example_is_generated_from_the_list() -> None:
    assert (ROOT / ".env.example").read_text() == env_example(), FIX
    for setting in SETTINGS:
        assert f"{setting.name}=" in env_example()


def test_a_mistyped_setting_is_named_with_what_was_meant() -> None:
    found = unknown_settings(["DRAFTBOT_MODLE", "SLACK_BOT_TOKN", "HOME", "DRAFTBOT_MODEL"])
    assert found == [
        "DRAFTBOT_MODLE is set but is not a Draftbot setting, so it does nothing. "
        "Did you mean DRAFTBOT_MODEL?",
        "SLACK_BOT_TOKN is set but is not a Draftbot setting, so it does nothing. "
        "Did you mean SLACK_BOT_TOKEN?",
    ]
    assert unknown_settings(["DRAFTBOT_TEST_POSTGRES_URL", "PATH"]) == []
