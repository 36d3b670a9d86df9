"""Versions of a draft: each refinement, an Edit and Back to make the next one; the preview
says which it shows, Changes shows what the last one changed, Back to restores an earlier
one without the model; the versions are kept with the draft (both databases), survive a
restart and are purged with it."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import wording
from bot.cli_datasette import take_snapshot
from bot.config import Settings
from bot.retention import purge
from bot.services import build_services
from bot.storage import Storage, Store, open_store
from bot.versions import MAX_VERSIONS, Version, VersionTag
from handlers.blocks.changes import changes_modal
from tests.conftest import FAST_RETRIES, RunningBot
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.slack import FakeSlack
from tests.test_previews import button, draft_id_of, replies, start_draft, view_submission
from tests.test_retention import days_ago, execute, found, marker, save, sqlite_files

pytest_plugins = ["tests.postgres"]

LABEL = re.compile(r"^v\d+ · ")


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'draftbot.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(database_url: str) -> Iterator[Storage]:
    store = open_store(database_url)
    yield store
    store.close()


def label_of(message: dict[str, Any]) -> str:
    """The version the preview says it shows ("v3 · shorter")."""
    [label] = [
        element["text"]
        for block in message["blocks"]
        if block["type"] == "context"
        for element in block["elements"]
        if LABEL.match(element["text"])
    ]
    return str(label)


def version_controls(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The Changes and Back to elements under the preview, by action_id ({} before v2)."""
    blocks = [b for b in message["blocks"] if b.get("block_id") == "draft_versions"]
    return {e["action_id"]: e for block in blocks for e in block["elements"]}


def select(action: str, value: str, response_url: str) -> dict[str, Any]:
    """A choice in a preview's menu, as Slack sends it."""
    payload = button(action, "", response_url)
    payload["actions"] = [
        {
            "type": "static_select",
            "action_id": f"draft_{action}",
            "block_id": "draft_versions",
            "selected_option": {"value": value},
            "action_ts": "1700000000.000009",
        }
    ]
    return payload


def click(action: str, value: str, response_url: str, user: str = "U0001") -> dict[str, Any]:
    payload = button(action, value, response_url, user)
    payload["actions"][0]["block_id"] = "draft_versions"
    return payload


async def refine(bot: RunningBot, fake_slack: FakeSlack, payload_of: Any) -> dict[str, Any]:
    """Click a refinement (or pick a tone) and return the new preview."""
    url = fake_slack.new_response_url()
    await bot.interact(payload_of(url))
    return (await replies(fake_slack, url, 2))[-1]


def texts(bot: RunningBot, draft_id: str) -> list[tuple[int, str, str]]:
    """(number, what made it, text) of each version the database keeps."""
    store = bot.services.store
    tags = store.draft_version_tags(draft_id)
    rows = [store.draft_version(draft_id, tag["version"]) for tag in tags]
    return [(row["version"], row["made_by"], row["text"]) for row in rows if row]


async def opened_view(fake_slack: FakeSlack, n: int = 1) -> dict[str, Any]:
    await asyncio.to_thread(fake_slack.wait_for, lambda f: len(f.calls_to("views.open")) >= n)
    view = fake_slack.calls_to("views.open")[n - 1].args["view"]
    return json.loads(view) if isinstance(view, str) else dict(view)


# ------------------------------------------------------------------ every refinement


