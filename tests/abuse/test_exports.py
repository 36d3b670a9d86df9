"""Report exports: names that are formulas stay text, and `--output` never overwrites the
database or any file that already exists (unless `--force`, and never the database)."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import cli
from bot.storage import Store
from tests.conftest import RunningBot
from tests.fakes.slack import FakeSlack
from tests.test_budgets import spend

# Display names a spreadsheet would run as formulas (OWASP's list of first characters).
FORMULA_NAMES = {
    "U0EQ": '=HYPERLINK("http://evil.example","Payroll")',
    "U0PLUS": "+1+1",
    "U0MINUS": "-2+3",
    "U0AT": "@SUM(1+1)*cmd|' /C calc'!A0",
    "U0TAB": "\t=1+1",
    "U0CR": "\r=1+1",
}
PLAIN_NAME = ("U0ALEX", "Alex Chen")


def assert_no_live_formulas(text: str) -> None:
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    labels = {row["key"]: row["label"] for row in rows}
    for user_id, name in FORMULA_NAMES.items():
        assert labels[user_id] == "'" + name, labels[user_id]  # shown as typed, as text
    assert labels[PLAIN_NAME[0]] == PLAIN_NAME[1]  # ordinary names untouched
    for row in rows:
        for column, value in row.items():
            if column != "cost_usd" and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
                pytest.fail(f"{column}={value!r} starts like a formula")


def seed(store: Store, fake_slack: FakeSlack) -> None:
    for user_id, name in [*FORMULA_NAMES.items(), PLAIN_NAME]:
        fake_slack.add_user(user_id, user_id.lower(), display_name=name)
        spend(store, user_id, 1_000_000_000)


@pytest.fixture
def cli_env(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict:
    monkeypatch.chdir(tmp_path)  # no developer .env can leak in
    return {k: v for k, v in env.items() if k != "ANTHROPIC_API_KEY"}


def db_path(env: dict[str, str]) -> Path:
    return Path(env["DATABASE_URL"].removeprefix("sqlite:///"))


def run(args: list[str], env: dict[str, str]) -> Result:
    return CliRunner().invoke(cli, args, env=env)


# ------------------------------------------------------------------ item 7: formulas


def test_cli_csv_keeps_formula_names_as_text(cli_env: dict, fake_slack: FakeSlack) -> None:
    store = Store(db_path(cli_env))
    seed(store, fake_slack)
    store.close()
    result = run(["report", "--format", "csv"], cli_env)
    assert result.exit_code == 0, result.output
    assert_no_live_formulas(result.stdout)


def test_negative_savings_stay_numbers_a_spreadsheet_can_sum(cli_env: dict) -> None:
    from tests.test_reports import usage

    store = Store(db_path(cli_env))
    store.record_usage(usage("U0NEW", "email", _today(), cache_write=50_000))  # writes only
    store.close()
    result = run(["report", "--format", "csv"], cli_env)
    [row] = list(csv.DictReader(io.StringIO(result.stdout)))
    assert row["savings_usd"].startswith("-") and float(row["savings_usd"]) < 0


def _today() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%d")


def test_cli_csv_from_cached_names_without_slack(cli_env: dict, fake_slack: FakeSlack) -> None:
    store = Store(db_path(cli_env))
    seed(store, fake_slack)
    for user_id, name in [*FORMULA_NAMES.items(), PLAIN_NAME]:
        store.save_person(user_id, name, "")
    store.close()
    env = {k: v for k, v in cli_env.items() if not k.startswith("SLACK")}
    result = run(["report", "--format", "csv", "--output", "usage.csv"], env)
    assert result.exit_code == 0, result.output
    with open("usage.csv", newline="") as file:
        assert_no_live_formulas(file.read())


async def test_slack_report_csv_keeps_formula_names_as_text(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    seed(bot.services.store, fake_slack)  # type: ignore[arg-type]
    reply = await bot.slash("report", user_id="UADMIN1")
    await asyncio.to_thread(fake_slack.wait_for_responses, reply.response_url, 1, 15.0)
    [table] = [f for f in fake_slack.uploads if f["filename"].endswith(".csv")]
    assert_no_live_formulas(table["content"].decode())


# ------------------------------------------------------------------ item 8: --output


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("output_format", ["csv", "json", "table", "png"])
def test_output_never_overwrites_the_database(cli_env: dict, output_format: str) -> None:
    database = db_path(cli_env)
    store = Store(database)
    spend(store, "U0ALEX", 1_000_000_000)
    store.close()
    before = digest(database)
    for args in ([], ["--force"]):
        for target in (str(database), database.name, f"./{database.name}"):
            result = run(["report", "--format", output_format, "--output", target, *args], cli_env)
            assert result.exit_code != 0
            assert "is Draftbot's database" in result.output
            assert "Traceback" not in result.output
    assert digest(database) == before
    assert Store(database).usage_rows()  # still the live database


def test_output_refuses_an_existing_file_unless_forced(cli_env: dict) -> None:
    Store(db_path(cli_env)).close()
    existing = Path("notes.csv")
    existing.write_text("my own notes\n")
    refused = run(["report", "--format", "csv", "--output", "notes.csv"], cli_env)
    assert refused.exit_code != 0
    assert "notes.csv already exists" in refused.output and "--force" in refused.output
    assert existing.read_text() == "my own notes\n"

    forced = run(["report", "--format", "csv", "--output", "notes.csv", "--force"], cli_env)
    assert forced.exit_code == 0, forced.output
    assert existing.read_text().startswith("key,label,")

    fresh = run(["report", "--format", "csv", "--output", "new.csv"], cli_env)
    assert fresh.exit_code == 0 and Path("new.csv").read_text().startswith("key,label,")


def test_output_refuses_the_usage_journal_even_when_forced(cli_env: dict) -> None:
    Store(db_path(cli_env)).close()
    journal = Path(cli_env["DRAFTBOT_JOURNAL_PATH"])
    journal.parent.mkdir(parents=True, exist_ok=True)
    journal.write_text('{"kept": "a billed usage row"}\n')
    result = run(["report", "--format", "csv", "--output", str(journal), "--force"], cli_env)
    assert result.exit_code != 0 and "usage journal" in result.output
    assert journal.read_text() == '{"kept": "a billed usage row"}\n'


def test_output_into_a_missing_folder_is_a_plain_message(cli_env: dict) -> None:
    Store(db_path(cli_env)).close()
    result = run(["report", "--format", "csv", "--output", "no/such/folder/usage.csv"], cli_env)
    assert result.exit_code != 0
    assert "no/such/folder/usage.csv" in result.output and "Traceback" not in result.output
