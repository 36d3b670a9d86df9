"""Each draft's life as events with no text (bot/draft_events.py), recorded through the real
app, and the outcome figures the reports compute from them (bot/outcomes.py)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import wording
from bot.outcomes import OUTCOME_COLUMNS, least_posted, outcomes_by_group
from bot.pricing import Cost
from bot.report_formats import to_csv, to_json, to_table
from bot.reports import Period, build_report
from bot.retention import purge
from bot.storage import Storage, UsageRecord, open_store
from tests.conftest import RunningBot
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.slack import FakeSlack
from tests.test_previews import button, replies, start_draft, view_submission
from tests.test_reports import PRICES

pytest_plugins = ["tests.postgres"]

SECRET_WORDS = "Quarterly figures for the Zanzibar account"


def lives(store: Storage, draft_id: str) -> list[tuple[object, ...]]:
    return [
        (e["event"], e["detail"], e["version"], e["channel_id"])
        for e in store.draft_events(draft_id=draft_id)
    ]


async def test_a_drafts_life_is_recorded_without_its_text(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(Reply(text=SECRET_WORDS), Reply(text=SECRET_WORDS + ", shorter."))
    draft_id, _ = await start_draft(bot, fake_slack, channel_id="C0001")
    url = fake_slack.new_response_url()
    await bot.interact(button("shorter", draft_id, url))
    await replies(fake_slack, url, 2)
    metadata = json.dumps({"draft_id": draft_id, "response_url": None})
    edited = {"text": {"value": {"type": "plain_text_input", "value": "My own words."}}}
    status, body = await bot.interact(view_submission("draft_edit_modal", metadata, edited))
    assert status == 200 and body == {}

    store = bot.services.store
    assert lives(store, draft_id) == [
        ("created", None, 1, "C0001"),
        ("refined", "shorter", 2, None),
        ("edited", None, 3, None),
        ("posted", None, 3, "C0001"),
    ]
    [created] = store.draft_events(draft_id=draft_id, event="created")
    assert created["user_id"] == "U0001" and created["model"] == "claude-sonnet-4-6"
    assert created["kind"]
    everything = json.dumps(store.draft_events())
    assert "Zanzibar" not in everything and "own words" not in everything


async def test_a_post_without_changes_is_not_an_edit_and_a_discard_is_recorded(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    posted, _ = await start_draft(bot, fake_slack)
    await bot.interact(button("post", posted, fake_slack.new_response_url()))
    thrown, _ = await start_draft(bot, fake_slack)
    await bot.interact(button("discard", thrown, fake_slack.new_response_url()))
    store = bot.services.store
    await asyncio.to_thread(
        fake_slack.wait_for, lambda _: len(store.draft_events(event="discarded")) == 1, 5.0
    )
    assert [e[0] for e in lives(store, posted)] == ["created", "posted"]
    assert [e[0] for e in lives(store, thrown)] == ["created", "discarded"]


async def test_an_event_the_database_refuses_is_logged_without_text_and_the_draft_still_shows(
    bot: RunningBot,
    fake_anthropic: FakeAnthropic,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(row: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(bot.services.store, "record_draft_event", refuse)
    fake_anthropic.script(Reply(text=SECRET_WORDS))
    with caplog.at_level(logging.WARNING):
        draft_id, preview = await start_draft(bot, fake_slack)
    assert SECRET_WORDS in json.dumps(preview["blocks"])
    assert bot.services.store.get_draft(draft_id) is not None
    assert len(bot.usage_rows()) == 1
    [line] = [r.getMessage() for r in caplog.records if "draft event" in r.getMessage()]
    assert line == f"could not record draft event created for draft={draft_id} (OSError); dropped"
    assert bot.services.sessions.events.dropped == 1


# ---------------------------------------------------------------- the store, both backends


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'draftbot.db'}"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    opened = open_store(url)
    yield opened
    opened.close()


def at(days_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).isoformat(timespec="microseconds")


def event(store: Storage, draft_id: str, name: str, **fields: object) -> None:
    store.record_draft_event({"draft_id": draft_id, "user_id": "U0ALEX", "event": name, **fields})


def test_a_purge_records_unposted_drafts_as_expired(store: Storage) -> None:
    for draft_id, status in (("left", "ready"), ("sent", "posted"), ("binned", "discarded")):
        store.save_draft({"id": draft_id, "user_id": "U0ALEX", "kind": "email", "status": status})
        event(store, draft_id, "created", kind="email", model="claude-haiku-4-5")
    event(store, "left", "refined", detail="shorter")
    store.save_draft({"id": "fresh", "user_id": "U0ALEX", "kind": "email"})
    store.update_draft("fresh", updated_at=at(0))
    for draft_id in ("left", "sent", "binned"):
        store.update_draft(draft_id, status=store.get_draft(draft_id)["status"])  # type: ignore[index]
    with store._transaction() as run:  # type: ignore[attr-defined]
        run("update drafts set updated_at = ? where id <> 'fresh'", [at(8)])
    assert purge(store, retention_days=7) == 3
    [expired] = store.draft_events(event="expired")
    assert (expired["draft_id"], expired["model"], expired["version"]) == (
        "left",
        "claude-haiku-4-5",
        2,
    )
    assert expired["kind"] == "email" and expired["user_id"] == "U0ALEX"
    _, total = outcomes_by_group(store, at(30), at(-1), "kind")
    assert (total.created, total.abandoned, total.discarded, total.posted) == (3, 1, 0, 0)


# ---------------------------------------------------------------- outcome figures

PERIOD = Period(
    "2026-11-01..2026-11-30", datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
)
T0 = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)


def moment(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat(timespec="microseconds")


def script_month(store: Storage) -> None:
    """Seven drafts by two people (hand-computed figures in the test below); each draft's
    usage rows cost $0.01 (a refinement is a usage row of its own)."""
    cent = 10_000_000  # nano-USD

    def draft(
        draft_id: str,
        user: str,
        kind: str,
        model: str,
        created: float,
        *later: tuple[float, str, str | None],
    ) -> None:
        common = {"draft_id": draft_id, "user_id": user, "kind": kind}
        store.record_draft_event(
            {**common, "event": "created", "model": model, "at": moment(created)}
        )
        usage = UsageRecord(user, "slash", kind, model, "ok", cost_nano_usd=cent, input_tokens=1,
                            created_at=moment(created))  # fmt: skip
        store.record_usage(usage)
        for seconds, name, detail in later:
            store.record_draft_event(
                {**common, "event": name, "detail": detail, "at": moment(seconds)}
            )
            if name == "refined":
                store.record_usage(replace(usage, source=str(detail), created_at=moment(seconds)))

    draft("d1", "U0ALEX", "email", "claude-sonnet-4-6", 0,
          (10, "refined", "shorter"), (20, "refined", "formal"), (120, "posted", None),
          (130, "feedback", "up"))  # fmt: skip
    draft("d2", "U0ALEX", "email", "claude-sonnet-4-6", 0,
          (599, "edited", None), (600, "posted", None), (610, "feedback", "down"),
          (620, "feedback", "up"))  # fmt: skip
    draft("d3", "U0ALEX", "summary", "claude-haiku-4-5", 0,
          (50, "discarded", None), (55, "feedback", "down"))  # fmt: skip
    draft("d4", "U0BEA", "summary", "claude-haiku-4-5", 0, (86400 * 8, "expired", None))
    draft("d5", "U0BEA", "email", "claude-sonnet-4-6", 0,
          (5, "refined", "longer"), (30, "posted", None), (40, "feedback", "down"))  # fmt: skip
    draft("d6", "U0BEA", "summary", "claude-sonnet-4-6", 0)
    # Made before the period: not this period's draft, though it was posted in it.
    before = {"draft_id": "d0", "user_id": "U0BEA", "kind": "email"}
    store.record_draft_event({**before, "event": "created", "at": "2026-10-31T23:59:59+00:00"})
    store.record_draft_event({**before, "event": "posted", "at": moment(0)})


def test_outcome_figures_equal_hand_computed_values(store: Storage) -> None:
    script_month(store)
    by_kind = build_report(store, PRICES, PERIOD, "kind")
    email, summary = (by_kind.outcomes[kind] for kind in ("email", "summary"))
    assert (email.created, email.posted, email.discarded, email.abandoned) == (3, 3, 0, 0)
    assert email.posted_share == 1.0 and email.refinements_per_posted == 1.0  # (2 + 0 + 1) / 3
    assert email.edited_share == pytest.approx(1 / 3) and email.median_seconds_to_post == 120
    assert (email.thumbs_up, email.thumbs_down) == (2, 1)  # d2's last rating is 👍
    assert (summary.created, summary.posted, summary.discarded, summary.abandoned) == (3, 0, 1, 1)
    assert summary.posted_share == 0.0 and summary.refinements_per_posted is None
    assert (summary.thumbs_up, summary.thumbs_down) == (0, 1)
    total = by_kind.total_outcomes
    assert (total.created, total.posted, total.discarded, total.abandoned) == (6, 3, 1, 1)
    assert total.posted_share == 0.5 and total.median_seconds_to_post == 120
    assert total.thumbs_up_share == 0.5
    # Cost: email 3 drafts + 3 refinements = $0.06, per draft $0.02, per posted $0.02;
    # summaries $0.03 for 3 drafts, none posted.
    [email_row] = [row for row in by_kind.rows if row.key == "email"]
    assert email.cost_per_draft(email_row.cost_nano_usd) == Cost.from_nano_usd(20_000_000)
    assert email.cost_per_posted(email_row.cost_nano_usd) == Cost.from_nano_usd(20_000_000)
    assert by_kind.total_outcomes.cost_per_posted(by_kind.total.cost_nano_usd) == (
        Cost.from_nano_usd(30_000_000)  # $0.09 / 3
    )

    by_user = build_report(store, PRICES, PERIOD, "user")
    alex, bea = by_user.outcomes["U0ALEX"], by_user.outcomes["U0BEA"]
    assert (alex.created, alex.posted, alex.discarded, alex.refinements_of_posted) == (3, 2, 1, 2)
    assert alex.edited_share == 0.5 and alex.median_seconds_to_post == 360  # 120 and 600
    assert (bea.created, bea.posted, bea.abandoned, bea.median_seconds_to_post) == (3, 1, 1, 30)

    by_model = build_report(store, PRICES, PERIOD, "model")
    sonnet, haiku = by_model.outcomes["claude-sonnet-4-6"], by_model.outcomes["claude-haiku-4-5"]
    assert (sonnet.created, sonnet.posted, haiku.created, haiku.posted) == (4, 3, 2, 0)
    assert (haiku.discarded, haiku.abandoned) == (1, 1)

    by_day = build_report(store, PRICES, PERIOD, "day")
    assert by_day.outcomes["2026-11-10"].created == 6

    assert least_posted(dict(by_kind.outcomes), at_least=3) == ("summary", 0.0)


def test_the_json_report_is_schema_2_with_the_outcome_fields(store: Storage) -> None:
    script_month(store)
    document = json.loads(to_json(build_report(store, PRICES, PERIOD, "kind")))
    assert document["schema"] == "draftbot.report/2"
    [email] = [row for row in document["rows"] if row["key"] == "email"]
    assert {key: email[key] for key in OUTCOME_COLUMNS} == {
        "drafts_created": 3,
        "drafts_posted": 3,
        "drafts_discarded": 0,
        "drafts_abandoned": 0,
        "posted_share": 1.0,
        "refinements_per_posted": 1.0,
        "edited_share": 0.3333,
        "median_seconds_to_post": 120.0,
        "thumbs_up": 2,
        "thumbs_down": 1,
        "thumbs_up_share": 0.6667,
        "cost_per_draft_usd": "0.020000000",
        "cost_per_posted_usd": "0.020000000",
    }
    total = document["total"]
    assert (total["drafts_created"], total["drafts_posted"], total["posted_share"]) == (6, 3, 0.5)
    assert total["cost_per_posted_usd"] == "0.030000000"
    header = to_csv(build_report(store, PRICES, PERIOD, "kind")).splitlines()[0].split(",")
    assert header[-len(OUTCOME_COLUMNS) :] == list(OUTCOME_COLUMNS)


def test_the_table_shows_what_the_drafts_became(store: Storage) -> None:
    script_month(store)
    table = to_table(build_report(store, PRICES, PERIOD, "kind"), width=140)
    assert wording.REPORT_OUTCOMES_TITLE in table
    [email] = [line for line in table.splitlines() if line.startswith("email") and "(100%)" in line]
    assert "$0.02" in email and "2 / 1" in email and "2 min" in email


def seed_week(database_url: str) -> None:
    """Ten drafts yesterday: five emails (four posted), five summaries (one posted); each
    draft's usage row costs $0.01."""
    store = open_store(database_url)
    yesterday = datetime.now(UTC) - timedelta(days=1)
    for n in range(10):
        kind = "email" if n < 5 else "summary"
        at = (yesterday + timedelta(minutes=n)).isoformat(timespec="microseconds")
        common = {"draft_id": f"w{n}", "user_id": "U0ALEX", "kind": kind}
        store.record_draft_event({**common, "event": "created", "model": "m", "at": at})
        usage = UsageRecord("U0ALEX", "slash", kind, "m", "ok", cost_nano_usd=10_000_000,
                            input_tokens=1, created_at=at)  # fmt: skip
        store.record_usage(usage)
        if n in (0, 1, 2, 3, 5):
            store.record_draft_event({**common, "event": "posted", "at": at})
    store.close()