async def test_every_refinement_and_an_edit_make_the_next_version(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(
        Reply(text="Hi Alex, could we meet ", stop_reason="max_tokens"),
        Reply(text="on Monday?"),
        Reply(text="Meet Monday?"),
        Reply(text="Hi Alex, could we meet on Monday to plan the Q2 budget?"),
        Reply(text="Dear Alex, might we meet on Monday?"),
        Reply(text="Hey Alex! Fancy meeting Monday?"),
        Reply(text="Alex, can we meet Monday?"),
        Reply(text="Alex, we could utilize Monday for a meeting."),
        Reply(text="Alex, we could use Monday for a meeting."),
    )
    draft_id, preview = await start_draft(bot, fake_slack)
    assert label_of(preview) == "v1 · first draft"
    assert version_controls(preview) == {}  # nothing to compare with or go back to yet
    assert bot.services.store.draft_version_tags(draft_id) == []  # v1 costs no write alone

    steps: list[tuple[str, Any]] = [
        ("continue", lambda url: button("continue", draft_id, url)),
        ("shorter", lambda url: button("shorter", draft_id, url)),
        ("longer", lambda url: button("longer", draft_id, url)),
        *((tone, _tone_payload(tone, draft_id)) for tone in ("formal", "friendlier", "simpler")),
        ("regenerate", lambda url: button("regenerate", draft_id, url)),
        ("fix_style", lambda url: button("fix_style", draft_id, url)),
    ]
    labels = []
    for _, payload_of in steps:
        labels.append(label_of(await refine(bot, fake_slack, payload_of)))
    assert labels == [
        "v2 · continued",
        "v3 · shorter",
        "v4 · longer",
        "v5 · more formal",
        "v6 · friendlier",
        "v7 · simpler words",
        "v8 · regenerated",
        "v9 · style fixed",
    ]
    assert [r["source"] for r in bot.usage_rows()][1:] == [name for name, _ in steps]

    # The Edit form, posted: its text is the next version, and the one posted.
    metadata = json.dumps({"draft_id": draft_id, "response_url": None})
    edited = {"text": {"value": {"type": "plain_text_input", "value": "Alex: Monday, 10:00?"}}}
    _, body = await bot.interact(view_submission("draft_edit_modal", metadata, edited))
    assert body == {}
    [post] = fake_slack.calls_to("chat.postMessage")
    assert "Alex: Monday, 10:00?" in json.dumps(post.args["blocks"])

    assert texts(bot, draft_id) == [
        (1, "draft", "Hi Alex, could we meet "),
        (2, "continue", "Hi Alex, could we meet on Monday?"),
        (3, "shorter", "Meet Monday?"),
        (4, "longer", "Hi Alex, could we meet on Monday to plan the Q2 budget?"),
        (5, "formal", "Dear Alex, might we meet on Monday?"),
        (6, "friendlier", "Hey Alex! Fancy meeting Monday?"),
        (7, "simpler", "Alex, can we meet Monday?"),
        (8, "regenerate", "Alex, we could utilize Monday for a meeting."),
        (9, "fix_style", "Alex, we could use Monday for a meeting."),
        (10, "edit", "Alex: Monday, 10:00?"),
    ]


def _tone_payload(tone: str, draft_id: str) -> Any:
    def payload(url: str) -> dict[str, Any]:
        chosen = button("tone", draft_id, url)
        chosen["actions"] = [
            {
                "type": "static_select",
                "action_id": "draft_tone",
                "block_id": "draft_actions",
                "selected_option": {"value": f"{tone}:{draft_id}"},
                "action_ts": "1700000000.000003",
            }
        ]
        return chosen

    return payload


async def test_an_edit_posted_unchanged_is_no_new_version(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(Reply(text="First."), Reply(text="Second."))
    draft_id, _ = await start_draft(bot, fake_slack)
    await refine(bot, fake_slack, lambda url: button("shorter", draft_id, url))
    metadata = json.dumps({"draft_id": draft_id, "response_url": None})
    same = {"text": {"value": {"type": "plain_text_input", "value": "Second."}}}
    _, body = await bot.interact(view_submission("draft_edit_modal", metadata, same))
    assert body == {}
    assert [number for number, _, _ in texts(bot, draft_id)] == [1, 2]
    assert bot.services.store.get_draft(draft_id)["status"] == "posted"  # type: ignore[index]


# ------------------------------------------------------------------ Changes


async def test_changes_shows_words_struck_and_added_escaped_in_a_modal(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(
        Reply(text="Hi Alex, can we meet on Monday about the budget?"),
        Reply(text="Hi Alex, can we meet **Tuesday** for R&D? <!channel>"),
    )
    draft_id, _ = await start_draft(bot, fake_slack)
    refined = await refine(bot, fake_slack, lambda url: button("shorter", draft_id, url))
    controls = version_controls(refined)
    assert controls["draft_changes"]["text"]["text"] == wording.LABEL_CHANGES
    assert controls["draft_restore"]["text"]["text"] == "Back to v1"  # one way back: a button
    # Each carries the version it acts on and the one the preview shows, and stays short.
    assert draft_id in controls["draft_changes"]["value"]
    assert draft_id in controls["draft_restore"]["value"]
    assert all(len(c["value"]) < 100 for c in controls.values())

    url = fake_slack.new_response_url()
    await bot.interact(click("changes", controls["draft_changes"]["value"], url))
    view = await opened_view(fake_slack)
    assert view["title"]["text"] == "Changes in v2"
    assert "submit" not in view  # it only shows
    intro, diff = view["blocks"]
    assert intro["elements"][0]["text"] == wording.CHANGES_INTRO.format(
        before="v1 · first draft", after="v2 · shorter"
    )
    assert diff["text"]["text"] == (
        "Hi Alex, can we meet ~on Monday about the budget?~ *Tuesday for R&amp;D? @\u2060channel*"
    )
    assert len(fake_anthropic.message_requests()) == 2  # no model call to compare


async def test_an_older_previews_changes_show_the_version_it_displays(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(
        Reply(text="Meet on Monday."), Reply(text="Meet Monday."), Reply(text="Meet.")
    )
    draft_id, _ = await start_draft(bot, fake_slack)
    second = await refine(bot, fake_slack, lambda url: button("shorter", draft_id, url))
    await refine(bot, fake_slack, lambda url: button("shorter", draft_id, url))  # v3
    url = fake_slack.new_response_url()
    await bot.interact(click("changes", version_controls(second)["draft_changes"]["value"], url))
    view = await opened_view(fake_slack)
    assert view["title"]["text"] == "Changes in v2"  # what that preview shows, not v3
    assert view["blocks"][1]["text"]["text"] == "Meet ~on~ Monday."


async def test_only_the_author_sees_the_changes(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(Reply(text="One."), Reply(text="Two."))
    draft_id, _ = await start_draft(bot, fake_slack)
    await refine(bot, fake_slack, lambda url: button("shorter", draft_id, url))
    url = fake_slack.new_response_url()
    await bot.interact(click("changes", draft_id, url, user="U0OTHER"))
    [note] = await replies(fake_slack, url)
    assert note["text"] == wording.NOT_YOUR_DRAFT.format(author="<@U0001>")
    assert fake_slack.calls_to("views.open") == []


def version(number: int, text: str, made_by: str = "shorter") -> Version:
    return Version(VersionTag(number, made_by), text, "end_turn", "2026-12-02T00:00:00+00:00")


def test_a_long_diff_fills_the_modal_then_says_the_rest_is_left_out() -> None:
    words = [" ".join(f"w{n}x{k}" for k in range(60)) for n in range(700)]
    before = "\n\n".join(f"{paragraph} old" for paragraph in words)  # 300,000 characters
    after = "\n\n".join(f"{paragraph} new" for paragraph in words)
    view = changes_modal(version(1, before, "draft"), version(2, after), "")
    blocks = view["blocks"]
    assert len(blocks) <= 100  # Slack's limit for a modal
    assert blocks[-1]["elements"][0]["text"] == wording.CHANGES_CUT
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert all(len(text) <= 3000 for text in sections)
    for text in sections:  # no mark is cut in two by a section break
        assert text.count("~") % 2 == 0 and text.count("*") % 2 == 0
    assert sections[0].startswith(f"{words[0]} ~old~ *new*\n")


def test_no_change_says_so_and_the_drafts_own_marks_format_nothing() -> None:
    same = changes_modal(version(1, "Same words.", "draft"), version(2, "Same words."), "")
    assert same["blocks"][0]["text"]["text"] == wording.CHANGES_NONE.format(
        before="v1 · first draft", after="v2 · shorter"
    )
    marked = changes_modal(version(1, "Use `x` ~now~", "draft"), version(2, "Use `y` ~now~"), "")
    assert marked["blocks"][1]["text"]["text"] == "Use ~ˋxˋ~ *ˋyˋ* ∼now∼"


# ------------------------------------------------------------------ Back to


async def test_back_to_restores_without_the_model_and_refining_then_uses_that_text(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(
        Reply(text="The first draft, in full."),
        Reply(text="Shorter."),
        Reply(text="Much longer than the others."),
        Reply(text="Shorter again, from the first."),
    )
    draft_id, _ = await start_draft(bot, fake_slack)
    await refine(bot, fake_slack, lambda url: button("shorter", draft_id, url))
    third = await refine(bot, fake_slack, lambda url: button("longer", draft_id, url))
    menu = version_controls(third)["draft_restore"]
    assert menu["type"] == "static_select"  # two or more ways back: a menu, newest first
    assert menu["placeholder"]["text"] == wording.LABEL_BACK_TO_MENU
    assert [o["text"]["text"] for o in menu["options"]] == ["v2 · shorter", "v1 · first draft"]
    requests, rows = len(fake_anthropic.message_requests()), len(bot.usage_rows())

    url = fake_slack.new_response_url()
    await bot.interact(select("restore", menu["options"][1]["value"], url))
    [restored] = await replies(fake_slack, url)
    assert restored["blocks"][0]["text"] == "The first draft, in full."
    assert label_of(restored) == "v4 · restored v1"
    assert draft_id_of(restored) == draft_id  # every button still works
    assert len(fake_anthropic.message_requests()) == requests  # no model call
    assert len(bot.usage_rows()) == rows  # and no usage row

    fifth = await refine(bot, fake_slack, lambda url: button("shorter", draft_id, url))
    assert label_of(fifth) == "v5 · shorter"
    body = fake_anthropic.message_requests()[-1].body
    assert body is not None
    assert body["messages"][1] == {"role": "assistant", "content": "The first draft, in full."}
    assert [(n, by) for n, by, _ in texts(bot, draft_id)] == [
        (1, "draft"),
        (2, "shorter"),
        (3, "longer"),
        (4, "restore"),
        (5, "shorter"),
    ]


async def test_post_posts_the_current_version_after_going_back(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(Reply(text="Keep this one."), Reply(text="Not this one."))
    draft_id, _ = await start_draft(bot, fake_slack, channel_id="C0TEAM")
    second = await refine(bot, fake_slack, lambda url: button("regenerate", draft_id, url))
    back = version_controls(second)["draft_restore"]
    url = fake_slack.new_response_url()
    await bot.interact(click("restore", back["value"], url))
    await replies(fake_slack, url)
    await bot.interact(button("post", draft_id, url))
    await replies(fake_slack, url, 2)
    [post] = fake_slack.calls_to("chat.postMessage")
    assert post.args["channel"] == "C0TEAM"
    assert "Keep this one." in json.dumps(post.args["blocks"])
    assert "Not this one." not in json.dumps(post.args["blocks"])


async def test_back_to_is_for_the_author_only_and_a_forgotten_version_says_so(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(Reply(text="One."), Reply(text="Two."))
    draft_id, _ = await start_draft(bot, fake_slack)
    await refine(bot, fake_slack, lambda url: button("shorter", draft_id, url))
    url = fake_slack.new_response_url()
    await bot.interact(click("restore", draft_id, url, user="U0OTHER"))
    await bot.interact(select("restore", f"7:{draft_id}", url))  # an old menu's forgotten one
    notes = [m["text"] for m in await replies(fake_slack, url, 2)]
    assert wording.NOT_YOUR_DRAFT.format(author="<@U0001>") in notes
    assert wording.VERSION_GONE.format(number=7, kept=MAX_VERSIONS) in notes
    assert [n for n, _, _ in texts(bot, draft_id)] == [1, 2]
    assert bot.services.store.get_draft(draft_id)["status"] == "ready"  # type: ignore[index]


async def test_back_to_clicked_twice_keeps_the_restored_text(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(Reply(text="Keep this one."), Reply(text="Not this one."))
    draft_id, _ = await start_draft(bot, fake_slack)
    second = await refine(bot, fake_slack, lambda url: button("regenerate", draft_id, url))
    back = version_controls(second)["draft_restore"]
    url = fake_slack.new_response_url()
    await bot.interact(click("restore", back["value"], url))  # a double click, or
    await bot.interact(click("restore", back["value"], url))  # Slack sending it again
    first, again = await replies(fake_slack, url, 2)
    assert first["blocks"][0]["text"] == again["blocks"][0]["text"] == "Keep this one."
    assert label_of(first) == label_of(again) == "v3 · restored v1"
    assert [(n, text) for n, _, text in texts(bot, draft_id)] == [
        (1, "Keep this one."),
        (2, "Not this one."),
        (3, "Keep this one."),
    ]
    assert bot.services.store.get_draft(draft_id)["text"] == "Keep this one."  # type: ignore[index]


async def test_a_menu_choice_sent_twice_or_of_the_same_text_adds_no_version(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(Reply(text="One."), Reply(text="Two."), Reply(text="Three."))
    draft_id, _ = await start_draft(bot, fake_slack)
    await refine(bot, fake_slack, lambda url: button("shorter", draft_id, url))
    third = await refine(bot, fake_slack, lambda url: button("longer", draft_id, url))
    menu = version_controls(third)["draft_restore"]
    url = fake_slack.new_response_url()
    await bot.interact(select("restore", menu["options"][1]["value"], url))  # v1
    await bot.interact(select("restore", menu["options"][1]["value"], url))  # again
    restored, again = await replies(fake_slack, url, 2)
    assert label_of(restored) == label_of(again) == "v4 · restored v1"
    fourth_menu = version_controls(restored)["draft_restore"]
    v1 = [o["value"] for o in fourth_menu["options"] if o["text"]["text"].startswith("v1 ")]
    await bot.interact(select("restore", v1[0], url))  # v1's text is the one shown already
    [*_, same] = await replies(fake_slack, url, 3)
    assert label_of(same) == "v4 · restored v1" and same["blocks"][0]["text"] == "One."
    assert [n for n, _, _ in texts(bot, draft_id)] == [1, 2, 3, 4]
    assert bot.services.store.get_draft(draft_id)["status"] == "ready"  # type: ignore[index]


async def test_old_buttons_with_the_draft_id_alone_still_work(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(Reply(text="Old one."), Reply(text="New one."))
    draft_id, _ = await start_draft(bot, fake_slack)
    await refine(bot, fake_slack, lambda url: button("shorter", draft_id, url))
    url = fake_slack.new_response_url()
    await bot.interact(click("changes", draft_id, url))  # buttons made before this release
    assert (await opened_view(fake_slack))["title"]["text"] == "Changes in v2"
    await bot.interact(click("restore", draft_id, url))
    [restored] = await replies(fake_slack, url)
    assert label_of(restored) == "v3 · restored v1"
    assert restored["blocks"][0]["text"] == "Old one."


# ------------------------------------------------------------------ kept, bounded, purged


async def test_a_restart_keeps_the_versions(
    bot: RunningBot, settings: Settings, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(Reply(text="Before the restart."), Reply(text="Also kept."))
    draft_id, _ = await start_draft(bot, fake_slack)
    await refine(bot, fake_slack, lambda url: button("shorter", draft_id, url))
    restarted = build_services(settings, FAST_RETRIES)  # a new process on the same database
    try:
        stored = restarted.sessions.load(draft_id, "U0001")
        assert stored.versions == (VersionTag(1, "draft"), VersionTag(2, "shorter"))
        first = restarted.store.draft_version(draft_id, 1)
        assert first is not None and first["text"] == "Before the restart."
    finally:
        await restarted.aclose()


def test_a_draft_keeps_its_newest_versions_only(store: Storage) -> None:
    save(store, "d1", text="v1 text")
    for number in range(2, MAX_VERSIONS + 6):
        tags = store.add_draft_version(
            "d1", f"v{number} text", "shorter", stop_reason="end_turn", keep=MAX_VERSIONS
        )
    assert [tag["version"] for tag in tags] == list(range(6, MAX_VERSIONS + 6))
    assert store.draft_version("d1", 1) is None and store.draft_version("d1", 5) is None
    latest = store.draft_version("d1", MAX_VERSIONS + 5)
    assert latest is not None and latest["text"] == f"v{MAX_VERSIONS + 5} text"
    assert store.get_draft("d1")["text"] == latest["text"]  # type: ignore[index]
    with pytest.raises(LookupError):
        store.add_draft_version("gone", "text", "shorter", stop_reason="end_turn", keep=5)


def test_purge_removes_the_versions_with_their_draft(store: Storage, database_url: str) -> None:
    save(store, "old", age_days=8, text="old v1")
    save(store, "new", text="new v1")
    for draft_id in ("old", "new"):
        store.add_draft_version(draft_id, "v2", "shorter", stop_reason="end_turn", keep=20)
    execute(database_url, f"update drafts set updated_at = '{days_ago(8)}' where id = 'old'")
    assert purge(store, 7) == 1
    assert store.draft_version_tags("old") == []
    assert [tag["version"] for tag in store.draft_version_tags("new")] == [1, 2]


def test_purged_versions_are_gone_from_the_sqlite_file_and_the_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "draftbot.db"
    store = open_store(f"sqlite:///{path}")
    assert isinstance(store, Store)
    first, second, kept = marker("FIRST"), marker("SECOND"), marker("KEPT")
    save(store, "old", text=f"Hi Alex, {first}")
    store.add_draft_version("old", f"Hi, {second}", "shorter", stop_reason="end_turn", keep=20)
    save(store, "new", text="Dear Sam")
    store.add_draft_version("new", f"Sam, {kept}", "shorter", stop_reason="end_turn", keep=20)
    take_snapshot(path, tmp_path / "snapshot.db")  # `draftbot datasette` shows no version text
    assert kept.encode() not in (tmp_path / "snapshot.db").read_bytes()

    store.db.execute("update drafts set updated_at = ? where id = 'old'", [days_ago(8)])
    assert purge(store, 7) == 1
    assert found([first, second], sqlite_files(path)) == {}
    assert kept.encode() in sqlite_files(path)["draftbot.db"]
    store.close()
