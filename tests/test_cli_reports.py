"""`draftbot report` and `draftbot budget`, run in-process with click's runner."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import cli
from bot.storage import Store
from tests.fakes.slack import FakeSlack
from tests.test_reports import usage

MONTH = datetime.now(UTC).strftime("%Y-%m")


@pytest.fixture
def report_env(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict:
    monkeypatch.chdir(tmp_path)  # no developer .env can leak in
    store = Store(env["DATABASE_URL"].removeprefix("sqlite:///"))
    for record in [
        usage("U0ALEX", "email", f"{MONTH}-01", cache_write=4000),
        usage("U0ALEX", "email", f"{MONTH}-01", cache_read=4000),
        usage("U0SAM", "code", f"{MONTH}-01", output_tokens=3000),
        usage("U0SAM", "summary", "2020-01-05"),
    ]:
        store.record_usage(record)
    store.close()
    return {k: v for k, v in env.items() if k != "ANTHROPIC_API_KEY"}


def run(args: list[str], env: dict[str, str]) -> Result:
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


def test_table_by_person_with_slack_names(report_env: dict, fake_slack: FakeSlack) -> None:
    fake_slack.add_user("U0ALEX", "alex", display_name="Alex Chen")
    result = run(["report"], report_env)
    assert result.exit_code == 0, result.output
    assert "Draftbot usage by person" in result.output
    assert "Alex Chen (U0ALEX)" in result.output
    assert "Total" in result.output and " 3 " in result.output


def test_the_default_table_fits_100_columns_and_wide_shows_every_column(
    report_env: dict,
) -> None:
    long_name = "Alexandra Katharina Montgomery-Featherstonehaugh of Accounts Payable"
    Store(report_env["DATABASE_URL"].removeprefix("sqlite:///")).save_person(
        "U0ALEX", long_name, ""
    )
    env = {k: v for k, v in report_env.items() if not k.startswith("SLACK")}
    narrow = run(["report"], env).output
    assert max(map(len, narrow.splitlines())) <= 100, narrow
    assert "Alexandra Katharina" in narrow and "…" in narrow and long_name not in narrow
    header = next(line for line in narrow.splitlines() if line.startswith("Person"))
    assert "Cost" in header and "Input" not in header and "Cache write" not in header
    assert "--wide" in narrow

    wide = run(["report", "--wide"], env).output
    header = next(line for line in wide.splitlines() if line.startswith("Person"))
    assert "Input" in header and "Cache write" in header and "First token" in header
    assert f"{long_name} (U0ALEX)" in wide
    lines = wide.splitlines()
    total = next(n for n, line in enumerate(lines) if line.startswith("Total"))
    assert set(lines[total - 1]) <= {"-", " "}, "a rule sets the total apart"


def test_negative_cache_savings_are_explained(report_env: dict) -> None:
    note = "cache writes cost more than cache reads saved this period"
    assert note not in run(["report"], report_env).output  # Alex's cache read paid off
    store = Store(report_env["DATABASE_URL"].removeprefix("sqlite:///"))
    store.record_usage(usage("U0NEW", "message", f"{MONTH}-01", cache_write=50_000))
    store.close()
    assert note in run(["report"], report_env).output


def test_by_channel_names_channels_and_groups_direct_messages(
    report_env: dict, fake_slack: FakeSlack
) -> None:
    store = Store(report_env["DATABASE_URL"].removeprefix("sqlite:///"))
    for channel, cost in [("C0SUPPORT", 2000), ("D0ALEX", 100), ("D0SAM", 300), (None, 50)]:
        store.record_usage(
            replace(usage("U0ALEX", "email", f"{MONTH}-02", output_tokens=cost), channel_id=channel)
        )
    store.close()
    fake_slack.add_channel("C0SUPPORT", "support")
    result = run(["report", "--by", "channel", "--format", "json"], report_env)
    assert result.exit_code == 0, result.output
    rows = {row["label"]: row for row in json.loads(result.output)["rows"]}
    # The fixture's rows have no channel (as from the terminal); DMs are one row.
    assert set(rows) == {"#support", "direct messages", "terminal (draftbot draft)"}
    assert rows["direct messages"]["requests"] == 2
    assert rows["#support"]["key"] == "C0SUPPORT" and rows["#support"]["requests"] == 1
    assert rows["terminal (draftbot draft)"]["requests"] == 4
    table = run(["report", "--by", "channel"], report_env).output
    assert "Channel" in table and "#support" in table

    # Without a Slack token: ids, and the same words for the rows that are not channels.
    env = {k: v for k, v in report_env.items() if not k.startswith("SLACK")}
    table = run(["report", "--by", "channel"], env).output
    assert "C0SUPPORT" in table and "direct messages" in table


def test_names_come_from_the_cache_without_slack(report_env: dict) -> None:
    Store(report_env["DATABASE_URL"].removeprefix("sqlite:///")).save_person(
        "U0SAM", "Sam Okafor", ""
    )
    env = {k: v for k, v in report_env.items() if not k.startswith("SLACK")}
    result = run(["report", "--by", "user"], env)
    assert "Sam Okafor (U0SAM)" in result.output


def test_csv_to_a_file_parses_back(report_env: dict, tmp_path: Path) -> None:
    out = tmp_path / "usage.csv"
    result = run(["report", "--by", "kind", "--format", "csv", "--output", str(out)], report_env)
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert {row["key"] for row in rows} == {"email", "code"}
    assert sum(int(row["requests"]) for row in rows) == 3


def test_json_matches_table_totals(report_env: dict) -> None:
    document = json.loads(run(["report", "--format", "json"], report_env).output)
    total = Decimal(document["total"]["cost_usd"])
    assert total == sum(Decimal(row["cost_usd"]) for row in document["rows"])
    table = run(["report"], report_env).output
    assert f"${total:.4f}" in table


def test_png_chart(report_env: dict, tmp_path: Path) -> None:
    from PIL import Image

    out = tmp_path / "chart.png"
    result = run(["report", "--format", "png", "--output", str(out)], report_env)
    assert result.exit_code == 0, result.output
    with Image.open(out) as image:
        assert image.size == (1600, 900)
        assert len(image.convert("RGB").getcolors(1_000_000) or []) > 50  # not blank


def test_date_range_and_errors(report_env: dict) -> None:
    old = run(["report", "--since", "2020-01-01", "--until", "2020-01-31"], report_env)
    assert "U0SAM" in old.output and "U0ALEX" not in old.output
    bad = CliRunner().invoke(cli, ["report", "--since", "2026-11-20", "--until", "2026-11-01"],
                             env=report_env)  # fmt: skip
    assert bad.exit_code == 2 and "before --since" in bad.output
    png = CliRunner().invoke(cli, ["report", "--format", "png"], env=report_env)
    assert png.exit_code == 2 and "needs --output" in png.output
    both = CliRunner().invoke(cli, ["report", "--period", "today", "--since", "2026-01-01"],
                              env=report_env)  # fmt: skip
    assert both.exit_code == 2 and "either --period or --since" in both.output


def test_post_to_a_channel_for_the_weekly_digest(report_env: dict, fake_slack: FakeSlack) -> None:
    result = run(["report", "--period", "last-7-days", "--post-to", "C0DIGEST"], report_env)
    assert result.exit_code == 0, result.output
    [message] = fake_slack.calls_to("chat.postMessage")
    assert message.args["channel"] == "C0DIGEST"
    assert "Draftbot usage report" in json.dumps(message.args["blocks"])
    [chart] = fake_slack.uploads
    assert chart["channel_id"] == "C0DIGEST" and chart["content"].startswith(b"\x89PNG")


def test_post_to_a_channel_the_bot_is_not_in(report_env: dict, fake_slack: FakeSlack) -> None:
    fake_slack.channels_without_bot.add("C0SECRET")
    result = CliRunner().invoke(cli, ["report", "--post-to", "C0SECRET"], env=report_env)
    assert result.exit_code == 2
    assert "Slack refused the post to C0SECRET: not_in_channel" in result.output


def test_budget_set_list_unset(report_env: dict) -> None:
    env = {**report_env, "DRAFTBOT_USER_MONTHLY_BUDGET_USD": "10"}
    assert "U0ALEX: $25.00 a month" in run(["budget", "set", "U0ALEX", "25"], env).output
    listing = run(["budget", "list"], env).output
    assert "Default monthly budget: $10.00" in listing
    assert "U0ALEX" in listing and "$25.00" in listing
    assert "the default applies ($10.00)" in run(["budget", "unset", "U0ALEX"], env).output
    assert "Nobody has a budget of their own." in run(["budget", "list"], env).output
    bad = CliRunner().invoke(cli, ["budget", "set", "U0ALEX", "lots"], env=env)
    assert bad.exit_code == 2 and "USD must be an amount" in bad.output


def test_budgets_are_for_slack_members_named_by_id_name_or_email(
    report_env: dict, fake_slack: FakeSlack
) -> None:
    fake_slack.add_user("U0ALEX", "alex", display_name="Alex Chen", email="alex@example.com")
    fake_slack.add_user("U0SAM1", "sam", real_name="Sam Okafor")
    fake_slack.add_user("U0SAM2", "sam.b", real_name="Sam Okafor")
    store_path = report_env["DATABASE_URL"].removeprefix("sqlite:///")

    set_by_name = run(["budget", "set", "@alex", "5"], report_env)
    assert set_by_name.exit_code == 0, set_by_name.output
    assert "Alex Chen (U0ALEX): $5.00 a month" in set_by_name.output
    assert Store(store_path).budget_override("U0ALEX") == 5_000_000_000
    listing = run(["budget", "list"], report_env).output
    assert "Alex Chen (U0ALEX)" in listing

    def refused(person: str, env: dict) -> str:
        result = CliRunner().invoke(cli, ["budget", "set", person, "5"], env=env)
        assert result.exit_code == 2, result.output
        return result.output

    nobody = refused("alexandra", report_env)
    assert "Nobody in this Slack workspace is called 'alexandra'" in nobody
    assert "More than one person is called 'Sam Okafor'" in refused("Sam Okafor", report_env)
    assert "users:read.email" in refused("alex@example.com", report_env)  # not in the manifest
    fake_slack.scopes = [*fake_slack.scopes, "users:read.email"]
    by_email = run(["budget", "set", "alex@example.com", "7"], report_env)
    assert "Alex Chen (U0ALEX): $7.00 a month" in by_email.output
    without_slack = {k: v for k, v in report_env.items() if not k.startswith("SLACK")}
    assert "'alex' is not a Slack member ID" in refused("alex", without_slack)
    assert [row["user_id"] for row in Store(store_path).budget_overrides()] == ["U0ALEX"]


def test_audit_lists_budget_changes_from_slack_and_the_cli(
    report_env: dict, fake_slack: FakeSlack
) -> None:
    fake_slack.add_user("U0ALEX", "alex", display_name="Alex Chen")
    assert run(["audit"], report_env).output == "No admin changes recorded yet.\n"
    run(["budget", "set", "U0ALEX", "25"], report_env)
    run(["budget", "unset", "U0ALEX"], report_env)
    lines = run(["audit"], report_env).output.splitlines()
    assert lines[0].split() == ["When", "(UTC)", "Who", "What", "For", "Change"]
    assert "cli" in lines[2] and "Alex Chen (U0ALEX)" in lines[2] and "$25.00 → default" in lines[2]
    assert "default → $25.00" in lines[3]
    assert len(run(["audit", "--limit", "1"], report_env).output.splitlines()) == 3


def test_doctor_exit_status(report_env: dict, env: dict, fake_slack: FakeSlack) -> None:
    manifest = json.loads((Path(__file__).parent.parent / "manifest.json").read_text())
    fake_slack.scopes = manifest["oauth_config"]["scopes"]["bot"]
    good = CliRunner().invoke(cli, ["doctor"], env=env)
    assert good.exit_code == 0, good.output
    # HTTP mode adds the Request URL check; "Who may use Draftbot" describes the access rules.
    assert "All 13 checks passed." in good.output
    bad = CliRunner().invoke(cli, ["doctor"], env={**env, "ANTHROPIC_API_KEY": "sk-ant-wrong"})
    assert bad.exit_code == 1
    assert "Anthropic rejected ANTHROPIC_API_KEY" in bad.output and "sk-ant-wrong" not in bad.output


def test_a_mistyped_sqlite_path_is_refused_not_created(report_env: dict, tmp_path: Path) -> None:
    missing = tmp_path / "draftbto.db"
    env = {**report_env, "DATABASE_URL": f"sqlite:///{missing}"}
    result = CliRunner().invoke(cli, ["report"], env=env)
    assert result.exit_code == 2
    assert f"No database at {missing}" in result.output and "DATABASE_URL" in result.output
    assert not missing.exists(), "a typo must not leave an empty database behind"


def test_a_database_without_usage_says_so_and_where(report_env: dict, tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    Store(str(empty)).close()  # what `draftbot serve` creates before anyone drafts
    env = {**report_env, "DATABASE_URL": f"sqlite:///{empty}"}
    for args in (["report"], ["report", "--format", "json"]):
        result = CliRunner().invoke(cli, args, env=env)
        assert result.exit_code == 0
        assert f"No usage has been recorded in {empty} yet" in result.stderr
    json.loads(result.stdout)  # the JSON itself stays parseable
    busy = CliRunner().invoke(cli, ["report"], env=report_env)
    assert "No usage has been recorded" not in busy.output


def test_post_to_a_channel_name_is_refused_before_anything_is_sent(
    report_env: dict, fake_slack: FakeSlack
) -> None:
    result = CliRunner().invoke(cli, ["report", "--post-to", "general"], env=report_env)
    assert result.exit_code == 2
    assert "--post-to needs a channel ID such as C0123ABCD, not 'general'" in result.output
    assert fake_slack.calls_to("chat.postMessage") == [] and fake_slack.uploads == []


def test_a_budget_lookup_slack_refuses_is_a_sentence(
    report_env: dict, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("users.list", "invalid_auth")
    result = CliRunner().invoke(cli, ["budget", "set", "@alex", "5"], env=report_env)
    assert result.exit_code == 2
    assert "Slack could not look up @alex (invalid_auth)" in result.output
    assert "Traceback" not in result.output