def test_the_weekly_digest_leads_with_what_the_money_bought(
    env: dict[str, str], fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    import bot.charts
    from bot.cli import cli

    monkeypatch.chdir(tmp_path)
    seed_week(env["DATABASE_URL"])
    drawn: list[dict[str, object]] = []
    draw = bot.charts.cost_chart_png
    monkeypatch.setattr(bot.charts, "cost_chart_png", lambda **kw: drawn.append(kw) or draw(**kw))
    report_env = {k: v for k, v in env.items() if k != "ANTHROPIC_API_KEY"}
    args = ["report", "--period", "last-7-days", "--post-to", "C0DIGEST"]
    result = CliRunner().invoke(cli, args, env=report_env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    [message] = fake_slack.calls_to("chat.postMessage")
    blocks = message.args["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    first = blocks[2]["text"]["text"]  # after the header and the period
    assert first == (
        "*10 drafts*, *5 posted (50 %)*, $0.10, *$0.02 per posted draft*; "
        "*summary* drafts are posted least (20 %)"
    )
    [chart] = drawn
    assert sorted(chart["posted"]) == [("email", 4, 5), ("summary", 1, 5)]  # type: ignore[call-overload]


def test_the_chart_has_a_panel_for_posted_share_by_kind() -> None:
    from bot.charts import cost_chart_figure

    figure = cost_chart_figure(
        "November", [("2026-11-02", "email", 10**9)], [("email", 10**9)], "kind",
        posted=[("email", 4, 5), ("summary", 1, 5)],
    )  # fmt: skip
    [panel] = [ax for ax in figure.axes if ax.get_title() == "Posted share by kind"]
    assert [t.get_text() for t in panel.get_yticklabels()] == ["summary", "email"]  # lowest first
    labels = [t.get_text() for t in panel.texts]
    assert labels == ["20% (1 of 5)", "80% (4 of 5)"]


async def test_back_to_is_recorded_as_restored_with_the_new_versions_number(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(Reply(text="The first draft, in full."), Reply(text="Shorter."))
    draft_id, _ = await start_draft(bot, fake_slack)
    url = fake_slack.new_response_url()
    await bot.interact(button("shorter", draft_id, url))
    await replies(fake_slack, url, 2)
    url = fake_slack.new_response_url()
    await bot.interact(button("restore", draft_id, url))  # the button: the version before
    [restored] = await replies(fake_slack, url)
    assert "draft_feedback" in json.dumps(restored["blocks"])  # 👍 / 👎 on it too
    assert lives(bot.services.store, draft_id) == [
        ("created", None, 1, "C0001"),
        ("refined", "shorter", 2, None),
        ("restored", "v1", 3, None),
    ]


def test_outcomes_by_channel(store: Storage) -> None:
    script_month(store)
    by_channel = build_report(store, PRICES, PERIOD, "channel")
    assert by_channel.total_outcomes.created == 6
    assert by_channel.outcomes[""].posted == 3  # the script's drafts have no channel
