"""The database fails; Draftbot keeps answering and keeps every billed row.

Through the real server: another process holding SQLite's write lock, a full disk (a
small filesystem, where the machine allows mounting one), a read-only database, and a
restart with rows still in the journal. Each billed model call must end with exactly one usage row.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from bot.services import build_services
from bot.storage import UsageRecord
from bot.storage.journal import UsageJournal
from tests.conftest import FAST_RETRIES, RunningBot
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.slack import FakeSlack

pytestmark = pytest.mark.faults

HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


def hold_write_lock(database: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process (an admin's sqlite-utils write, a backup) holding the write lock."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(database), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


async def wait_for_rows(bot: RunningBot, n: int, limit: float) -> list[dict[str, object]]:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        rows = await asyncio.to_thread(bot.usage_rows)
        if len(rows) >= n and not bot.services.journal.pending:
            return rows
        await asyncio.sleep(0.2)
    raise AssertionError(f"expected {n} usage rows, have {len(bot.usage_rows())}")


async def health(bot: RunningBot) -> tuple[float, dict[str, object]]:
    started = time.monotonic()
    async with bot.session.get(f"{bot.url}/healthz") as response:
        body = await response.json()
    return time.monotonic() - started, body


@pytest.mark.parametrize("lock_seconds", [8, 40])
async def test_a_held_write_lock_delays_no_ack_and_loses_no_row(
    bot: RunningBot,
    settings: Settings,
    fake_anthropic: FakeAnthropic,
    fake_slack: FakeSlack,
    lock_seconds: int,
) -> None:
    fake_anthropic.default = Reply(text="Hi Alex, shall we meet on Monday?", delay=0.2)
    holder = hold_write_lock(Path(settings.database_path), lock_seconds)
    try:
        replies = await asyncio.gather(
            *(bot.slash(f"email to Alex about the Q2 budget, part {n}") for n in range(10))
        )
        assert max(reply.seconds for reply in replies) < 3, [r.seconds for r in replies]
        assert all(reply.status == 200 for reply in replies)
        # Every draft arrives while the lock is still held (rows kept in the journal).
        for reply in replies:
            [preview] = await asyncio.to_thread(
                fake_slack.wait_for_responses, reply.response_url, 1, 15.0
            )
            assert "Hi Alex" in json.dumps(preview)
        seconds, body = await health(bot)
        assert seconds < 1 and body["ok"] is True
        if holder.poll() is None:  # still locked: the journal holds what could not be written
            assert body["usage_rows_waiting"] == 10 and body["database"] == "degraded"
    finally:
        holder.wait(timeout=lock_seconds + 10)
    rows = await wait_for_rows(bot, 10, limit=15)
    assert len(rows) == 10 and {row["status"] for row in rows} == {"ok"}
    assert len({row["request_id"] for row in rows}) == 10  # each call once, none twice
    _, body = await health(bot)
    assert body == {"ok": True, "database": "ok", "usage_rows_waiting": 0}


TINY_DISK = Path("/tmp/draftbot-test-full-disk")


@pytest.fixture
def tiny_disk() -> Iterator[Path]:
    """A 2 MB filesystem for the database, so it can really fill up (needs mount rights)."""
    TINY_DISK.mkdir(exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(TINY_DISK)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small filesystem here (needs root)")
    try:
        yield TINY_DISK
    finally:
        subprocess.run(["umount", "-l", str(TINY_DISK)], check=False)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    # Unbuffered: a buffered file's close() flushes what the last write left in its buffer,
    # and raises ENOSPC there (outside the try) whenever the free space ends mid-buffer.
    with open(filler, "wb", buffering=0) as file:
        try:
            while True:
                file.write(b"\0" * 65_536)
                file.flush()
        except OSError:
            pass
    return filler


async def draft_three_times(bot: RunningBot, fake_slack: FakeSlack) -> None:
    for n in range(3):
        reply = await bot.slash(f"email to Alex about the budget, take {n}")
        [preview] = await asyncio.to_thread(
            fake_slack.wait_for_responses, reply.response_url, 1, 10.0
        )
        assert "The Q2 budget summary." in json.dumps(preview)
        assert "Something went wrong" not in json.dumps(preview)


async def assert_written_once_when_back(bot: RunningBot, journal_file: Path) -> None:
    rows = await wait_for_rows(bot, 3, limit=10)
    assert len(rows) == 3
    assert await asyncio.to_thread(journal_file.read_text) == ""
    await bot.services.replay_journal()  # again: nothing is written twice
    assert len(bot.usage_rows()) == 3


@pytest.mark.env(DATABASE_URL=f"sqlite:///{TINY_DISK}/draftbot.db")
async def test_a_full_disk_keeps_rows_in_the_journal_and_writes_them_once(
    tiny_disk: Path, bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(text="The Q2 budget summary.")
    filler = fill(tiny_disk)
    await draft_three_times(bot, fake_slack)
    journal_file = bot.services.settings.journal_path
    assert journal_file is not None and len(journal_file.read_text().splitlines()) == 3
    _, body = await health(bot)
    assert body["usage_rows_waiting"] == 3

    filler.unlink()  # space returns
    await assert_written_once_when_back(bot, journal_file)


async def test_a_read_only_database_keeps_rows_in_the_journal_and_writes_them_once(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(text="The Q2 budget summary.")
    store = bot.services.store
    with store.lock:  # type: ignore[attr-defined]
        store.db.execute("pragma query_only = 1")  # type: ignore[attr-defined]
    await draft_three_times(bot, fake_slack)
    journal_file = bot.services.settings.journal_path
    assert journal_file is not None and len(journal_file.read_text().splitlines()) == 3

    with store.lock:  # type: ignore[attr-defined]
        store.db.execute("pragma query_only = 0")  # type: ignore[attr-defined]
    await assert_written_once_when_back(bot, journal_file)


def test_rows_left_in_the_journal_are_written_at_the_next_start_exactly_once(
    settings: Settings,
) -> None:
    assert settings.journal_path is not None
    journal = UsageJournal(settings.journal_path)
    record = UsageRecord(user_id="U0001", source="slash", kind="email", model="m", status="ok")
    journal.keep(record, OSError("disk full"))
    journal.keep(record, OSError("disk full"))
    text = settings.journal_path.read_text()

    first = build_services(settings, FAST_RETRIES)  # replays at start
    assert len(first.store.usage_rows()) == 2
    first.store.close()
    settings.journal_path.write_text(text)  # as if the process died before clearing the file
    second = build_services(settings, FAST_RETRIES)
    assert len(second.store.usage_rows()) == 2, "a replayed row was written twice"
    assert second.journal.pending == 0
    second.store.close()


def shorter_click(draft_id: str, response_url: str) -> dict[str, object]:
    return {
        "type": "block_actions",
        "user": {"id": "U0001", "username": "someone", "team_id": "T0001"},
        "api_app_id": "A0001",
        "team": {"id": "T0001", "domain": "acme"},
        "container": {"type": "message", "is_ephemeral": True, "channel_id": "C0001"},
        "channel": {"id": "C0001", "name": "general"},
        "trigger_id": f"shorter.{time.monotonic_ns()}",
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": "draft_shorter",
                "block_id": "draft_actions",
                "value": draft_id,
                "action_ts": "1700000000.000001",
            }
        ],
    }


async def test_a_draft_made_while_writes_fail_keeps_its_buttons_for_when_they_work(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(text="The Q2 budget summary, in full.")
    store = bot.services.store
    with store.lock:  # type: ignore[attr-defined]
        store.db.execute("pragma query_only = 1")  # type: ignore[attr-defined]
    reply = await bot.slash("email to Alex about the budget")
    [preview] = await asyncio.to_thread(fake_slack.wait_for_responses, reply.response_url, 1, 10.0)
    actions = preview["blocks"][-1]
    assert actions["type"] == "actions", "the draft arrived without its buttons"
    draft_id = actions["elements"][0]["value"]

    calls = len(fake_anthropic.requests)
    status, _ = await bot.interact(shorter_click(draft_id, reply.response_url))
    assert status == 200
    [_, busy] = await asyncio.to_thread(fake_slack.wait_for_responses, reply.response_url, 2, 10.0)
    assert "database is busy" in json.dumps(busy)
    assert len(fake_anthropic.requests) == calls, "no model call while the draft can't be kept"

    with store.lock:  # type: ignore[attr-defined]
        store.db.execute("pragma query_only = 0")  # type: ignore[attr-defined]
    await wait_for_rows(bot, 1, limit=10)
    deadline = time.monotonic() + 10
    while store.get_draft(draft_id) is None:  # saved by the replay loop, nobody clicking
        assert time.monotonic() < deadline, "the kept draft was never saved"
        await asyncio.sleep(0.2)

    fake_anthropic.default = Reply(text="Budget summary.")
    await asyncio.sleep(2.1)  # past the write pause that followed the last failure
    status, _ = await bot.interact(shorter_click(draft_id, reply.response_url))
    assert status == 200
    [*_, working, shorter] = await asyncio.to_thread(
        fake_slack.wait_for_responses, reply.response_url, 4, 10.0
    )
    assert "Making it shorter" in json.dumps(working)
    assert "Budget summary." in json.dumps(shorter)
