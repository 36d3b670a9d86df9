"""Settings are validated at start-up with messages an admin can act on, never echoing secrets."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings

VALID = {
    "SLACK_BOT_TOKEN": "xoxb-1-secret-bot",
    "SLACK_SIGNING_SECRET": "signing-secret-value",
    "ANTHROPIC_API_KEY": "sk-ant-secret-key",
}


def test_defaults() -> None:
    settings = load_settings(VALID)
    assert settings.model == "claude-sonnet-4-6"
    assert settings.command == "/draft"
    assert settings.database_path == "draftbot.db"
    assert settings.port == 3000
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.admin_user_ids == frozenset()
    assert not settings.socket_mode


def test_empty_environment_names_every_missing_setting() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({})
    report = caught.value.report()
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "ANTHROPIC_API_KEY"):
        assert name in report
    assert "api.slack.com/apps" in report and "console.anthropic.com" in report


def test_socket_mode_needs_no_signing_secret() -> None:
    env = {**VALID, "SLACK_APP_TOKEN": "xapp-1-abc"}
    del env["SLACK_SIGNING_SECRET"]
    assert load_settings(env).socket_mode


@pytest.mark.parametrize(
    ("name", "value", "complaint"),
    [
        ("SLACK_BOT_TOKEN", "xoxp-user-token-secret", "must start with xoxb-"),
        ("SLACK_APP_TOKEN", "xoxb-wrong-kind-secret", "must start with xapp-"),
        ("PORT", "eighty", "PORT must be a number"),
        ("DATABASE_URL", "mysql://db", "DATABASE_URL must look like sqlite:///"),
        ("ADMIN_USER_IDS", "U012AB3CD, alex", "these are not: alex"),
        ("DRAFTBOT_COMMAND", "draft", "DRAFTBOT_COMMAND must be a slash command"),
        ("DRAFTBOT_CACHE_TTL", "10m", "DRAFTBOT_CACHE_TTL must be 5m or 1h"),
        ("SLACK_API_URL", "slack.com/api", "SLACK_API_URL must be an http(s) URL"),
    ],
)
def test_malformed_settings_are_explained_without_echoing_secrets(
    name: str, value: str, complaint: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({**VALID, name: value})
    report = caught.value.report()
    assert complaint in report
    assert "secret" not in report.replace("Signing Secret", "").replace("SECRET", "")


def test_admin_ids_and_absolute_database_path() -> None:
    settings = load_settings(
        {**VALID, "ADMIN_USER_IDS": "U012AB3CD, W0ABC", "DATABASE_URL": "sqlite:////var/db.sqlite"}
    )
    assert settings.admin_user_ids == {"U012AB3CD", "W0ABC"}
    assert settings.database_path == "/var/db.sqlite"


def test_terminal_commands_do_not_need_slack() -> None:
    assert load_settings({"ANTHROPIC_API_KEY": "sk-ant-x"}, need_slack=False).model


def test_secrets_are_not_in_repr() -> None:
    assert "secret" not in repr(load_settings(VALID))
