"""Each draft's life as events with no text (bot/draft_events.py), recorded through the real
app, and the outcome figures the reports compute from them (bot/outcomes.py)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.retention import purge
from bot.storage import Storage, open_store
from tests.conftest import RunningBot
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.slack import FakeSlack
from tests.test_previews import button, replies, start_draft, view_submission

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
