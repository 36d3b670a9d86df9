"""Who may use Draftbot, and where (DRAFTBOT_ALLOWED_USERS, DRAFTBOT_ALLOWED_CHANNELS,
DRAFTBOT_BLOCKED_CHANNELS, DRAFTBOT_DMS, DRAFTBOT_GUESTS), through the real server and the
fakes: every rule on the slash command, the Summarize thread shortcut, the Messages tab and
a preview button, each refused in one sentence naming the admins, with no model call, and
counted in the report without any request text."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot import wording
from bot.config import ConfigError, load_settings
from bot.outcomes import OUTCOME_COLUMNS
from bot.report_formats import CSV_COLUMNS, to_csv, to_json, to_table
from bot.reports import build_report, named_period
from bot.services import build_services
from handlers.app import build_slack_app, build_web_app, check_access_at_start
from tests import sample_files
from tests.conftest import FAST_RETRIES, RunningBot
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.slack import FakeSlack
from tests.test_doctor import doctor
from tests.test_files_slack import file_shortcut
from tests.test_previews import button, draft_id_of, view_submission
from tests.test_summaries import seed_thread, shortcut

ADMINS = "<@UADMIN1>"  # ADMIN_USER_IDS in tests/conftest.py
DM = "D0ALEX"
REQUEST = "email to Dana about the Q3 invoice"


@asynccontextmanager
async def draftbot(
    env: dict[str, str], fake_slack: FakeSlack, **rules: str
) -> AsyncIterator[RunningBot]:
    """Draftbot restarted with `rules` added to its settings, on the same database."""
    services = build_services(load_settings({**env, **rules}), FAST_RETRIES)
    runner = web.AppRunner(build_web_app(build_slack_app(services), services))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{runner.addresses[0][1]}"
            yield RunningBot(url, services, fake_slack, session)
    finally:
        await runner.cleanup()
        await services.aclose()


@dataclass(frozen=True)
class Rule:
    name: str
    settings: dict[str, str]
    user: str
    channel: str  # where the person asks
    reason: str  # the usage row's `error`
    sentence: str


def _sentence(template: str) -> str:
    return template.format(admins=ADMINS, command="/draft")


RULES = [
    Rule(
        "allowed users",
        {"DRAFTBOT_ALLOWED_USERS": "U0YES"},
        "U0001",
        "C0001",
        "not allowed",
        _sentence(wording.REFUSED_NOT_ALLOWED),
    ),
    Rule(
        "user group",
        {"DRAFTBOT_ALLOWED_USERS": "U0YES,S0PILOT"},
        "U0001",
        "C0001",
        "not allowed",
        _sentence(wording.REFUSED_NOT_ALLOWED),
    ),
    Rule(
        "blocked channel",
        {"DRAFTBOT_BLOCKED_CHANNELS": "C0001"},
        "U0001",
        "C0001",
        "channel",
        _sentence(wording.REFUSED_CHANNEL),
    ),
    Rule(
        "allowed channels",
        {"DRAFTBOT_ALLOWED_CHANNELS": "C0SUPPORT"},
        "U0001",
        "C0001",
        "channel",
        _sentence(wording.REFUSED_CHANNEL),
    ),
    Rule("dms off", {"DRAFTBOT_DMS": "off"}, "U0001", DM, "dms", _sentence(wording.REFUSED_DMS)),
    Rule(
        "guest",
        {"DRAFTBOT_GUESTS": ""},  # the default: off
        "U0GUEST",
        "C0001",
        "guest",
        _sentence(wording.REFUSED_GUEST),
    ),
    Rule(
        "slack connect",
        {"DRAFTBOT_GUESTS": "off"},
        "U0EXT",
        "C0001",
        "guest",
        _sentence(wording.REFUSED_GUEST),
    ),
]
SURFACES = ["slash", "shortcut", "messages tab", "button"]
CASES = [
    pytest.param(rule, surface, id=f"{rule.name}-{surface}")
    for rule in RULES
    for surface in SURFACES
    # The Messages tab is a direct message: the channel lists don't apply there (DMS does).
    if not (surface == "messages tab" and rule.reason == "channel")
]


def people(fake_slack: FakeSlack) -> None:
    fake_slack.add_user("U0001", "alex", real_name="Alex Chen")
    fake_slack.add_user("UADMIN1", "admin", real_name="Ada Admin")
    fake_slack.add_user("U0YES", "yes", real_name="Yasmin Es")
    fake_slack.add_user("U0PILOT", "pilot", real_name="Pat Pilot")
    fake_slack.add_user("U0GUEST", "guest", real_name="Gus Guest", guest="multi")
    fake_slack.add_user("U0EXT", "ext", real_name="Ext Ernal", team_id="T0OTHER")
    fake_slack.add_usergroup("S0PILOT", ["U0PILOT"])


def dm_event(user: str, text: str, ts: str = "1700000001.000100") -> dict[str, Any]:
    return {
        "type": "message",
        "channel": DM,
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": ts,
        "team": "T0001",
    }


async def said(fake_slack: FakeSlack, sentence: str, url: str | None = None) -> str:
    """Wait until Slack shows `sentence` (at `url`, or in a direct message); the message."""

    def shown() -> list[str]:
        if url is not None:
            found = [json.dumps(r, ensure_ascii=False) for r in fake_slack.responses(url)]
        else:
            found = [
                json.dumps(c.args, ensure_ascii=False)
                for c in fake_slack.calls_to("chat.postMessage")
            ]
        return [text for text in found if sentence in text]

    assert await asyncio.to_thread(fake_slack.wait_for, lambda _: bool(shown()), 10.0), sentence
    return shown()[0]


async def make_draft(open_bot: RunningBot, fake_slack: FakeSlack, user: str, channel: str) -> str:
    """A draft made before the rule was set (by the same person, where they now ask)."""
    reply = await open_bot.slash(REQUEST, user_id=user, channel_id=channel)
    [preview] = await asyncio.to_thread(fake_slack.wait_for_responses, reply.response_url, 1, 10.0)
    return draft_id_of(preview)


@pytest.mark.parametrize(("rule", "surface"), CASES)
async def test_each_rule_refuses_on_each_surface_with_no_model_call(
    rule: Rule,
    surface: str,
    bot: RunningBot,
    env: dict[str, str],
    fake_slack: FakeSlack,
    fake_anthropic: FakeAnthropic,
) -> None:
    people(fake_slack)
    seed_thread(fake_slack, channel=rule.channel)
    draft_id = ""
    if surface == "button":
        draft_id = await make_draft(bot, fake_slack, rule.user, rule.channel)
    before = len(fake_anthropic.message_requests())
    async with draftbot(env, fake_slack, **rule.settings) as ruled:
        url: str | None = fake_slack.new_response_url()
        if surface == "slash":
            await ruled.slash(REQUEST, user_id=rule.user, channel_id=rule.channel, response_url=url)
        elif surface == "shortcut":
            payload = shortcut(str(url), channel=rule.channel)
            payload["user"] = {"id": rule.user, "name": "someone"}
            await ruled.interact(payload)
        elif surface == "messages tab":
            url = None
            assert await ruled.event(dm_event(rule.user, REQUEST)) == 200
        else:
            payload = button("shorter", draft_id, str(url), user=rule.user)
            await ruled.interact(payload)
        shown = await said(fake_slack, rule.sentence, url)
        await asyncio.sleep(0.2)  # nothing else follows
        refused = ruled.usage_rows(status="refused")
    assert len(fake_anthropic.message_requests()) == before, "no model call"
    assert ADMINS in shown  # names who to ask
    if surface == "messages tab":
        assert fake_slack.calls_to("chat.startStream") == []  # never "Drafting…" at all
    if surface == "button":
        assert draft_id in shown  # the draft stays on screen, with its buttons
        assert bot.services.store.get_draft(draft_id)["status"] == "ready"  # type: ignore[index]
    [row] = refused
    assert (row["user_id"], row["error"], row["status"]) == (rule.user, rule.reason, "refused")
    assert row["input_tokens"] == row["output_tokens"] == row["cost_nano_usd"] == 0
    assert REQUEST not in json.dumps(row) and "Q3" not in json.dumps(row)


async def test_post_is_refused_too_and_nothing_reaches_the_channel(
    bot: RunningBot, env: dict[str, str], fake_slack: FakeSlack
) -> None:
    people(fake_slack)
    draft_id = await make_draft(bot, fake_slack, "U0001", "C0001")
    async with draftbot(env, fake_slack, DRAFTBOT_BLOCKED_CHANNELS="C0001") as ruled:
        url = fake_slack.new_response_url()
        await ruled.interact(button("post", draft_id, url))
        await said(fake_slack, _sentence(wording.REFUSED_CHANNEL), url)
        [row] = ruled.usage_rows(status="refused")
    assert (row["source"], row["error"]) == ("post", "channel")
    assert fake_slack.messages("C0001") == []
    assert bot.services.store.get_draft(draft_id)["status"] == "ready"  # type: ignore[index]


async def test_the_people_the_rules_allow_still_draft(
    bot: RunningBot, env: dict[str, str], fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    people(fake_slack)
    rules = {
        "DRAFTBOT_ALLOWED_USERS": "U0YES,S0PILOT",
        "DRAFTBOT_ALLOWED_CHANNELS": "C0001",
        "DRAFTBOT_GUESTS": "off",
    }
    async with draftbot(env, fake_slack, **rules) as ruled:
        for user in ("U0YES", "U0PILOT", "UADMIN1"):  # listed, in the group, an admin
            reply = await ruled.slash(REQUEST, user_id=user, channel_id="C0001")
            [preview] = await asyncio.to_thread(
                fake_slack.wait_for_responses, reply.response_url, 1, 10.0
            )
            assert preview["blocks"][-1]["type"] == "actions", user
        assert ruled.usage_rows(status="refused") == []
    assert len(fake_anthropic.message_requests()) == 3


async def test_group_membership_is_cached_and_fails_closed(
    env: dict[str, str], fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    people(fake_slack)
    async with draftbot(env, fake_slack, DRAFTBOT_ALLOWED_USERS="S0PILOT") as ruled:
        urls = []
        for _ in range(3):
            urls.append((await ruled.slash(REQUEST, user_id="U0PILOT")).response_url)
        for url in urls:
            await asyncio.to_thread(fake_slack.wait_for_responses, url, 1, 10.0)
        assert len(fake_slack.calls_to("usergroups.users.list")) == 1
        assert len(fake_anthropic.message_requests()) == 3

    # A new instance, and Slack failing: nobody in the group gets through.
    fake_slack.fail("usergroups.users.list", "internal_error", times=5)
    async with draftbot(env, fake_slack, DRAFTBOT_ALLOWED_USERS="S0PILOT,U0YES") as ruled:
        url = (await ruled.slash(REQUEST, user_id="U0PILOT")).response_url
        await said(fake_slack, _sentence(wording.REFUSED_UNCHECKED), url)
        # Listed by member ID: no need to ask Slack.
        url = (await ruled.slash(REQUEST, user_id="U0YES")).response_url
        await asyncio.to_thread(fake_slack.wait_for_responses, url, 1, 10.0)
        [row] = ruled.usage_rows(status="refused")
        assert (row["user_id"], row["error"]) == ("U0PILOT", "unchecked")
    assert len(fake_anthropic.message_requests()) == 4


async def test_a_plan_without_user_groups_refuses_their_members_in_plain_words(
    env: dict[str, str], fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    people(fake_slack)
    fake_slack.usergroups_need_plan_upgrade = True
    async with draftbot(env, fake_slack, DRAFTBOT_ALLOWED_USERS="S0PILOT") as ruled:
        url = (await ruled.slash(REQUEST, user_id="U0PILOT")).response_url
        shown = await said(fake_slack, _sentence(wording.REFUSED_UNCHECKED), url)
    assert "plan_upgrade_required" not in shown
    assert fake_anthropic.message_requests() == []


async def test_the_form_is_not_opened_for_someone_refused_and_its_submission_is_refused(
    bot: RunningBot, env: dict[str, str], fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    people(fake_slack)
    async with draftbot(env, fake_slack, DRAFTBOT_ALLOWED_USERS="U0YES") as ruled:
        reply = await ruled.slash("", user_id="U0001")
        await said(fake_slack, _sentence(wording.REFUSED_NOT_ALLOWED), reply.response_url)
        assert fake_slack.calls_to("views.open") == []
        # A form opened before (from the Home tab, say) is refused when sent.
        values = {
            "kind": {"value": {"selected_option": {"value": "email"}}},
            "details": {"value": {"value": "to Dana about the invoice"}},
        }
        meta = json.dumps({"response_url": reply.response_url, "channel_id": "C0001"})
        await ruled.interact(view_submission("draft_form", meta, values))
        await asyncio.to_thread(fake_slack.wait_for_responses, reply.response_url, 2, 10.0)
        assert len(ruled.usage_rows(status="refused")) == 2
    assert fake_anthropic.message_requests() == []


async def test_draft_from_this_file_is_refused_before_any_file_is_read(
    bot: RunningBot, env: dict[str, str], fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    people(fake_slack)
    pdf = fake_slack.add_file("contract.pdf", sample_files.pdf(["Term: 12 months"]))
    async with draftbot(env, fake_slack, DRAFTBOT_ALLOWED_USERS="U0YES") as ruled:
        url = fake_slack.new_response_url()
        await ruled.interact(file_shortcut(url, [pdf]))  # from U0001, not allowed
        await said(fake_slack, _sentence(wording.REFUSED_NOT_ALLOWED), url)
        assert fake_slack.calls_to("views.open") == []
        # A form opened before the rule was set is refused when sent, before any download.
        values = {
            "kind": {"value": {"selected_option": {"value": "email"}}},
            "details": {"value": {"value": "to Priya about the renewal term"}},
        }
        meta = json.dumps({"response_url": url, "channel_id": "C0001", "file_ids": [pdf["id"]]})
        await ruled.interact(view_submission("draft_form", meta, values))
        await asyncio.to_thread(fake_slack.wait_for_responses, url, 2, 10.0)
        assert len(ruled.usage_rows(status="refused")) == 2
    assert fake_slack.calls_to("files.info") == [] and fake_slack.file_downloads == []
    assert fake_anthropic.message_requests() == []


async def test_admin_commands_follow_the_admin_rules_not_the_allow_list(
    env: dict[str, str], fake_slack: FakeSlack
) -> None:
    people(fake_slack)
    async with draftbot(env, fake_slack, DRAFTBOT_ALLOWED_USERS="U0YES") as ruled:
        reply = await ruled.slash("usage", user_id="U0001")  # everyone's own figures
        assert "refused" not in json.dumps(reply.body).lower()
        assert ruled.usage_rows(status="refused") == []


async def test_refusals_are_counted_per_reason_in_the_report(
    bot: RunningBot, env: dict[str, str], fake_slack: FakeSlack
) -> None:
    people(fake_slack)
    await make_draft(bot, fake_slack, "U0YES", "C0001")  # one real draft
    rules = {"DRAFTBOT_ALLOWED_USERS": "U0YES", "DRAFTBOT_BLOCKED_CHANNELS": "C0BAD"}
    async with draftbot(env, fake_slack, **rules) as ruled:
        for user, channel, sentence in [
            ("U0001", "C0001", wording.REFUSED_NOT_ALLOWED),
            ("U0001", "C0001", wording.REFUSED_NOT_ALLOWED),
            ("U0YES", "C0BAD", wording.REFUSED_CHANNEL),
        ]:
            reply = await ruled.slash(REQUEST, user_id=user, channel_id=channel)
            await said(fake_slack, _sentence(sentence), reply.response_url)
        store, prices = ruled.services.store, ruled.services.prices
        report = build_report(store, prices, named_period("this-month"), "user")
    rows = {row.key: row for row in report.rows}
    assert (rows["U0001"].requests, rows["U0001"].failed, rows["U0001"].refused) == (0, 0, 2)
    assert (rows["U0YES"].requests, rows["U0YES"].refused_channel) == (1, 1)
    assert report.total.refused_by_reason() == {
        "not allowed": 2,
        "channel": 1,
        "dms": 0,
        "guest": 0,
        "unchecked": 0,
    }
    assert report.total.requests == 1 and report.total.failed == 0
    assert bot.services.budgets.status("U0001").drafts == 0  # budgets count drafts only

    table = to_table(report, width=100)
    assert max(len(line) for line in table.split("\n\n")[1].splitlines()) <= 100
    assert "Refused (no model call, nothing spent): 2 not allowed, 1 channel not allowed." in table
    assert "Refused" in to_table(report, wide=True).splitlines()[2]
    document = json.loads(to_json(report))
    assert document["total"]["refused"] == 3 and document["total"]["refused_not_allowed"] == 2
    assert list(document["total"])[-6:] == list(CSV_COLUMNS)[-6:]
    reasons = ("not_allowed", "channel", "dms", "guest", "unchecked")
    csv_head = to_csv(report).splitlines()[0].split(",")
    refused_columns = csv_head[-6 - len(OUTCOME_COLUMNS) : -len(OUTCOME_COLUMNS)]  # outcomes last
    assert refused_columns == ["refused", *(f"refused_{reason}" for reason in reasons)]


# draftbot doctor, and the check before serving


async def test_doctor_describes_the_rules_and_reads_the_user_groups(
    env: dict[str, str], fake_slack: FakeSlack
) -> None:
    people(fake_slack)
    rules = {
        "DRAFTBOT_ALLOWED_USERS": "U0YES,S0PILOT",
        "DRAFTBOT_BLOCKED_CHANNELS": "C0BAD",
        "DRAFTBOT_DMS": "off",
    }
    checks, _ = await doctor({**env, **rules})
    assert [name for name, check in checks.items() if not check.ok] == []
    access = checks["Who may use Draftbot"].detail
    assert "1 person and the members of S0PILOT (and the admins)" in access
    assert "never in C0BAD" in access and "not in direct messages" in access
    assert "Slack lists the members of S0PILOT" in checks["User groups"].detail


async def test_doctor_and_the_start_up_check_explain_a_plan_without_user_groups(
    env: dict[str, str], fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    fake_slack.usergroups_need_plan_upgrade = True
    checks, _ = await doctor({**env, "DRAFTBOT_ALLOWED_USERS": "U0YES,S0PILOT"})
    groups = checks["User groups"]
    assert not groups.ok
    assert "this Slack plan has no user groups" in groups.detail
    assert "List people by member ID, or upgrade the Slack plan" in groups.detail
    assert "only the people listed by member ID" in groups.fix

    settings = load_settings({**env, "DRAFTBOT_ALLOWED_USERS": "S0PILOT"})
    services = build_services(settings, FAST_RETRIES)
    try:
        with caplog.at_level(logging.WARNING, logger="handlers.app"):
            await check_access_at_start(services)
    finally:
        await services.aclose()
    assert wording.GROUPS_NEED_PLAN.format(groups="S0PILOT") in caplog.text


async def test_doctor_names_a_missing_usergroups_scope(
    env: dict[str, str], fake_slack: FakeSlack
) -> None:
    fake_slack.scopes = [scope for scope in fake_slack.scopes if scope != "usergroups:read"]
    checks, _ = await doctor({**env, "DRAFTBOT_ALLOWED_USERS": "S0PILOT"})
    assert "usergroups:read" in checks["User groups"].detail
    assert "user groups in DRAFTBOT_ALLOWED_USERS" in checks["Slack scopes"].detail


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("DRAFTBOT_ALLOWED_USERS", "U0YES,@sam", "member IDs (like U012AB3CD) or user-group IDs"),
        ("DRAFTBOT_ALLOWED_CHANNELS", "#support", "channel IDs separated by commas"),
        ("DRAFTBOT_BLOCKED_CHANNELS", "general", "not channel names"),
        ("DRAFTBOT_DMS", "no", "must be on or off (leave it unset for on)"),
        ("DRAFTBOT_GUESTS", "yes", "must be on or off (leave it unset for off)"),
    ],
)
def test_malformed_access_settings_are_named_in_plain_words(
    env: dict[str, str], name: str, value: str, words: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings({**env, name: value})
    [problem] = error.value.problems
    assert name in problem and words in problem
