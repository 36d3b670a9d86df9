"""`/draft admin access`: the access rules in force in a form, for admins (who is one is
decided by `handlers.admin` before anything here runs), and the form's submission: each
rule changed is stored as an override (bot/access_overrides.py) and audited."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError

from bot import wording
from bot.access_overrides import parse_override, rule_texts, rules_in_force, save_overrides
from bot.slack_ids import USER_GROUP_ID
from bot.storage.offloop import off_loop, write_off_loop
from handlers.blocks.admin_modals import access_form, submitted_access
from handlers.blocks.message import notice
from handlers.blocks.modals import metadata
from handlers.blocks.text import plain
from handlers.flows import Flows
from handlers.presets import admin_submitting, changes_summary
from handlers.replies import Reply

log = logging.getLogger(__name__)


async def open_access_form(flows: Flows, command: dict[str, Any], reply: Reply) -> None:
    services = flows.services
    base = services.settings.access
    try:
        rows = await off_loop(services.store.access_overrides)
    except Exception as error:
        await reply.show(flows.failure_message(error, "reading the access overrides"))
        return
    form = access_form(rules_in_force(base, rows), rule_texts(base), command.get("response_url"))
    await flows.open_form(command["trigger_id"], form, reply)


async def on_access_form(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], flows: Flows
) -> None:
    user_id = body["user"]["id"]
    if not await admin_submitting(flows, user_id, ack, "allowed_groups"):
        return
    texts, group_words = submitted_access(view)
    groups, problem = await _group_ids(flows, group_words)
    errors: dict[str, str] = {}
    if problem:
        errors["allowed_groups"] = problem
    texts["allowed_users"] = ",".join(filter(None, [texts["allowed_users"], *groups]))
    values: dict[str, str | None] = {}
    for rule, text in texts.items():
        value, problems = parse_override(rule, text)
        if problems:
            errors["allowed_groups" if rule == "allowed_users" else rule] = " ".join(problems)
        values[rule] = value
    if errors:
        await ack(response_action="errors", errors={k: plain(v) for k, v in errors.items()})
        return
    services = flows.services
    base = services.settings.access
    try:
        changes = await write_off_loop(
            partial(save_overrides, services.store, base, values, user_id)
        )
    except Exception as error:
        problem = flows.failure_message(error, "saving the access rules").text
        await ack(response_action="errors", errors={"allowed_groups": plain(problem)})
        return
    await ack()
    services.access_rules.forget()
    log.info("access rules saved by=%s changes=%d", user_id, len(changes))
    text = wording.ACCESS_SAVED.format(summary=changes_summary(changes))
    await flows.private_reply(metadata(view).get("response_url"), user_id).show(notice(text))


async def _group_ids(flows: Flows, words: list[str]) -> tuple[list[str], str | None]:
    """The user groups' ids, @handles looked up in Slack (usergroups.list); and a problem."""
    ids = [word for word in words if USER_GROUP_ID.fullmatch(word)]
    handles = [word.lstrip("@").lower() for word in words if word not in ids]
    if not handles:
        return ids, None
    try:
        response = await flows.client.usergroups_list()
    except SlackApiError as error:
        code = str(error.response.get("error"))
        return ids, wording.ACCESS_GROUPS_UNREADABLE.format(error=code)
    except Exception as error:
        return ids, wording.ACCESS_GROUPS_UNREADABLE.format(error=type(error).__name__)
    known = {
        str(group.get("handle", "")).lower(): str(group["id"])
        for group in response.get("usergroups") or []
        if isinstance(group, dict) and group.get("id")
    }
    for handle in handles:
        if handle not in known:
            return ids, wording.ACCESS_UNKNOWN_GROUP.format(handle=f"@{handle}")
        ids.append(known[handle])
    return ids, None
