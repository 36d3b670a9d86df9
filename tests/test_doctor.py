"""`draftbot doctor` against the local fakes: every check passes on a working set-up, and
each broken piece is named with a concrete fix, without hiding the other checks and
without ever printing a secret."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from bot.config import DEFAULT_PROMPTS_DIR, PROJECT_ROOT
from bot.doctor import Check, render_checks, run_checks
from tests.conftest import API_KEY, APP_TOKEN, BOT_TOKEN, SIGNING_SECRET
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.slack import FakeSlack

pytest_plugins = ["tests.postgres"]

WRONG_BOT_TOKEN = "xoxb-wrong-bot-token-123"
WRONG_APP_TOKEN = "xapp-wrong-app-token-456"
WRONG_API_KEY = "sk-ant-wrong-key-789"
SECRETS: tuple[str, ...] = (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, API_KEY)
SECRETS += (WRONG_BOT_TOKEN, WRONG_APP_TOKEN, WRONG_API_KEY)


async def doctor(env: dict[str, str]) -> tuple[dict[str, Check], str]:
    """Run the checks; return them by name and the rendered report (checked for secrets)."""
    checks = await run_checks(env)
    report = render_checks(checks)
    for secret in SECRETS:
        assert secret not in report
    names = [check.name for check in checks]
    assert len(names) == len(set(names)), names
    return {check.name: check for check in checks}, report


def manifest_scopes() -> list[str]:
    manifest = json.loads((PROJECT_ROOT / "manifest.json").read_text())
    return list(manifest["oauth_config"]["scopes"]["bot"])


@pytest.fixture(autouse=True)
def installed_app(fake_slack: FakeSlack) -> None:
    """The bot token has exactly the scopes manifest.json asks for, as after an install."""
    fake_slack.scopes = manifest_scopes()


def failed(checks: dict[str, Check]) -> set[str]:
    return {name for name, check in checks.items() if not check.ok}


def prompts_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "prompts"
    shutil.copytree(DEFAULT_PROMPTS_DIR, folder)
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


async def test_a_working_setup_passes_every_check(env: dict[str, str]) -> None:
    checks, report = await doctor(env)
    assert failed(checks) == set()
    assert {
        "Settings",
        "Slack bot token",
        "Slack scopes",
        "Slack connection mode",
        "Slash command",
        "Anthropic API key and model",
        "Prompt files",
        "Prompt length limits",
        "Prompt caching",
        "Database",
    } <= set(checks)
    assert f"All {len(checks)} checks passed." in report
    assert "Connected to workspace Draftbot Test Workspace" in checks["Slack bot token"].detail
    assert "@draftbot" in checks["Slack bot token"].detail
    model = checks["Anthropic API key and model"].detail
    assert "Claude Sonnet 4.6" in model and "64,000" in model
    caching = checks["Prompt caching"].detail
    assert "minimum 2,048" in caching and "house style alone" in caching
    assert "usage log has 0 rows" in checks["Database"].detail
    # HTTP mode: a reminder about the app settings, which does not fail the run.
    reminder = checks["Slack Request URL"]
    assert reminder.ok and reminder.warning
    assert "https://YOUR-HOST/slack/events" in reminder.fix and "Socket Mode off" in reminder.fix
    assert "! Slack Request URL" in report and "✓ Slack bot token" in report


async def test_settings_come_from_dotenv_like_the_app(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Start from an environment without Draftbot settings; load_dotenv writes to os.environ,
    # so every name goes through monkeypatch, which restores it afterwards.
    read_by_draftbot = ("SLACK_", "ANTHROPIC_", "DRAFTBOT_", "DATABASE_URL", "PORT", "ADMIN_")
    for name in {*env, *(key for key in os.environ if key.startswith(read_by_draftbot))}:
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("".join(f"{key}={value}\n" for key, value in env.items()))
    checks = await run_checks()
    assert [check.name for check in checks if not check.ok] == []
    assert f"All {len(checks)} checks passed." in render_checks(checks)


async def test_empty_environment_names_missing_settings_and_still_checks_prompts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the default database, draftbot.db, lands here
    checks, report = await doctor({})
    assert "Setting SLACK_BOT_TOKEN" in failed(checks)
    assert "Setting ANTHROPIC_API_KEY" in failed(checks)
    assert "SLACK_SIGNING_SECRET" in report and "console.anthropic.com" in report
    assert "OAuth & Permissions" in checks["Setting SLACK_BOT_TOKEN"].fix
    assert checks["Prompt files"].ok and "5 kinds" in checks["Prompt files"].detail
    assert checks["Database"].ok
    for name in ("Slack bot token", "Anthropic API key and model", "Prompt caching"):
        assert checks[name].warning and "Not checked" in checks[name].detail
    assert f"{len(failed(checks))} of {len(checks)} checks failed." in report


async def test_wrong_bot_token_is_named_and_hides_nothing_else(env: dict[str, str]) -> None:
    checks, report = await doctor({**env, "SLACK_BOT_TOKEN": WRONG_BOT_TOKEN})
    assert failed(checks) == {"Slack bot token"}
    token = checks["Slack bot token"]
    assert "invalid_auth" in token.detail
    assert "OAuth & Permissions" in token.fix and "SLACK_BOT_TOKEN" in token.fix
    assert "Not checked" in checks["Slack scopes"].detail
    assert checks["Anthropic API key and model"].ok and checks["Database"].ok
    assert "1 of" in report and "Fix: Copy the Bot User OAuth Token" in report


async def test_revoked_bot_token_says_reinstall(env: dict[str, str], fake_slack: FakeSlack) -> None:
    fake_slack.fail("auth.test", error="token_revoked")
    checks, _ = await doctor(env)
    assert "uninstalled" in checks["Slack bot token"].detail
    assert "Install to Workspace" in checks["Slack bot token"].fix


async def test_missing_scope_is_named_with_where_to_add_it(
    env: dict[str, str], fake_slack: FakeSlack
) -> None:
    fake_slack.scopes = [scope for scope in manifest_scopes() if scope != "users:read"]
    checks, _ = await doctor(env)
    assert failed(checks) == {"Slack scopes"}
    scopes = checks["Slack scopes"]
    assert "users:read" in scopes.detail and "chat:write" not in scopes.detail
    assert "add them under OAuth & Permissions → Scopes, then reinstall the app" in scopes.fix
    assert "recreate it from manifest.json" in scopes.fix


async def test_wrong_anthropic_key(env: dict[str, str]) -> None:
    checks, _ = await doctor({**env, "ANTHROPIC_API_KEY": WRONG_API_KEY})
    assert failed(checks) == {"Anthropic API key and model"}
    key = checks["Anthropic API key and model"]
    assert "401" in key.detail
    assert "The key is wrong or revoked: create a new one at console.anthropic.com → API Keys" in (
        key.fix
    )
    assert checks["Prompt files"].ok  # the prompts still load
    assert checks["Prompt caching"].warning and checks["Slack bot token"].ok


async def test_unknown_model_id(env: dict[str, str]) -> None:
    checks, _ = await doctor({**env, "DRAFTBOT_MODEL": "claude-sonnet-9-9"})
    model = checks["Anthropic API key and model"]
    assert not model.ok
    assert "claude-sonnet-9-9" in model.detail and "404" in model.detail
    assert "check DRAFTBOT_MODEL" in model.fix


async def test_unreachable_anthropic(env: dict[str, str]) -> None:
    checks, _ = await doctor({**env, "ANTHROPIC_BASE_URL": "http://127.0.0.1:9"})
    model = checks["Anthropic API key and model"]
    assert not model.ok and "unreachable" in model.detail
    assert "ANTHROPIC_BASE_URL" in model.fix


async def test_max_tokens_above_the_models_maximum(env: dict[str, str], tmp_path: Path) -> None:
    prompts = prompts_copy(tmp_path)
    edit(prompts / "email.md", "max_tokens: 1500", "max_tokens: 100000")
    checks, _ = await doctor({**env, "DRAFTBOT_PROMPTS_DIR": str(prompts)})
    assert failed(checks) == {"Prompt length limits"}
    limits = checks["Prompt length limits"]
    assert "email" in limits.detail and "100,000" in limits.detail and "64,000" in limits.detail
    assert "summary" not in limits.detail
    assert "max_tokens" in limits.fix and "64,000" in limits.fix


async def test_prompt_too_short_to_cache(env: dict[str, str], tmp_path: Path) -> None:
    prompts = prompts_copy(tmp_path)
    (prompts / "_house_style.md").write_text("Be brief and polite.\n")
    checks, _ = await doctor({**env, "DRAFTBOT_PROMPTS_DIR": str(prompts)})
    assert failed(checks) == {"Prompt caching"}
    caching = checks["Prompt caching"]
    assert "caching silently never happens for email: its system prompt is" in caching.detail
    assert "below the 2,048-token minimum" in caching.detail
    assert "house style alone 6" in caching.detail  # the measured numbers are reported
    assert f"Lengthen {prompts / '_house_style.md'} or the kind's file" in caching.fix


async def test_kind_with_its_own_model(
    env: dict[str, str], tmp_path: Path, fake_anthropic: FakeAnthropic
) -> None:
    prompts = prompts_copy(tmp_path)
    edit(prompts / "message.md", "max_tokens: 800", "max_tokens: 800\nmodel: claude-haiku-4-5")
    checks, _ = await doctor({**env, "DRAFTBOT_PROMPTS_DIR": str(prompts)})
    assert failed(checks) == set()
    assert "Claude Haiku 4.5" in checks["Model claude-haiku-4-5"].detail
    assert "message" in checks["Model claude-haiku-4-5"].detail
    # Haiku caches from 4,096 tokens: the whole message prompt is long enough, and so is the
    # shared house style alone (tests/test_company_pack.py covers the warning when it is not).
    caching = checks["Prompt caching"]
    assert not caching.warning and "claude-haiku-4-5 (minimum 4,096)" in caching.detail

    fake_anthropic.known_models.discard("claude-haiku-4-5")
    checks, _ = await doctor({**env, "DRAFTBOT_PROMPTS_DIR": str(prompts)})
    assert failed(checks) == {"Model claude-haiku-4-5"}
    assert "front matter of the message prompt" in checks["Model claude-haiku-4-5"].fix


async def test_unopenable_database(env: dict[str, str], tmp_path: Path) -> None:
    checks, _ = await doctor({**env, "DATABASE_URL": "sqlite:////proc/nope/x.db"})
    assert failed(checks) == {"Database"}
    assert "/proc/nope/x.db" in checks["Database"].detail
    assert "Check the path and permissions in DATABASE_URL" in checks["Database"].fix

    checks, _ = await doctor({**env, "DATABASE_URL": f"sqlite:///{tmp_path}"})
    assert failed(checks) == {"Database"}
    assert "points at a folder" in checks["Database"].detail
    assert "DATABASE_URL" in checks["Database"].fix


async def test_database_reports_usage_rows(env: dict[str, str], tmp_path: Path) -> None:
    from bot.storage import Store, UsageRecord

    store = Store(tmp_path / "draftbot.db")
    store.record_usage(
        UsageRecord(user_id="U1", source="cli", kind="email", model="m", status="ok")
    )
    store.close()
    checks, _ = await doctor(env)
    assert "usage log has 1 row." in checks["Database"].detail
    assert "created just now" not in checks["Database"].detail


async def test_socket_mode(env: dict[str, str]) -> None:
    checks, report = await doctor({**env, "SLACK_APP_TOKEN": APP_TOKEN})
    assert failed(checks) == set()
    assert checks["Slack connection mode"].detail == (
        "Socket Mode: Slack accepted the app-level token."
    )
    assert "Slack Request URL" not in checks
    assert f"All {len(checks)} checks passed." in report


async def test_socket_mode_with_a_bad_app_token(env: dict[str, str]) -> None:
    checks, _ = await doctor({**env, "SLACK_APP_TOKEN": WRONG_APP_TOKEN})
    assert failed(checks) == {"Slack connection mode"}
    mode = checks["Slack connection mode"]
    assert "SLACK_APP_TOKEN" in mode.detail and "invalid_auth" in mode.detail
    assert "App-Level Tokens" in mode.fix and "connections:write" in mode.fix


async def test_command_name_mismatch_is_a_warning(env: dict[str, str]) -> None:
    checks, report = await doctor({**env, "DRAFTBOT_COMMAND": "/write"})
    command = checks["Slash command"]
    assert command.ok and command.warning
    assert "/write" in command.detail and "/draft" in command.detail
    assert "manifest.json" in command.fix and "Slash Commands" in command.fix
    assert failed(checks) == set() and f"All {len(checks)} checks passed." in report


def test_render_checks() -> None:
    report = render_checks(
        [
            Check("Slack bot token", ok=True, detail="Connected."),
            Check("Database", ok=False, detail="Not writable.", fix="Check DATABASE_URL."),
            Check("Slash command", ok=True, detail="Differs.", fix="Edit it.", warning=True),
        ]
    )
    assert report.splitlines() == [
        "✓ Slack bot token: Connected.",
        "✗ Database: Not writable.",
        "    Fix: Check DATABASE_URL.",
        "! Slash command: Differs.",
        "    Fix: Edit it.",
        "",
        "1 of 3 checks failed.",
    ]
    assert render_checks([Check("A", ok=True, detail="fine.")]).endswith("All 1 check passed.")


async def test_postgresql_database(env: dict[str, str], postgres_url: str) -> None:
    checks, report = await doctor({**env, "DATABASE_URL": postgres_url})
    assert checks["Database"].ok, report
    assert "PostgreSQL database" in checks["Database"].detail
    wrong = postgres_url.replace("@", "-wrong@", 1) if "@" in postgres_url else postgres_url + "x"
    checks, report = await doctor({**env, "DATABASE_URL": wrong})
    assert not checks["Database"].ok
    assert "Check DATABASE_URL" in checks["Database"].fix


async def test_usage_rows_waiting_in_the_journal_are_reported(
    env: dict[str, str], tmp_path: Path
) -> None:
    from bot.storage import UsageRecord
    from bot.storage.journal import UsageJournal

    checks, _ = await doctor(env)
    assert checks["Usage journal"].ok
    journal = UsageJournal(Path(env["DRAFTBOT_JOURNAL_PATH"]))
    record = UsageRecord(user_id="U1", source="slash", kind="email", model="m", status="ok")
    journal.keep(record, OSError("disk full"))
    journal.keep(record, OSError("disk full"))
    checks, _ = await doctor(env)
    assert failed(checks) == {"Usage journal"}
    assert "holds 2 usage rows the database refused" in checks["Usage journal"].detail
    assert "writes them back by itself" in checks["Usage journal"].fix


async def test_an_unreachable_postgresql_is_named_with_its_cause(env: dict[str, str]) -> None:
    url = "postgresql://draftbot:hunter2-secret@127.0.0.1:9/draftbot"
    checks, report = await doctor({**env, "DATABASE_URL": url})
    database = checks["Database"]
    assert not database.ok
    assert database.detail == (
        "Cannot open the PostgreSQL database draftbot on 127.0.0.1:9: connection refused."
    )
    assert "hunter2-secret" not in report and "OperationalError" not in report


def test_a_wrong_postgresql_password_says_so_without_the_password(postgres_url: str) -> None:
    from urllib.parse import urlsplit, urlunsplit

    from bot.storage import StorageUnavailable, open_store

    parts = urlsplit(postgres_url)
    host = f"{parts.hostname}:{parts.port}"
    wrong = urlunsplit(parts._replace(netloc=f"nobody-here:pw-xyz-123@{host}"))
    with pytest.raises(StorageUnavailable) as refused:
        open_store(wrong)
    message = str(refused.value)
    assert "nobody-here" in message and "pw-xyz-123" not in message
    assert "OperationalError" not in message


async def test_one_bad_setting_leaves_the_other_checks_judging_their_own(
    env: dict[str, str],
) -> None:
    checks, report = await doctor({**env, "PORT": "abc"})
    assert failed(checks) == {"Setting PORT"}, report
    assert "PORT must be a number between 1 and 65535, not 'abc'" in report
    assert checks["Slack bot token"].ok and not checks["Slack bot token"].warning
    assert checks["Anthropic API key and model"].ok
    assert "missing" not in checks["Slack bot token"].detail


async def test_a_mistyped_setting_is_pointed_out(env: dict[str, str]) -> None:
    checks, _ = await doctor({**env, "DRAFTBOT_MODLE": "claude-haiku-4-5"})
    typo = checks["Unknown settings"]
    assert typo.ok and typo.warning
    assert "DRAFTBOT_MODLE is set but is not a Draftbot setting" in typo.detail
    assert "Did you mean DRAFTBOT_MODEL?" in typo.detail
    clean, _ = await doctor(env)
    assert "Unknown settings" not in clean
