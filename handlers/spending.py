"""`/draft usage` for everyone; `/draft report` and `/draft budget` for admins."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import wording
from bot.budgets import BudgetStatus
from bot.drafting import over_budget_message
from bot.pricing import parse_usd
from bot.report_delivery import build_usage_reports, send_report_files
from bot.report_formats import summary_blocks, summary_text
from bot.reports import PERIOD_NAMES, named_period
from bot.services import Services
from handlers import render

log = logging.getLogger(__name__)

_USER_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^([UW][A-Z0-9]{2,})$")


@dataclass(frozen=True)
class Subcommand:
    name: str  # usage, report, budget
    args: tuple[str, ...]


def parse_subcommand(text: str) -> Subcommand | None:
    """Only exact forms count, so `/draft report on Q3 sales` still drafts a report."""
    words = text.split()
    if not words:
        return None
    name, args = words[0].lower(), tuple(words[1:])
    if name == "usage" and not args:
        return Subcommand("usage", ())
    if name == "report" and (not args or (len(args) == 1 and args[0].lower() in PERIOD_NAMES)):
        return Subcommand("report", tuple(arg.lower() for arg in args))
    if name == "budget" and (not args or _USER_MENTION.match(args[0])):
        return Subcommand("budget", args)
    return None


async def handle_subcommand(
    sub: Subcommand,
    services: Services,
    ack: AsyncAck,
    command: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
) -> None:
    if sub.name == "usage":
        await ack(**render.usage_message(services.budgets.status(command["user_id"])))
        return
    await ack(text=wording.REPORT_WORKING if sub.name == "report" else "…")
    user_id = command["user_id"]
    if not await services.people.is_admin(user_id):
        log.info("refused admin command %s for non-admin user=%s", sub.name, user_id)
        await respond(
            replace_original=True,
            text=wording.ADMINS_ONLY.format(
                command=services.settings.command,
                subcommand=sub.name,
                admins=render.admin_contact(services.settings.admin_user_ids),
            ),
        )
        return
    if sub.name == "report":
        await _report(services, sub, user_id, respond, client)
    else:
        await _budget(services, sub, user_id, respond)


async def _report(
    services: Services,
    sub: Subcommand,
    user_id: str,
    respond: AsyncRespond,
    client: AsyncWebClient,
) -> None:
    period = named_period(sub.args[0] if sub.args else "this-month")
    try:
        reports = await build_usage_reports(
            services.store, services.prices, services.people, period
        )
    except Exception:
        log.exception("could not build the usage report for user=%s", user_id)
        await respond(replace_original=True, text=wording.UNEXPECTED)
        return
    blocks = summary_blocks(reports.by_user, reports.by_kind)
    try:
        await send_report_files(client, user_id, reports)
        note = wording.REPORT_FILES_SENT
    except SlackApiError as error:
        log.warning(
            "could not send report files to user=%s: %s", user_id, error.response.get("error")
        )
        note = wording.REPORT_FILES_FAILED.format(error=error.response.get("error"))
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
    await respond(replace_original=True, text=summary_text(reports.by_user), blocks=blocks)


async def _budget(
    services: Services, sub: Subcommand, admin_id: str, respond: AsyncRespond
) -> None:
    command = services.settings.command
    match = _USER_MENTION.match(sub.args[0]) if sub.args else None
    if match is None or len(sub.args) != 2:
        await respond(replace_original=True, text=wording.BUDGET_USAGE.format(command=command))
        return
    target = match.group(1) or match.group(2)
    amount_text = sub.args[1].removeprefix("$").lower()
    budgets = services.budgets
    if amount_text in ("none", "default", "off"):
        services.store.remove_budget(target)
        default = budgets.status(target).limit
        text = wording.BUDGET_REMOVED.format(
            user=f"<@{target}>", default=default.display() if default else "no limit"
        )
        log.info("budget override removed user=%s by=%s", target, admin_id)
    else:
        amount = parse_usd(amount_text)
        if amount is None:
            await respond(replace_original=True, text=wording.BUDGET_USAGE.format(command=command))
            return
        budgets.set_limit(target, amount, set_by=admin_id)
        status = budgets.status(target)
        text = wording.BUDGET_SET.format(
            user=f"<@{target}>",
            limit=status.limit.display() if status.limit else "-",
            spent=status.spent.display(),
            month=status.month.start.strftime("%B"),
        )
        log.info("budget set user=%s usd=%s by=%s", target, amount, admin_id)
    await respond(replace_original=True, text=text)


def over_budget_text(services: Services, status: BudgetStatus) -> str:
    """The over-budget message, naming the admins to ask."""
    return over_budget_message(
        status, admins=render.admin_contact(services.settings.admin_user_ids)
    )
